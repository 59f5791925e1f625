"""`triage rca ...` parsed without typer (triage/cli/fast.py, issue 17): its option table is the
typer command's, every line it parses gives the command what typer gives it, every line it does
not parse is left to typer, and a plain `rca -o json` imports neither typer nor click."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from testing.cli import run_cli
from triage.cli import console, fast
from triage.cli import errors as boundary

REPO = Path(__file__).resolve().parent.parent
URL = "http://127.0.0.1:9"  # nobody listens


def _rca_command():
    import typer.main

    from triage.cli.build import app_for

    group = typer.main.get_command(app_for(["rca"]))
    return group, group.commands["rca"]  # type: ignore[attr-defined]


def test_the_table_is_the_typer_commands_options():
    group, rca = _rca_command()
    options, flags, envvars, defaults = {}, {}, {}, {}
    for param in rca.params:
        assert not param.secondary_opts and param.nargs == 1 and not param.multiple and param.callback is None
        for opt in param.opts:
            (flags if param.is_flag else options)[opt] = param.name
        if param.envvar:
            envvars[param.name] = param.envvar
        defaults[param.name] = getattr(param.default, "value", param.default)
        if param.name == "output":
            assert tuple(param.type.choices) == fast.OUTPUTS
        if param.name == "max_concurrency":
            assert (param.type.min, param.type.max) == fast.MAX_CONCURRENCY
            assert not param.type.min_open and not param.type.max_open and not param.type.clamp
    assert options == fast.OPTIONS
    assert flags == fast.FLAGS
    assert envvars == fast.ENVVARS
    assert defaults == fast.DEFAULTS
    root = {opt: p.name for p in group.params if p.is_flag for opt in p.opts}
    assert all(root[flag] == name for flag, name in fast.ROOT_FLAGS.items())
    assert {p.name: p.envvar for p in group.params if p.envvar} == {"debug": "TRIAGE_DEBUG"}


PARSED = [
    ["rca", "--service", "checkout", "--namespace", "shop", "--at", "2026-11-10T20:01:00Z", "-o", "json",
     "--prometheus-url", URL],
    ["rca", "-s", "checkout", "-n", "shop", "-o", "markdown", "--window", "30m", "--baseline", "2h"],
    ["rca", "--service=checkout", "--at=-30m", "--output=slack", "--max-concurrency", "7"],
    ["rca", "--all-services", "--since", "now-2h", "--until", "now-1h", "--max-concurrency=64", "-o", "table"],
    ["rca", "--at", "-30m", "--service", "--all-services", "--config", "x.yaml", "--alertmanager-url", URL],
    ["rca", "--service", "--", "--from", "rec.json", "--max-concurrency", "01"],
    ["rca", "--service=", "--namespace", "-s"],
    ["--no-color", "rca", "--service", "checkout"],
    ["--debug", "--no-color", "--debug", "rca"],
    ["rca"],
]
LEFT_TO_TYPER = [
    ["rca", "--help"], ["rca", "-h"], ["rca", "-o", "JSON"], ["rca", "-o", "yaml"], ["rca", "-scheckout"],
    ["rca", "-s=checkout"], ["rca", "--service", "a", "--service", "b"], ["rca", "--service"], ["rca", "--", "x"],
    ["rca", "extra"], ["rca", "--all-services=yes"], ["rca", "--max-concurrency", "0"],
    ["rca", "--max-concurrency", "65"], ["rca", "--max-concurrency", " 4"], ["rca", "--max-concurrency", "+4"],
    ["rca", "--max-concurrency", "4_0"], ["rca", "--max-concurrency", "٤"], ["rca", "--servic", "x"],
    ["rca", "--debug"], ["--version", "rca"], ["-h", "rca"], ["detect", "--service", "x"], [], ["--no-color"],
]


def _typer_call(args: list[str], monkeypatch: pytest.MonkeyPatch) -> dict | None:
    """What typer hands `rca_run.run` (and the root's settings) for `args`; None when it refuses the line."""
    import triage.cli.rca as rca_module
    from triage.cli.build import app_for

    seen: dict = {}

    def fake(scope, backends, from_record, output):
        seen.update(scope=scope, backends=backends, from_record=from_record, output=output)
        return 0

    monkeypatch.setattr(rca_module, "run", fake)
    monkeypatch.setattr(boundary, "DEBUG", False)
    try:
        app_for(args)(args=list(args), prog_name="triage", standalone_mode=False)
    except Exception as exc:  # noqa: BLE001 - click's usage errors and typer's Exit
        if boundary._kind(exc) != "Exit":
            return None
    if not seen:
        return None
    seen.update(debug=boundary.DEBUG, no_color=console.no_color())
    return seen


def _fast_call(args: list[str], monkeypatch: pytest.MonkeyPatch) -> dict | None:
    import triage.cli.rca_run as rca_run

    call = fast.command(list(args))
    if call is None:
        return None
    seen: dict = {}

    def fake(scope, backends, from_record, output):
        seen.update(scope=scope, backends=backends, from_record=from_record, output=output)
        return 0

    monkeypatch.setattr(rca_run, "run", fake)
    monkeypatch.setattr(boundary, "DEBUG", False)
    assert call() == 0
    seen.update(debug=boundary.DEBUG, no_color=console.no_color())
    return seen


@pytest.fixture(autouse=True)
def _no_triage_env(monkeypatch: pytest.MonkeyPatch):
    for key in list(os.environ):
        if key.startswith("TRIAGE_") or key == "NO_COLOR":
            monkeypatch.delenv(key)
    yield
    console.set_no_color(False)


@pytest.mark.parametrize("args", PARSED, ids=" ".join)
def test_a_line_parsed_here_is_what_typer_hands_the_command(args, monkeypatch):
    mine = _fast_call(args, monkeypatch)
    assert mine is not None
    assert mine == _typer_call(args, monkeypatch)
    assert type(mine["output"]) is type(_typer_call(args, monkeypatch)["output"])


@pytest.mark.parametrize("args", LEFT_TO_TYPER, ids=lambda a: " ".join(a) or "(none)")
def test_any_other_line_is_left_to_typer(args):
    assert fast.command(list(args)) is None


@pytest.mark.parametrize(("env", "taken"), [
    ({"TRIAGE_PROMETHEUS_URL": URL, "TRIAGE_CONFIG": "c.yaml", "TRIAGE_ALERTMANAGER_URL": URL}, True),
    ({"TRIAGE_PROMETHEUS_URL": "", "TRIAGE_CONFIG": ""}, True),  # empty is unset, for click too
    ({"TRIAGE_DEBUG": "1"}, False),
    ({"TRIAGE_DEBUG": "maybe"}, False),  # typer refuses it
    ({"_TRIAGE_COMPLETE": "bash_complete"}, False),
])
def test_the_environment_as_typer_reads_it(env, taken, monkeypatch):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for args in (["rca", "-s", "checkout"], ["rca", "-s", "checkout", "--prometheus-url", "http://other:1"]):
        assert (fast.command(args) is not None) is taken
        if taken:
            assert _fast_call(args, monkeypatch) == _typer_call(args, monkeypatch)


def test_a_refused_line_says_what_it_said_before():
    fast_line = run_cli(["rca", "--service", "checkout", "--at", "now", "--prometheus-url", URL, "-o", "json"])
    typer_line = run_cli(["rca", "--service", "checkout", "--at", "now", "--prometheus-url", URL, "-o", "JSON"])
    assert fast_line.code == typer_line.code == 3
    assert (fast_line.stdout, fast_line.stderr) == (typer_line.stdout, typer_line.stderr)
    assert fast_line.stderr.startswith("triage: error: ")


def test_a_plain_rca_line_imports_neither_typer_nor_click():
    code = ("import sys\nfrom triage.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    rc = e.code\n"
            "sys.__stderr__.write('\\nMODULES ' + ' '.join(sorted({m.split('.')[0] for m in sys.modules})) + "
            "' RC ' + str(rc) + '\\n')")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-c", code, "rca", "--service", "checkout", "--namespace", "shop",
                           "--at", "now", "--prometheus-url", URL, "-o", "json"], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=60, stdin=subprocess.DEVNULL)
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("MODULES ")][-1].split()
    assert line[-1] == "3"
    assert not set(line[1:-2]) & {"typer", "click", "rich"}
