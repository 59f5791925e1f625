"""The terminal table as a person sees it: the program on a pseudo-terminal of a given width.

Commands are pasted into a shell: a hard newline the renderer puts inside one runs half of it
(issue 15, item 1), so every command must come out whole on one line at any width. Status is
coloured on a terminal only, and `--no-color` / `NO_COLOR` (https://no-color.org) turn it off.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from testing.cli import run_cli

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "demo" / "incident.json"
LIMIT = 60.0
# SGR parameters that set a colour (foreground, background, 256/true colour), not bold or dim.
COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def on_a_terminal(args: Sequence[str], columns: int, env: dict[str, str] | None = None) -> tuple[int, str]:
    """`python -m triage ARGS` with stdout on a pty `columns` wide; its stdout as the terminal got it."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    full = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_") and k not in ("NO_COLOR", "COLUMNS")}
    full.update({"PYTHONPATH": str(REPO), "COLUMNS": str(columns), "TERM": "xterm-256color", **(env or {})})
    proc = subprocess.Popen([sys.executable, "-m", "triage", *args], stdout=slave, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, env=full, cwd=REPO)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + LIMIT
    try:
        while time.monotonic() < deadline:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        code = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return code, b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")


def _commands(command: str) -> list[str]:
    doc = json.loads(run_cli([command, "--from", str(DEMO), "-o", "json"]).stdout)
    steps = [s for phase in ("mitigations", "fixes") for s in doc.get(phase, []) if s.get("status") == "proposed"]
    found = [c for s in steps for c in s.get("commands", [])] + [s["verify"] for s in steps if s.get("verify")]
    assert found, f"{command} on the demo record proposes no command"
    return found


@pytest.mark.parametrize("columns", [60, 80, 160, 200])
@pytest.mark.parametrize("command", ["mitigate", "fix"])
def test_commands_come_out_whole_at_any_width(command, columns):
    code, text = on_a_terminal([command, "--from", str(DEMO), "-o", "table"], columns)
    assert code in (0, 1, 2), text
    lines = ANSI.sub("", text).splitlines()
    for cmd in _commands(command):
        for part in cmd.split("\n"):  # a multi-line command (a heredoc) is pasted line by line
            assert any(part.strip() in line for line in lines), f"cut at {columns} columns: {part!r}"


def test_status_is_coloured_on_a_terminal():
    code, text = on_a_terminal(["detect", "--from", str(DEMO), "-o", "table"], 120)
    assert code == 2, text
    assert re.search(r"\x1b\[1;31mCRITICAL\x1b\[0m", text), text
    assert re.search(r"\x1b\[32mok\s*\x1b\[0m", text), text
    assert re.search(r"\x1b\[1;31mcritical\x1b\[0m", text), text


@pytest.mark.parametrize(("flags", "env"), [(["--no-color"], {}), ([], {"NO_COLOR": "1"}),
                                            (["--no-color"], {"NO_COLOR": "1"})],
                         ids=["--no-color", "NO_COLOR", "both"])
def test_no_color_and_NO_COLOR_turn_colour_off(flags, env):
    for command in (["detect"], ["mitigate"], ["rca"]):
        code, text = on_a_terminal([*flags, *command, "--from", str(DEMO), "-o", "table"], 120, env)
        assert code in (0, 1, 2), text
        assert "CRITICAL" in text or "db_pool_exhaustion" in text
        assert not COLOUR.search(text), f"{command}: {COLOUR.search(text)!r}"


def test_an_empty_NO_COLOR_leaves_colour_on():
    """no-color.org: set *and not empty*."""
    _, text = on_a_terminal(["detect", "--from", str(DEMO), "-o", "table"], 120, {"NO_COLOR": ""})
    assert COLOUR.search(text)


def test_no_color_in_process_is_reset_for_the_next_run():
    assert run_cli(["--no-color", "detect", "--from", str(DEMO), "-o", "json"]).code == 2
    from triage.cli import console

    assert console.no_color() is True
    run_cli(["detect", "--from", str(DEMO), "-o", "json"], env={"NO_COLOR": ""})
    assert console.no_color() is False


def test_detect_table_says_what_each_number_is():
    """Issue 15 item 5: the table names the sustained level and the last value now, so a fault
    minutes old (sustained still near its baseline, now far above it) is not read as "ok"."""
    import json as _json

    demo = Path(__file__).resolve().parent.parent / "demo" / "incident.json"
    table = run_cli(["detect", "--from", str(demo), "-o", "table"], env={"COLUMNS": "200"})
    doc = _json.loads(run_cli(["detect", "--from", str(demo), "-o", "json"]).stdout)
    header = next(line for line in table.stdout.splitlines() if line.lstrip().startswith("signal"))
    assert header.split() == ["signal", "baseline", "sustained", "now", "change", "status"]
    assert "sustained: the highest level it held" in table.stdout and "now: its last points" in table.stdout
    signals = doc["services"][0]["signals"]
    latency = signals["latency_p95"] if isinstance(signals, dict) else next(
        s for s in signals if s["name"] == "latency_p95")
    row = next(line for line in table.stdout.splitlines() if line.lstrip().startswith("latency_p95"))
    assert latency["now"] is not None and row.count(" s") == 2 and "×" in row, row  # sustained and now


def test_rca_table_missing_list_is_the_jsons():
    """Issue 15 item 8: the table's "missing" list is JSON's `missing_signals`, word for word."""
    import json as _json

    demo = Path(__file__).resolve().parent.parent / "demo" / "incident.json"
    doc = _json.loads(run_cli(["rca", "--from", str(demo), "-o", "json"]).stdout)
    table = run_cli(["rca", "--from", str(demo), "-o", "table"], env={"COLUMNS": "200"}).stdout
    said = next(line for line in table.splitlines() if line.startswith("missing: "))
    assert said.removeprefix("missing: ").split(", ") == doc["missing_signals"]
