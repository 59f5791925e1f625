"""`triage rca ...` without typer or click (issue 17): importing typer and building the command
is about a sixth of a one-service `rca`'s start-up, and the line it parses is nearly always a
plain list of options.

`command(args)` parses only what it can parse exactly as click would: every word a known option
of `rca` (its long or short name, a long one also as `--name=value`), each value option's value
the next word whatever it looks like (click takes `--at -30m` so), the flag `--all-services`,
before the command only the root's `--debug` and `--no-color`, each option at most once. The
values are converted as typer converts them: `--output` one of its choices as spelled,
`--max-concurrency` digits within 1-64, an option left out taking its default or, for
`--config`, `--prometheus-url` and `--alertmanager-url`, its non-empty environment variable.
Anything else (`--help`, `-o JSON`, `-sNAME`, a repeated option, an unknown word, `--`, a value
left out, TRIAGE_DEBUG set, shell completion) is None: typer parses that line, with its own
messages, as before. tests/test_cli_fast.py holds the table below to the typer command's
options and each parse to click's.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

COMMAND = "rca"
# long and short name -> the parameter of triage/cli/rca.py's `rca`
OPTIONS = {
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
}
FLAGS = {"--all-services": "all_services"}
ENVVARS = {"config": "TRIAGE_CONFIG", "prometheus_url": "TRIAGE_PROMETHEUS_URL",
           "alertmanager_url": "TRIAGE_ALERTMANAGER_URL"}
DEFAULTS: dict[str, object] = {
    "service": None, "all_services": False, "namespace": None, "at": None, "window": None, "since": None,
    "until": None, "baseline": "1h", "output": "table", "config": None, "prometheus_url": None,
    "alertmanager_url": None, "max_concurrency": None, "from_record": None,
}
OUTPUTS = ("table", "json", "markdown", "slack")
MAX_CONCURRENCY = (1, 64)
ROOT_FLAGS = {"--debug": "debug", "--no-color": "no_color"}


def parse(args: list[str]) -> tuple[dict[str, bool], dict[str, object]] | None:
    """The root's flags and `rca`'s parameters as typer would pass them (the output still its
    choice's text), or None when the line is not one parsed here."""
    root = {"debug": False, "no_color": False}
    i = 0
    while i < len(args) and args[i] in ROOT_FLAGS:
        root[ROOT_FLAGS[args[i]]] = True
        i += 1
    if i >= len(args) or args[i] != COMMAND:
        return None
    given: dict[str, object] = {}
    words = args[i + 1:]
    j = 0
    while j < len(words):
        word = words[j]
        j += 1
        value: object
        if word in FLAGS:
            name, value = FLAGS[word], True
        elif word in OPTIONS:
            if j >= len(words):
                return None
            name, value = OPTIONS[word], words[j]
            j += 1
        elif word.startswith("--") and "=" in word and word.split("=", 1)[0] in OPTIONS:
            flag, value = word.split("=", 1)
            name = OPTIONS[flag]
        else:
            return None
        if name in given:
            return None
        given[name] = value
    params = dict(DEFAULTS)
    params.update(given)
    for name, var in ENVVARS.items():
        if name not in given and os.environ.get(var):
            params[name] = os.environ[var]
    if params["output"] not in OUTPUTS:
        return None
    concurrency = params["max_concurrency"]
    if concurrency is not None:
        if not (isinstance(concurrency, str) and concurrency.isascii() and concurrency.isdigit()):
            return None
        number = int(concurrency)
        if not MAX_CONCURRENCY[0] <= number <= MAX_CONCURRENCY[1]:
            return None
        params["max_concurrency"] = number
    return root, params


def command(args: list[str]) -> Callable[[], int] | None:
    """The command line as a call returning its exit code, run as typer would run it; None when
    typer is to parse it (see the module)."""
    if os.environ.get("_TRIAGE_COMPLETE") or os.environ.get("TRIAGE_DEBUG"):
        return None
    parsed = parse(args)
    if parsed is None:
        return None
    root, params = parsed

    def call() -> int:
        from triage.cli import console
        from triage.cli import errors as boundary
        from triage.cli.rca_run import run
        from triage.cli.values import Backends, ChatOutput, Scope

        # the root's callback
        boundary.DEBUG = boundary.DEBUG or root["debug"]
        console.set_no_color(root["no_color"])
        p = params
        scope = Scope(p["service"], p["all_services"], p["namespace"], p["at"], p["window"],  # type: ignore[arg-type]
                      p["baseline"], p["since"], p["until"])  # type: ignore[arg-type]
        backends = Backends(p["config"], p["prometheus_url"], p["alertmanager_url"],  # type: ignore[arg-type]
                            p["max_concurrency"])  # type: ignore[arg-type]
        return run(scope, backends, p["from_record"], ChatOutput(p["output"]))  # type: ignore[arg-type]

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
