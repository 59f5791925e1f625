"""`triage rca ...` and `triage health ...` without typer or click (issue 17): importing typer and
building the command is about a sixth of a one-service `rca`'s start-up, and the line it parses
is nearly always a plain list of options.

`command(args)` parses only what it can parse exactly as click would, from the command's table
below: every word a known option of the command (its long or short name, a long one also as
`--name=value`), each value option's value the next word whatever it looks like (click takes
`--at -30m` so), its flags (`--all-services`, `-A`, ...), before the command only the root's
`--debug` and `--no-color`, each option at most once except a repeatable one (`health --url`,
its values in order). The values are converted as typer converts them: a choice (`--output`)
one of its choices as spelled, an integer (`--max-concurrency`) digits within its range, a float
(`--timeout`) plain decimal digits within its range, an option left out taking its default or,
for `--config`, `--prometheus-url` and `--alertmanager-url`, its non-empty environment variable.
Anything else (`--help`, `-o JSON`, `-sNAME`, `-An`, `--timeout 1e3`, a repeated option, an
unknown word, `--`, a value left out, TRIAGE_DEBUG set, shell completion) is None: typer parses
that line, with its own messages, as before. tests/test_cli_fast.py holds each table to the
typer command's options and each parse to click's.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

ROOT_FLAGS = {"--debug": "debug", "--no-color": "no_color"}


class Table:
    """One command's options as its typer signature declares them, and how to run it on them."""

    def __init__(self, *, options: dict[str, str], flags: dict[str, str], envvars: dict[str, str],
                 defaults: dict[str, object], choices: dict[str, tuple[str, ...]],
                 ints: dict[str, tuple[int, int]] | None = None, floats: dict[str, tuple[float, float]] | None = None,
                 multiple: frozenset[str] = frozenset(), run: Callable[[dict[str, object]], int]) -> None:
        self.options = options      # long and short name -> the parameter of the typer command
        self.flags = flags
        self.envvars = envvars
        self.defaults = defaults
        self.choices = choices      # the parameter -> its choices (case as spelled)
        self.ints = ints or {}      # the parameter -> its closed range
        self.floats = floats or {}  # the parameter -> its closed range
        self.multiple = multiple    # the parameters given any number of times, as a list
        self.run = run              # the command run on the parsed parameters: its exit code


def _rca(p: dict[str, object]) -> int:
    from triage.cli.rca_run import run
    from triage.cli.values import Backends, ChatOutput, Scope

    scope = Scope(p["service"], p["all_services"], p["namespace"], p["at"], p["window"],  # type: ignore[arg-type]
                  p["baseline"], p["since"], p["until"])  # type: ignore[arg-type]
    backends = Backends(p["config"], p["prometheus_url"], p["alertmanager_url"],  # type: ignore[arg-type]
                        p["max_concurrency"])  # type: ignore[arg-type]
    return run(scope, backends, p["from_record"], ChatOutput(p["output"]))  # type: ignore[arg-type]


def _health(p: dict[str, object]) -> int:
    from triage.cli.health_run import run
    from triage.cli.values import Output

    return run(**{**p, "output": Output(p["output"])})  # type: ignore[arg-type]


# triage/cli/rca.py's `rca`
RCA = Table(
    options={
        "--service": "service", "-s": "service",
        "--namespace": "namespace", "-n": "namespace",
        "--at": "at",
        "--window": "window",
        "--since": "since",
        "--until": "until",
        "--baseline": "baseline",
        "--output": "output", "-o": "output",
        "--config": "config",
        "--prometheus-url": "prometheus_url",
        "--alertmanager-url": "alertmanager_url",
        "--max-concurrency": "max_concurrency",
        "--from": "from_record",
    },
    flags={"--all-services": "all_services"},
    envvars={"config": "TRIAGE_CONFIG", "prometheus_url": "TRIAGE_PROMETHEUS_URL",
             "alertmanager_url": "TRIAGE_ALERTMANAGER_URL"},
    defaults={
        "service": None, "all_services": False, "namespace": None, "at": None, "window": None, "since": None,
        "until": None, "baseline": "1h", "output": "table", "config": None, "prometheus_url": None,
        "alertmanager_url": None, "max_concurrency": None, "from_record": None,
    },
    choices={"output": ("table", "json", "markdown", "slack")},
    ints={"max_concurrency": (1, 64)},
    run=_rca,
)
# triage/cli/health.py's `health`
HEALTH = Table(
    options={
        "--service": "service", "-s": "service",
        "--namespace": "namespace", "-n": "namespace",
        "--context": "context",
        "--config": "config",
        "--url": "url",
        "--window": "window",
        "--output": "output", "-o": "output",
        "--timeout": "timeout",
        "--prometheus-url": "prometheus_url",
    },
    flags={"--all-services": "all_services", "--all-namespaces": "all_namespaces", "-A": "all_namespaces",
           "--no-kubernetes": "no_kubernetes", "--no-docker": "no_docker"},
    envvars={"config": "TRIAGE_CONFIG", "prometheus_url": "TRIAGE_PROMETHEUS_URL"},
    defaults={
        "service": None, "all_services": False, "namespace": None, "all_namespaces": False, "context": None,
        "config": None, "no_kubernetes": False, "no_docker": False, "url": None, "window": "15m",
        "output": "table", "timeout": 10.0, "prometheus_url": None,
    },
    choices={"output": ("table", "json", "markdown")},
    floats={"timeout": (0.1, 600.0)},
    multiple=frozenset({"url"}),
    run=_health,
)
TABLES = {"rca": RCA, "health": HEALTH}


def parse(args: list[str]) -> tuple[str, dict[str, bool], dict[str, object]] | None:
    """The command, the root's flags and the command's parameters as typer would pass them (a
    choice still its text), or None when the line is not one parsed here."""
    root = {"debug": False, "no_color": False}
    i = 0
    while i < len(args) and args[i] in ROOT_FLAGS:
        root[ROOT_FLAGS[args[i]]] = True
        i += 1
    if i >= len(args) or args[i] not in TABLES:
        return None
    table = TABLES[args[i]]
    given = _given(table, args[i + 1:])
    if given is None:
        return None
    params = _converted(table, given)
    return None if params is None else (args[i], root, params)


def _given(table: Table, words: list[str]) -> dict[str, object] | None:
    """The options on the line, each value as its text (a repeatable one's as a list)."""
    options, flags, multiple = table.options, table.flags, table.multiple
    given: dict[str, object] = {}
    j = 0
    while j < len(words):
        word = words[j]
        j += 1
        value: object
        if word in flags:
            param, value = flags[word], True
        elif word in options:
            if j >= len(words):
                return None
            param, value = options[word], words[j]
            j += 1
        elif word.startswith("--") and "=" in word and word.split("=", 1)[0] in options:
            flag, value = word.split("=", 1)
            param = options[flag]
        else:
            return None
        if param in multiple:
            given.setdefault(param, []).append(value)  # type: ignore[attr-defined]
            continue
        if param in given:
            return None
        given[param] = value
    return given


def _converted(table: Table, given: dict[str, object]) -> dict[str, object] | None:
    """Every parameter as typer converts it: the given value, else the environment's, else the default."""
    params = dict(table.defaults)
    params.update(given)
    for param, var in table.envvars.items():
        if param not in given and os.environ.get(var):
            params[param] = os.environ[var]
    for param, choices in table.choices.items():
        if params[param] not in choices:
            return None
    for param, (low, high) in table.ints.items():
        if param in given:
            text = given[param]
            if not (isinstance(text, str) and text.isascii() and text.isdigit() and low <= int(text) <= high):
                return None
            params[param] = int(text)
    for param, (flow, fhigh) in table.floats.items():
        if param in given:
            text = given[param]
            if not (isinstance(text, str) and _decimal(text) and flow <= float(text) <= fhigh):
                return None
            params[param] = float(text)
    return params


def _decimal(text: str) -> bool:
    """ASCII digits with at most one point and a digit on some side of it: `5`, `0.5`, `.5`, `5.`
    (what float() reads the same as everywhere; `1e3`, `inf`, `_`, signs and spaces go to typer)."""
    whole, _, part = text.partition(".")
    return bool(whole or part) and all(not s or (s.isascii() and s.isdigit()) for s in (whole, part))


def command(args: list[str]) -> Callable[[], int] | None:
    """The command line as a call returning its exit code, run as typer would run it; None when
    typer is to parse it (see the module)."""
    if os.environ.get("_TRIAGE_COMPLETE") or os.environ.get("TRIAGE_DEBUG"):
        return None
    parsed = parse(args)
    if parsed is None:
        return None
    name, root, params = parsed
    run = TABLES[name].run

    def call() -> int:
        from triage.cli import console
        from triage.cli import errors as boundary

        # the root's callback
        boundary.DEBUG = boundary.DEBUG or root["debug"]
        console.set_no_color(root["no_color"])
        return run(params)

    return lambda: _as_typer_runs(call)


def _as_typer_runs(call: Callable[[], int]) -> int:
    """What typer's main does around a command when not standalone (typer/core.py `_main`): Ctrl-C
    is exit 130 with nothing said, end of input an Abort after a newline, a closed stdout exit 1
    with both streams' later flushes silenced."""
    try:
        return call()
    except EOFError as exc:
        sys.stderr.write("\n")
        sys.stderr.flush()
        raise Abort() from exc
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        import errno

        if exc.errno != errno.EPIPE:
            raise
        from typer._click.utils import PacifyFlushWrapper

        sys.stdout = PacifyFlushWrapper(sys.stdout)  # type: ignore[assignment]
        sys.stderr = PacifyFlushWrapper(sys.stderr)  # type: ignore[assignment]
        sys.exit(1)


class Abort(RuntimeError):  # noqa: N818 - click's name, which the error boundary knows it by
    """click's Abort, without click."""
