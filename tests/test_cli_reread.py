"""Issue 15's reread of every command's output, as an on-call reviewer at 80 and 200 columns: what the
reread struck, pinned (the terminal table, markdown and Slack renderers and the units they share).

The terminal runs are in-process with stdout a TTY of a given width (as Rich sees a pty: isatty and
COLUMNS), so the wrapping is the one a person sees.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import os
import re
from pathlib import Path

import pytest

from testing.cli import run_cli
from triage.models import Finding, HealthReport, Status
from triage.render.units import change_text, fmt

ROOT = Path(__file__).resolve().parent.parent
DEMO = str(ROOT / "demo" / "incident.json")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@contextlib.contextmanager
def _terminal(columns: int):
    saved = dict(os.environ)
    os.environ.update({"COLUMNS": str(columns), "NO_COLOR": "1"})
    out = _Tty()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            yield out
    finally:
        os.environ.clear()
        os.environ.update(saved)


def on_terminal(args: list[str], columns: int) -> str:
    from triage.cli import main

    with _terminal(columns) as out:
        with contextlib.suppress(SystemExit):
            main(args)
    return ANSI.sub("", out.getvalue())


# --- units -------------------------------------------------------------------------------------


def test_small_durations_keep_their_digits_and_counts_their_grammar():
    assert fmt(0.00213, "s") == "2.13 ms"  # the playbook's formula uses 0.00213: not "2 ms"
    assert fmt(0.000497, "s") == "0.497 ms"  # a baseline wait of half a millisecond is not "0 ms"
    assert fmt(0, "s") == "0 ms" and fmt(0.475, "s") == "475 ms" and fmt(6.83, "s") == "6.83 s"
    assert fmt(1, "pods") == "1 pod" and fmt(1, "requests") == "1 request" and fmt(1, "restarts") == "1 restart"
    assert fmt(0, "restarts") == "0 restarts" and fmt(149, "requests") == "149 requests"
    assert fmt(1, "s") == "1.00 s" and fmt(1, "req/s") == "1.0 req/s"


def test_a_change_is_shown_to_the_precision_it_is_read_at():
    assert change_text(3.113, 9.9, 30.7) == "×3.11"
    assert change_text(14.37, 0.475, 6.83) == "×14.4"
    assert change_text(149.0, 1, 149) == "×149"
    assert change_text(None, 0.0, 0.053) == "from 0"  # not a blank, which reads as "no data"
    assert change_text(None, 0.0, 0.0) == ""


# --- the terminal table at 80 and 200 columns ----------------------------------------------------


def _is_command(line: str) -> bool:
    # commands and PromQL are never wrapped: a narrow terminal folds them on screen, a copy is one line
    return line.startswith(("    $ ", "      ", "    success   "))


@pytest.mark.parametrize("columns", [80, 200])
@pytest.mark.parametrize("command", ["mitigate", "fix", "rca"])
def test_wrapped_lines_hang_under_their_text_and_keep_numbers_with_units(command, columns):
    text = on_terminal([command, "--from", DEMO], columns)
    lines = text.splitlines()
    assert len(lines) > 10
    for line in lines:
        assert len(line) <= columns or _is_command(line), line
        assert line == line.rstrip(), repr(line)  # no padding a copy would carry
    # a number is never on one line and its unit on the next
    assert not re.search(r"\d\n\s*(%|ms\b|s\b|req/s)", text), text
    if columns == 80:
        # inside a plan step or an evidence list, a continuation starts under the text, never at column 0
        block = False
        for line in lines:
            if re.match(r" *\d+\. |  - ", line):
                block = True
            elif not line or line.startswith(("missing:", "optional", "note:", "status:", "skipped", "capacity")):
                block = False
            elif block:
                assert line.startswith(" "), line


def test_the_success_metric_is_one_line_at_any_width():
    plan = json.loads(run_cli(["fix", "--from", DEMO, "-o", "json"]).stdout)
    metrics = {s["success_metric"] for s in plan["fixes"]}
    text = on_terminal(["fix", "--from", DEMO], 80)
    shown = [ln.split("success   ", 1)[1] for ln in text.splitlines() if ln.startswith("    success   ")]
    assert len(shown) == len(plan["fixes"]) and set(shown) == metrics
    assert max(len(m) for m in shown) > 80  # long enough that 80 columns would have wrapped it


def test_the_rca_head_keeps_each_label_with_its_value_at_80_columns():
    head = on_terminal(["rca", "--from", DEMO], 80).splitlines()[:2]
    assert not head[0].endswith("severity") and not head[1].startswith("P0"), head
    assert any("severity P0" in line for line in head), head


def test_detect_says_from_0_where_the_baseline_was_zero_and_rounds_changes():
    text = on_terminal(["detect", "--from", DEMO], 200)
    row = {ln.split()[0]: ln for ln in text.splitlines() if ln.startswith(("error_ratio", "inflight", "latency"))}
    assert "from 0" in row["error_ratio"]
    assert "×149 " in row["inflight"] + " " and "×149.00" not in row["inflight"]
    assert "1 request " in row["inflight"] and "1 requests" not in row["inflight"]


def test_queries_list_shows_no_seed_and_thresholds_in_the_signals_units():
    for args in (["queries", "list"], ["queries", "list", "-o", "markdown"]):
        text = run_cli(args).stdout
        assert not re.search(r"\bseeds?\b", text, re.I), text
        text = text.replace("\\_", "_")
        row = next(ln for ln in text.splitlines() if "error_ratio" in ln)
        assert "1.0 %" in row and "5.0 %" in row and "0.01" not in row
        lat = next(ln for ln in text.splitlines() if ln.lstrip("| ").startswith("latency_p95"))
        assert "500 ms" in lat
    narrow = on_terminal(["queries", "list"], 80)
    assert "applic\n" not in narrow and "ation" not in [ln.strip() for ln in narrow.splitlines()]
    assert all(len(ln) <= 80 for ln in narrow.splitlines())


def test_playbooks_show_names_its_action_and_cites_no_seed():
    table = run_cli(["playbooks", "show", "db_pool_exhaustion"]).stdout
    md = run_cli(["playbooks", "show", "db_pool_exhaustion", "-o", "markdown"]).stdout
    for text in (table, md):
        assert "{'kind'" not in text and not re.search(r"\bseeds?\b", text, re.I)
    assert "--apply   rollout_restart (asks first)" in table
    assert "- safe: `--apply` runs rollout\\_restart (it asks first)" in md


def test_health_names_are_not_folded_at_80_columns():
    from triage.cli import table

    report = HealthReport(findings=(Finding(
        kind="endpoint", name="http://127.0.0.1:18777/nothere", namespace=None, check="endpoint.http",
        status=Status.WARNING, reason="EndpointDown", detail="HTTP 404 in 12 ms: " + "<p>Error response</p> " * 8),))
    with _terminal(80) as out:
        table.health_table(report, Status.WARNING)
    assert "http://127.0.0.1:18777/nothere" in out.getvalue()
    # and the detail wraps without losing a character
    assert ANSI.sub("", out.getvalue()).count("Error response") == 8


def test_the_fleet_ranking_says_the_shared_reason_once(capsys):
    from triage.analysis.classify import fleet
    from triage.cli.table import OWN_SIGNALS, fleet_lines

    fleet_lines([{"service": "a", "bottleneck": "cpu_saturation", "score": 0.9, "severity": "P1", "why": OWN_SIGNALS},
                 {"service": "b", "bottleneck": "unknown", "score": 0.8, "severity": None, "why": OWN_SIGNALS},
                 {"service": "c", "bottleneck": "external_dependency", "score": 0.4, "severity": "P0",
                  "why": "slowed by its dependency a (a symptom)"}])
    out = capsys.readouterr().out
    assert out.count(OWN_SIGNALS) == 1
    assert f'"{OWN_SIGNALS}"' in inspect.getsource(fleet)  # the analysis' own words, matched exactly
    assert "  3. c: external_dependency, ranking score 0.40, P0 — slowed by its dependency a (a symptom)\n" in out
    assert "  1. a: cpu_saturation, ranking score 0.90, P1\n" in out


# --- markdown and Slack --------------------------------------------------------------------------


def test_rca_markdown_evidence_in_units_each_signal_once_and_the_json_missing_list():
    md = run_cli(["rca", "--from", DEMO, "-o", "markdown"]).stdout
    doc = json.loads(run_cli(["rca", "--from", DEMO, "-o", "json"]).stdout)
    assert "| db\\_pool\\_usage\\_ratio | 25.0 % | 100.0 % |" in md
    assert "| db\\_pool\\_wait\\_p95 | as above | as above |" in md
    assert "0.000497" not in md
    missing = next(ln for ln in md.splitlines() if ln.startswith("Missing signals: "))
    assert missing.split(": ", 1)[1].replace("\\_", "_").split(", ") == doc["missing_signals"]
    assert "\n\nMissing signals: " in md  # its own paragraph, not a lazy continuation of a list item


def test_slack_says_sustained_and_now_and_the_json_missing_list():
    detect = run_cli(["detect", "--from", DEMO, "-o", "slack"]).stdout
    assert "• `rps` 9.9 req/s → 30.7 req/s sustained, now 31.9 req/s (×3.11): ok" in detect
    rca = run_cli(["rca", "--from", DEMO, "-o", "slack"]).stdout
    doc = json.loads(run_cli(["rca", "--from", DEMO, "-o", "json"]).stdout)
    line = next(ln for ln in rca.splitlines() if ln.startswith("_missing signals_"))
    assert [m.strip("`") for m in line.split(": ", 1)[1].split(", ")] == doc["missing_signals"]


def test_the_fleet_ranking_in_markdown_says_the_shared_reason_once():
    from triage.render.markdown.rca import OWN_SIGNALS, shown_why

    assert shown_why({"why": OWN_SIGNALS}) == "" and shown_why({"why": "slowed by x (a symptom)"}) != ""


@pytest.mark.parametrize("command", ["detect", "rca"])
def test_detect_and_rca_lines_hang_at_80_columns(command):
    """The legend, "affected", "missing" and the verdict's sentence wrap under their own text, unpadded."""
    text = on_terminal([command, "--from", DEMO], 80)
    # (a table's cells are padded to their column, as Rich draws every table; the lines around it are not)
    assert all(len(ln) <= 80 for ln in text.splitlines()), text
    around = [ln for ln in text.splitlines() if ln.startswith(("Window", "baseline:", "affected:", "alert:", "  - "))]
    assert around and all(ln == ln.rstrip() for ln in around), around
    if command == "detect":
        affected = text.split("affected: ", 1)[1].splitlines()
        assert affected[1].startswith(" " * len("affected: ")), affected[:2]
