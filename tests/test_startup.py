"""Start-up off the slow paths (issue 17): the typer pin, no pydantic or rich where they are not
needed, the exit without teardown keeping every exit code and every byte, `--no-color` after the
command name. Speed itself is measured in bench/startup.py, as ratios to a floor."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from testing.cli import run_cli

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "demo" / "incident.json"
LIMIT = 60


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return env


def _requirement(name: str) -> Requirement:
    """The requirement of [project] dependencies (a quoted line of pyproject.toml; tomllib is 3.11+)."""
    text = (REPO / "pyproject.toml").read_text()
    block = text.split("\ndependencies = [", 1)[1].split("\n]", 1)[0]
    deps = re.findall(r'^\s*"([^"]+)",?\s*$', block, flags=re.M)
    return next(r for r in map(Requirement, deps) if r.name == name)


def test_the_typer_pin_leaves_out_the_pydantic_releases():
    spec = _requirement("typer").specifier
    assert "0.28.0" in spec and "0.12.0" in spec
    assert "0.29.0" not in spec and "0.29.2" not in spec


def test_the_installed_typer_is_under_the_pin():
    """Fails on a venv still holding typer 0.29 (`pip install -e .` brings the pinned one)."""
    installed = version("typer")
    assert _requirement("typer").specifier.contains(installed, prereleases=True), (
        f"typer {installed} installed; pyproject.toml asks {_requirement('typer')}")


def _modules_after(args: list[str], *, stdin_tty: bool = False) -> tuple[int, set[str]]:
    """Run the entry point in a fresh interpreter, stdout and stderr pipes; the top-level modules it imported."""
    code = ("import sys\nfrom triage.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    rc = e.code\n"
            "sys.__stderr__.write('\\nMODULES ' + ' '.join(sorted({m.split('.')[0] for m in sys.modules})) + "
            "' RC ' + str(rc) + '\\n')")
    env = _env()
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=LIMIT, stdin=subprocess.DEVNULL)
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("MODULES ")][-1].split()
    return int(line[-1]), set(line[1:-2])


def test_a_json_run_on_a_pipe_imports_neither_rich_nor_pydantic():
    # a real command line with values for its options, against a port nobody listens on
    code, modules = _modules_after(["rca", "--service", "checkout", "--namespace", "shop", "--at", "now",
                                    "--prometheus-url", "http://127.0.0.1:9", "-o", "json"])
    assert code == 3
    assert "rich" not in modules
    assert "pydantic" not in modules, "typer took its pydantic path (typer 0.29?)"


def test_help_imports_no_sdk_and_builds_only_what_it_shows():
    code, modules = _modules_after(["detect", "--help"])
    assert code == 0
    assert not modules & {"kubernetes", "docker", "prometheus_api_client", "jinja2", "rich", "pydantic", "starlette"}


def _entry(args: list[str], **kw) -> subprocess.CompletedProcess:
    env = _env()
    return subprocess.run([sys.executable, "-m", "triage", *args], capture_output=True, env=env, cwd=REPO,
                          timeout=LIMIT, stdin=subprocess.DEVNULL, **kw)


@pytest.mark.parametrize(("args", "code"), [(["--version"], 0), (["detect", "--from", str(DEMO), "-o", "json"], 2),
                                            (["no-such-command"], 3), (["detect", "--at"], 3)])
def test_the_process_exit_code_and_output_are_those_of_the_in_process_run(args, code):
    """The entry point leaves by os._exit after flushing: same code, same bytes as the in-process
    run (which leaves by SystemExit)."""
    proc = _entry(args)
    inproc = run_cli(args)
    assert proc.returncode == inproc.code == code
    assert proc.stdout.decode() == inproc.stdout
    assert proc.stderr.decode() == inproc.stderr


def test_a_large_output_reaches_a_pipe_whole():
    proc = _entry(["rca", "--from", str(DEMO), "-o", "json"])
    assert proc.returncode == 2
    assert proc.stdout.decode() == run_cli(["rca", "--from", str(DEMO), "-o", "json"]).stdout
    assert proc.stdout.endswith(b"}\n")


def test_a_reader_that_goes_away_gets_no_traceback():
    env = _env()
    proc = subprocess.run(f"'{sys.executable}' -m triage rca --from '{DEMO}' -o json | head -c 1 >/dev/null",
                          shell=True, capture_output=True, env=env, cwd=REPO, timeout=LIMIT)
    assert b"Traceback" not in proc.stderr


# ---- `--no-color` after the command name (issue 15's leftover) ------------------------------------

@pytest.mark.parametrize("command", [["detect"], ["rca"], ["mitigate"], ["fix"]])
def test_no_color_after_the_command_name_turns_colour_off_on_a_terminal(command):
    from tests.test_cli_table import COLOUR, on_a_terminal

    args = [*command, "--from", str(DEMO), "-o", "table"]
    _, coloured = on_a_terminal(args, 120)
    assert COLOUR.search(coloured), "the control: colour on a terminal without the flag"
    for placed in ([*args, "--no-color"], [*command, "--no-color", *args[len(command):]]):
        code, text = on_a_terminal(placed, 120)
        assert code in (0, 1, 2), text
        assert "No such option" not in text
        assert not COLOUR.search(text), f"{placed}: {COLOUR.search(text)!r}"


def test_no_color_is_taken_anywhere_before_a_double_dash():
    from triage.cli import _color_flag_first

    assert _color_flag_first(["detect", "-s", "a", "--no-color"]) == ["--no-color", "detect", "-s", "a"]
    assert _color_flag_first(["queries", "list", "--no-color"]) == ["--no-color", "queries", "list"]
    assert _color_flag_first(["--no-color", "detect"]) == ["--no-color", "detect"]
    assert _color_flag_first(["x", "--", "--no-color"]) == ["x", "--", "--no-color"]
    assert _color_flag_first(["detect"]) == ["detect"]


@pytest.mark.parametrize("command", ["health", "queries", "playbooks", "capacity", "postmortem", "demo", "serve",
                                     "completion", "detect"])
def test_every_command_accepts_no_color_after_its_name(command):
    result = run_cli([command, "--no-color", "--help"])
    assert result.code == 0, result.stderr
    assert f"Usage: triage {command}" in result.stdout


# ---- the root's help from the cache ------------------------------------------------------------

def _help_process(tmp_path: Path, args: list[str], columns: str = "120") -> subprocess.CompletedProcess:
    env = _env()
    env.update({"XDG_CACHE_HOME": str(tmp_path / "cache"), "COLUMNS": columns})
    return subprocess.run([sys.executable, "-X", "importtime", "-m", "triage", *args], capture_output=True,
                          env=env, cwd=REPO, timeout=LIMIT, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("args", [["--help"], ["-h"], []])
def test_the_root_help_is_the_same_rendered_or_cached(tmp_path, args):
    expected = run_cli(["--help"], env={"COLUMNS": "120"}).stdout
    first = _help_process(tmp_path, args)
    assert (tmp_path / "cache" / "triage" / "help.txt").is_file()
    second = _help_process(tmp_path, args)
    assert first.returncode == second.returncode == 0
    assert first.stdout.decode() == second.stdout.decode() == expected
    assert re.search(rb"\|\s+typer$", first.stderr, re.M), "the control: the first run renders with typer"
    assert b"typer" not in second.stderr, "the cached run imported typer"


def test_a_cache_made_of_other_files_is_not_shown(tmp_path):
    cached = tmp_path / "cache" / "triage" / "help.txt"
    cached.parent.mkdir(parents=True)
    cached.write_text("triage-help 0.0.0 another build\nUsage: stale\n")
    proc = _help_process(tmp_path, ["--help"])
    assert proc.stdout.decode() == run_cli(["--help"], env={"COLUMNS": "120"}).stdout
    assert "stale" not in cached.read_text()


def test_the_cache_key_follows_every_cli_file(tmp_path):
    from triage.cli import helpcache

    (tmp_path / "a.py").write_text("x = 1\n")
    before = helpcache.key(str(tmp_path))
    (tmp_path / "a.py").write_text("x = 22\n")
    assert helpcache.key(str(tmp_path)) != before
    (tmp_path / "b.py").write_text("")
    assert helpcache.key(str(tmp_path)) not in (before, None)


def test_a_narrow_terminal_gets_its_own_width_not_the_cache(tmp_path):
    _help_process(tmp_path, ["--help"])  # fills the cache at 120 columns
    narrow = _help_process(tmp_path, ["--help"], columns="60")
    assert narrow.stdout.decode() == run_cli(["--help"], env={"COLUMNS": "60"}).stdout
    assert narrow.stdout.decode() != run_cli(["--help"], env={"COLUMNS": "120"}).stdout


# ---- a command's help from the cache -----------------------------------------------------------

@pytest.mark.parametrize("args", [["rca", "--help"], ["queries", "-h"], ["detect", "-h"]])
def test_a_commands_help_is_the_same_rendered_or_cached(tmp_path, args):
    expected = run_cli(args, env={"COLUMNS": "120"}).stdout
    assert expected.startswith(f"Usage: triage {args[0]} ")
    first = _help_process(tmp_path, args)
    assert (tmp_path / "cache" / "triage" / f"help-{args[0]}.txt").is_file()
    second = _help_process(tmp_path, args)
    assert first.returncode == second.returncode == 0
    assert first.stdout.decode() == second.stdout.decode() == expected
    assert re.search(rb"\|\s+typer$", first.stderr, re.M), "the control: the first run renders with typer"
    assert b"typer" not in second.stderr, "the cached run imported typer"


def test_each_commands_help_has_its_own_cache_and_the_roots_is_apart(tmp_path):
    root = _help_process(tmp_path, ["--help"]).stdout.decode()
    rca = _help_process(tmp_path, ["rca", "--help"]).stdout.decode()
    health = _help_process(tmp_path, ["health", "--help"]).stdout.decode()
    assert _help_process(tmp_path, ["--help"]).stdout.decode() == root
    assert _help_process(tmp_path, ["rca", "-h"]).stdout.decode() == rca
    assert _help_process(tmp_path, ["health", "-h"]).stdout.decode() == health
    assert len({root, rca, health}) == 3
    assert rca.startswith("Usage: triage rca ") and health.startswith("Usage: triage health ")


def test_a_stale_command_cache_or_an_unknown_name_is_not_served(tmp_path):
    cached = tmp_path / "cache" / "triage" / "help-rca.txt"
    cached.parent.mkdir(parents=True)
    cached.write_text("triage-help 0.0.0 another build\nUsage: stale\n")
    proc = _help_process(tmp_path, ["rca", "--help"])
    assert proc.stdout.decode() == run_cli(["rca", "--help"], env={"COLUMNS": "120"}).stdout
    assert "stale" not in cached.read_text()
    unknown = _help_process(tmp_path, ["nosuchcommand", "--help"])
    assert unknown.returncode == run_cli(["nosuchcommand", "--help"]).code != 0
    assert not (tmp_path / "cache" / "triage" / "help-nosuchcommand.txt").exists()


def test_a_subcommands_help_and_extra_words_are_rendered_not_cached(tmp_path):
    for args in (["queries", "list", "--help"], ["rca", "--no-color", "--help"], ["rca", "--help", "-o", "json"]):
        proc = _help_process(tmp_path, args)
        assert proc.returncode == 0
        assert proc.stdout.decode() == run_cli(args, env={"COLUMNS": "120"}).stdout
        assert re.search(rb"\|\s+typer$", proc.stderr, re.M)
    assert not list((tmp_path / "cache" / "triage").glob("help-*.txt"))


def test_no_commands_help_depends_on_the_environment_or_the_directory(tmp_path):
    """What the cache rests on: a command's help is the same whatever the environment says
    (its env vars set, a config named, NO_COLOR) and wherever it runs."""
    from triage.cli import COMMANDS

    env = {"TRIAGE_DEBUG": "1", "TRIAGE_PROMETHEUS_URL": "http://127.0.0.1:1", "TRIAGE_ALERTMANAGER_URL":
           "http://127.0.0.1:2", "TRIAGE_CONFIG": str(tmp_path / "none.yaml"), "TRIAGE_SERVE_LISTEN": "127.0.0.1:3",
           "NO_COLOR": "1"}
    for command in COMMANDS:
        plain = run_cli([command, "--help"], env={"COLUMNS": "120"})
        other = run_cli([command, "-h"], env={"COLUMNS": "120", **env}, cwd=tmp_path)
        assert plain.code == other.code == 0, command
        assert plain.stdout == other.stdout and plain.stdout.startswith(f"Usage: triage {command} "), command


class _Empty(BaseHTTPRequestHandler):
    """A Prometheus that knows no series (keep-alive, as Prometheus is)."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        body = b'{"status":"success","data":{"resultType":"matrix","result":[]}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_plain_http_rca_imports_neither_http_client_nor_ssl():
    """Its GETs go over triage.sources.wire: http.client's email parser, ssl and socket stay out."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Empty)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        code, modules = _modules_after(["rca", "--service", "checkout", "--namespace", "shop", "--at", "now",
                                        "--prometheus-url", f"http://127.0.0.1:{server.server_address[1]}",
                                        "-o", "json"])
    finally:
        server.shutdown()
        server.server_close()
    assert code == 3   # no signal answered: unknown
    assert not modules & {"http", "email", "ssl", "socket", "requests", "urllib3"}


def test_nothing_reads_json_or_picks_a_backoff_before_the_first_request():
    """json (answers) and random (retry jitter) are imported when used, after the requests are out."""
    code = ("import sys\nfrom triage.cli import inputs\nfrom triage.sources import prometheus\n"
            "print('json' in sys.modules, 'random' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), cwd=REPO,
                         timeout=LIMIT)
    assert out.stdout.split() == ["False", "False"], out.stderr
