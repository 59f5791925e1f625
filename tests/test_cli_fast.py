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


def _typer_command(name: str):
    import typer.main

    from triage.cli.build import app_for

    group = typer.main.get_command(app_for([name]))
    return group, group.commands[name]  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(fast.TABLES))
def test_the_table_is_the_typer_commands_options(name):
    group, command = _typer_command(name)
    table = fast.TABLES[name]
    options, flags, envvars, defaults, choices, ints, floats, multiple = {}, {}, {}, {}, {}, {}, {}, set()
    for param in command.params:
        assert not param.secondary_opts and param.nargs == 1 and param.callback is None
        assert not param.is_eager and not getattr(param, "count", False)
        for opt in param.opts:
            (flags if param.is_flag else options)[opt] = param.name
        if param.is_flag:
            assert param.default is False  # given, it is True (the parses below hold it so)
        if param.multiple:
            multiple.add(param.name)
        if param.envvar:
            envvars[param.name] = param.envvar
        defaults[param.name] = getattr(param.default, "value", param.default)
        # a type fast.py converts as click does (a path, a file, a count would need more than this)
        kind = type(param.type).__name__
        assert kind in ("StringParamType", "BoolParamType", "TyperChoice", "Choice", "IntRange", "FloatRange"), kind
        if kind in ("TyperChoice", "Choice"):
            choices[param.name] = tuple(param.type.choices)
        if kind in ("IntRange", "FloatRange"):
            assert not param.type.min_open and not param.type.max_open and not param.type.clamp
            (ints if kind == "IntRange" else floats)[param.name] = (param.type.min, param.type.max)
    assert options == table.options
    assert flags == table.flags
    assert envvars == table.envvars
    assert defaults == table.defaults
    assert repr(defaults) == repr(table.defaults)  # 10.0, not 10
    assert choices == table.choices
    assert ints == table.ints
    assert floats == table.floats
    assert multiple == table.multiple
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
    # the bench's line and what on-call types
    ["health", "--no-docker", "-o", "json"],
    ["health", "-n", "shop", "--no-docker"],
    ["health", "-A", "-o", "markdown"],
    ["health", "--all-namespaces", "--no-kubernetes", "-o", "table", "--timeout", "5"],
    ["health", "-s", "checkout", "--url", "http://a", "--url=http://b", "--window", "30m", "--timeout=0.1"],
    ["health", "--service=checkout", "--context", "kind-x", "--config", "c.yaml", "--prometheus-url", URL,
     "--timeout", "600"],
    ["health", "--all-services", "--timeout", ".5", "--url", "--no-docker", "--output=json"],
    ["health", "--namespace=", "--context", "-A", "--timeout", "010.", "--window=", "--url", "x"],
    ["health", "--url", "", "--url", "--url", "--url", "-A", "--timeout", "0.10000000000000000001"],
    ["--no-color", "health", "-o", "json"],
    ["--debug", "health", "--no-docker", "--no-kubernetes"],
    ["health"],
]
LEFT_TO_TYPER = [
    ["rca", "--help"], ["rca", "-h"], ["rca", "-o", "JSON"], ["rca", "-o", "yaml"], ["rca", "-scheckout"],
    ["rca", "-s=checkout"], ["rca", "--service", "a", "--service", "b"], ["rca", "--service"], ["rca", "--", "x"],
    ["rca", "extra"], ["rca", "--all-services=yes"], ["rca", "--max-concurrency", "0"],
    ["rca", "--max-concurrency", "65"], ["rca", "--max-concurrency", " 4"], ["rca", "--max-concurrency", "+4"],
    ["rca", "--max-concurrency", "4_0"], ["rca", "--max-concurrency", "٤"], ["rca", "--servic", "x"],
    ["rca", "--debug"], ["--version", "rca"], ["-h", "rca"], ["detect", "--service", "x"], [], ["--no-color"],
    ["health", "--help"], ["health", "-h"], ["-h", "health"], ["health", "-o", "JSON"], ["health", "-o", "slack"],
    ["health", "-An", "shop"], ["health", "-nshop"], ["health", "-n=shop"], ["health", "-A", "-A"],
    ["health", "--no-docker", "--no-docker"], ["health", "-n", "a", "--namespace", "b"], ["health", "-n"],
    ["health", "--url"], ["health", "--url", "a", "--url"], ["health", "--no-docker=1"], ["health", "-A=1"],
    ["health", "--all-namespace"], ["health", "--no-k8s"], ["health", "extra"], ["health", "--", "-A"],
    ["health", "--max-concurrency", "4"], ["health", "--at", "now"], ["health", "--timeout", "0.05"],
    ["health", "--timeout", "0"], ["health", "--timeout", "601"], ["health", "--timeout", "600.0001"],
    ["health", "--timeout", "1e1"], ["health", "--timeout", "inf"], ["health", "--timeout", "nan"],
    ["health", "--timeout", " 5"], ["health", "--timeout", "+5"], ["health", "--timeout", "-1"],
    ["health", "--timeout", "."], ["health", "--timeout", ""], ["health", "--timeout", "1_0"],
    ["health", "--timeout", "1.2.3"], ["health", "--timeout", "٥"], ["health", "--timeout", "5", "--timeout", "6"],
    ["health", "--debug"], ["--version", "health"],
]
# where typer hands a command its options, and the module fast.py's call reaches it in
RUNS = {"rca": ("triage.cli.rca", "triage.cli.rca_run"), "health": ("triage.cli.health", "triage.cli.health_run")}


def _recorder(seen: dict):
    def fake(*args, **kwargs):
        seen.update(args=args, kwargs=kwargs)
        return 0

    return fake


def _typer_call(args: list[str], monkeypatch: pytest.MonkeyPatch) -> dict | None:
    """What typer hands the command's `run` (and the root's settings) for `args`; None when it refuses the line."""
    import importlib

    from triage.cli.build import app_for

    seen: dict = {}
    name = next(word for word in args if word in RUNS)
    monkeypatch.setattr(importlib.import_module(RUNS[name][0]), "run", _recorder(seen))
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
    import importlib

    call = fast.command(list(args))
    if call is None:
        return None
    seen: dict = {}
    name = next(word for word in args if word in RUNS)
    monkeypatch.setattr(importlib.import_module(RUNS[name][1]), "run", _recorder(seen))
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
    theirs = _typer_call(args, monkeypatch)
    assert mine == theirs
    assert repr(mine) == repr(theirs)  # the same types too: the output's enum, a float, a list


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
    for args in (["rca", "-s", "checkout"], ["rca", "-s", "checkout", "--prometheus-url", "http://other:1"],
                 ["health", "-o", "json"], ["health", "--config", "d.yaml", "--prometheus-url", "http://other:1"]):
        assert (fast.command(args) is not None) is taken
        if taken:
            assert _fast_call(args, monkeypatch) == _typer_call(args, monkeypatch)


def test_a_refused_line_says_what_it_said_before():
    fast_line = run_cli(["rca", "--service", "checkout", "--at", "now", "--prometheus-url", URL, "-o", "json"])
    typer_line = run_cli(["rca", "--service", "checkout", "--at", "now", "--prometheus-url", URL, "-o", "JSON"])
    assert fast_line.code == typer_line.code == 3
    assert (fast_line.stdout, fast_line.stderr) == (typer_line.stdout, typer_line.stderr)
    assert fast_line.stderr.startswith("triage: error: ")


def _modules_of(args: list[str], env: dict[str, str] | None = None) -> tuple[set[str], int]:
    """The top-level modules a fresh process running `triage ARGS` imported, and its exit code."""
    code = ("import sys\nfrom triage.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    rc = e.code\n"
            "sys.__stderr__.write('\\nMODULES ' + ' '.join(sorted({m.split('.')[0] for m in sys.modules})) + "
            "' RC ' + str(rc) + '\\n')")
    full = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    full.update(env or {})
    full["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=full, cwd=REPO, timeout=60, stdin=subprocess.DEVNULL)
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("MODULES ")][-1].split()
    return set(line[1:-2]), int(line[-1])


def test_a_plain_rca_line_imports_neither_typer_nor_click():
    modules, code = _modules_of(["rca", "--service", "checkout", "--namespace", "shop", "--at", "now",
                                 "--prometheus-url", URL, "-o", "json"])
    assert code == 3
    assert not modules & {"typer", "click", "rich"}


@pytest.mark.parametrize("output", ["json", "markdown"])
def test_a_plain_health_line_imports_neither_typer_nor_click_nor_rich(output, tmp_path):
    from testing.k8s import FakeKubeAPI, kubeconfig, load_logs, load_manifests

    with FakeKubeAPI(load_manifests(), logs=load_logs()) as api:
        path = tmp_path / "kubeconfig"
        path.write_text(kubeconfig(api.url, namespace="shop"))
        modules, code = _modules_of(["health", "--no-docker", "-n", "shop", "-o", output],
                                    {"KUBECONFIG": str(path), "HOME": str(tmp_path)})
        assert api.paths()  # it asked the cluster
    assert code == 2
    assert not modules & {"typer", "click", "rich"}


SHOP_TOKEN = "k8s-token-4f9c2a7e0b1d"
SAME_LINES = [
    ["health", "--no-docker", "-o", "json"],
    ["health", "--no-docker"],
    ["health", "--no-docker", "-o", "markdown"],
    ["health", "--no-docker", "-o", "table", "-A"],
    ["health", "--no-docker", "-A", "-o", "json"],
    ["health", "--no-docker", "-n", "kube-system", "-o", "markdown"],
    ["--no-color", "health", "--no-docker", "--window", "1m"],
    ["--debug", "health", "--no-docker", "-o", "json", "--timeout", "5"],
    ["health", "--no-docker", "--no-kubernetes", "-o", "json"],
    # bad lines the command refuses, after a parse here
    ["health", "--no-docker", "--window", "bogus"],
    ["health", "--no-docker", "-s", "nosuch", "-o", "json"],
    ["health", "--no-docker", "--context", "nope", "-o", "json"],
    ["health", "--no-docker", "--config", "/nonexistent/triage.yaml"],
    ["--debug", "health", "--no-docker", "--config", "/nonexistent/triage.yaml"],  # its traceback's frames differ
    ["health", "--no-docker", "--url", "http://127.0.0.1:9/healthz", "-o", "json", "--timeout", "0.5"],
]


@pytest.fixture(scope="module")
def shop_kubeconfig(tmp_path_factory):
    from testing.k8s import FakeKubeAPI, kubeconfig, load_logs, load_manifests

    with FakeKubeAPI(load_manifests(), logs=load_logs(), tokens={SHOP_TOKEN: {("*", "*", "*")}}) as api:
        path = tmp_path_factory.mktemp("shop") / "kubeconfig"
        path.write_text(kubeconfig(api.url, token=SHOP_TOKEN, namespace="shop"))
        yield path


@pytest.fixture(scope="module")
def fleet_kubeconfig(tmp_path_factory):
    """The bench's fake API server and fleet (bench/health_load.py), at 200 pods."""
    from testing.k8s import FakeKubeAPI, kubeconfig
    from testing.k8s.fleet import fleet

    objects, logs = fleet(200, nodes=2, crash_every=20)
    with FakeKubeAPI(objects, logs=logs) as api:
        path = tmp_path_factory.mktemp("fleet") / "kubeconfig"
        path.write_text(kubeconfig(api.url, namespace="bench"))
        yield path


def _both_ways(args: list[str], kubecfg: Path, monkeypatch: pytest.MonkeyPatch):
    env = {"KUBECONFIG": str(kubecfg)}
    assert fast.command(list(args)) is not None
    mine = run_cli(args, env=env)
    with monkeypatch.context() as m:
        m.setattr(fast, "command", lambda args: None)
        theirs = run_cli(args, env=env)
    return mine, theirs


@pytest.mark.parametrize("args", SAME_LINES, ids=" ".join)
def test_a_health_line_says_byte_for_byte_what_typer_said(args, shop_kubeconfig, monkeypatch):
    mine, theirs = _both_ways(args, shop_kubeconfig, monkeypatch)
    assert (mine.code, mine.stdout, _frameless(mine.stderr)) == (theirs.code, theirs.stdout, _frameless(theirs.stderr))
    assert mine.stdout or mine.stderr


def _frameless(stderr: str) -> str:
    """stderr without a --debug traceback's frames (typer's own are in the one it calls through);
    its first and last lines stay."""
    lines = stderr.splitlines(keepends=True)
    if "Traceback (most recent call last):\n" not in lines:
        return stderr
    start = lines.index("Traceback (most recent call last):\n")
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith(" "))
    return "".join(lines[:start + 1] + lines[end:])


@pytest.mark.parametrize("args", [["health", "--no-docker", "-o", "json"], ["health", "--no-docker", "-A"],
                                  ["health", "--no-docker", "-o", "markdown"]], ids=" ".join)
def test_the_bench_line_says_byte_for_byte_what_typer_said(args, fleet_kubeconfig, monkeypatch):
    mine, theirs = _both_ways(args, fleet_kubeconfig, monkeypatch)
    assert (mine.code, mine.stdout, mine.stderr) == (theirs.code, theirs.stdout, theirs.stderr)
    assert mine.code == 2


@pytest.mark.parametrize(("args", "said"), [
    (["health", "-o", "JSON", "--timeout", "0"], "usage: Invalid value for '--timeout'"),
    (["health", "-A", "-A", "--nope"], "usage: No such option: --nope"),
    (["health", "--timeout", "1e9"], "usage: Invalid value for '--timeout'"),
    (["health", "extra"], "usage: Got unexpected extra argument(s) (extra)"),
])
def test_a_line_left_to_typer_is_refused_as_before(args, said):
    assert fast.command(list(args)) is None
    result = run_cli(args)
    assert result.code == 3 and not result.stdout
    assert result.stderr.startswith(f"triage: {said}")
