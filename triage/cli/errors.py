"""The one error boundary: known failures become one line and exit 3, never a traceback."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from triage.errors import TriageError

DEBUG = False
# What ended the command when a signal did: "interrupted" (SIGINT) or "terminated" (SIGTERM).
INTERRUPTED_BY = "interrupted"
_said = threading.Lock()


def _say(message: str) -> None:
    from triage.render.escape import strip_control
    from triage.secrets import redact

    text = redact(strip_control(" ".join(str(message).split())))
    sys.stderr.write(f"triage: {text}\n")
    sys.stderr.flush()


def say_interrupted_once(*, raw: bool = False) -> None:
    """`triage: interrupted` (or `terminated`) once per process, whoever gets there first: the
    boundary, or the signal timer ending a command that did not unwind in time (raw: a plain
    write(2), no stream lock that a stuck main thread might hold)."""
    if not _said.acquire(blocking=False):
        return
    line = f"triage: {INTERRUPTED_BY}\n"
    if raw:
        try:
            os.write(2, line.encode())
        except OSError:
            pass
        return
    try:
        sys.stderr.write(line)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def code(name: str) -> int:
    """CONTRACT's exit code `name` (OK, UNKNOWN, INTERRUPTED): triage.models is imported only
    when a command ends other than by typer's Exit, so `--help` does without it (issue 17)."""
    from triage.models import ExitCode

    return int(ExitCode[name])


def _debug_trace() -> None:
    if DEBUG:
        import traceback

        from triage.secrets import redact

        sys.stderr.write(redact(traceback.format_exc()))
        sys.stderr.flush()


def _kind(exc: BaseException) -> str:
    """Click's exception family by name: typer may carry its own copy of click or use the real one,
    and a command line parsed without typer (triage/cli/fast.py) must not import it to catch its
    `Exit` (a RuntimeError, like click's)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    for kind in ("NoArgsIsHelpError", "Exit", "Abort", "UsageError", "ClickException"):
        if kind in names:
            return kind
    return ""


def run(fn: Callable[[], Any]) -> int:
    """Call the app and turn every way it can end into an exit code."""
    global _said
    _said = threading.Lock()
    try:
        result = fn()
    except TriageError as exc:
        _say(f"error: {exc.message}")
        if DEBUG and exc.detail:
            _say(f"detail: {exc.detail}")
        query = getattr(exc, "query", None)
        if DEBUG and query:
            _say(f"query: {query}")
        _debug_trace()
        return exc.exit_code
    except KeyboardInterrupt:
        say_interrupted_once()
        return code("INTERRUPTED")
    except BrokenPipeError:
        return code("OK")
    except Exception as exc:
        kind = _kind(exc)
        if kind == "NoArgsIsHelpError":
            ctx = getattr(exc, "ctx", None)
            if ctx is not None:
                sys.stdout.write(ctx.get_help() + "\n")
            return code("OK")
        if kind == "Exit":
            return int(getattr(exc, "exit_code", 0))
        if kind == "Abort":
            say_interrupted_once()
            return code("INTERRUPTED")
        if kind == "UsageError":
            ctx = getattr(exc, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            _say(f"usage: {exc.format_message()}{hint}")  # type: ignore[attr-defined]
            return code("UNKNOWN")
        if kind == "ClickException":
            _say(f"error: {exc.format_message()}")  # type: ignore[attr-defined]
            return code("UNKNOWN")
        # The last line of defence: a crash is a bug, and still exit 3.
        _say(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)")
        _debug_trace()
        return code("UNKNOWN")
    if isinstance(result, int):
        return result
    return code("OK")
