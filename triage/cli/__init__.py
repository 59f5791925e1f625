"""The `triage` command suite. Only this package imports typer and rich.

This module imports neither: the app is built in triage/cli/build.py, with only the command a
command line names (issue 17), and the root's help comes from a cache when it can.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

TYPE_CHECKING = False  # typing itself costs ~4 ms of the cached `--help`
if TYPE_CHECKING:
    from typing import Any

# The commands in the order `triage --help` lists them: name -> module of triage.cli (a group
# when the module has `app`). `detect` is helped by its module's docstring, the others by their
# function's (as before issue 14).
COMMANDS = ("detect", "health", "mitigate", "rca", "capacity", "fix", "postmortem", "run", "demo", "serve", "alerts",
            "rules", "queries", "playbooks", "completion")
_GROUPS = ("queries", "playbooks")
# The root's flags (none takes a value): the first word that is not one of them names the command.
_ROOT_FLAGS = ("--debug", "--version", "--no-color", "-h", "--help")


def __getattr__(name: str) -> object:
    """`triage.cli.app`: every command, built on first use (completion, tests)."""
    if name == "app":
        from triage.cli.build import full_app

        return full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _color_flag_first(args: list[str]) -> list[str]:
    """`triage detect --no-color ...` as `triage --no-color detect ...`: the flag is the root's,
    and is also taken after the command name (before a `--`, which ends the options)."""
    cut = args.index("--") if "--" in args else len(args)
    if "--no-color" not in args[:cut]:
        return args
    head = [word for word in args[:cut] if word != "--no-color"]
    return ["--no-color", *head, *args[cut:]]


# After the first SIGINT / SIGTERM the main thread gets this long to unwind (finally blocks,
# a record being saved) before the process ends anyway: worker threads blocked in a read, or
# a thread pool waiting for them, must not keep a command alive.
GRACE_SECONDS = 0.6


class _Signals:
    """SIGINT and SIGTERM for the process entry point: the first raises KeyboardInterrupt in the
    main thread (so cleanup runs) and arms a timer that ends the process after GRACE_SECONDS;
    a second one ends it at once."""

    def __init__(self) -> None:
        self.received: int | None = None
        self.count = 0

    def install(self) -> None:
        # Installed even when SIGINT was inherited ignored (a background job of a script):
        # Ctrl-C or `kill -INT` must stop triage wherever it runs.
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)

    @property
    def code(self) -> int:
        # 128 + the signal, as a shell says it: 130 (CONTRACT's INTERRUPTED) and 143; no import here,
        # the main thread may be stopped inside one
        return 128 + int(signal.SIGTERM if self.received == signal.SIGTERM else signal.SIGINT)

    def _handle(self, signum: int, frame: object) -> None:
        self.count += 1
        if self.received is None:
            self.received = signum
            _boundary().INTERRUPTED_BY = "terminated" if signum == signal.SIGTERM else "interrupted"
        if self.count > 1:
            self.end_now()
        threading.Thread(target=self._later, daemon=True, name="triage-signal-grace").start()
        raise KeyboardInterrupt()

    def _later(self) -> None:
        time.sleep(GRACE_SECONDS)
        self.end_now()

    def end_now(self) -> None:
        _boundary().say_interrupted_once(raw=True)
        os._exit(self.code)


class _WatchedStderr:
    """sys.stderr, remembering whether an interruption was already said: typer turns Ctrl-C into a
    silent exit 130, while a command that handles it itself (mitigate --apply: what was applied,
    where it stopped) says so in its own words; the line is added only when nobody said it."""

    def __init__(self, inner: object) -> None:
        self._inner = inner
        self.said = False

    def write(self, text: str) -> int:
        if "interrupted" in text or "terminated" in text:
            self.said = True
        return self._inner.write(text)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


def _boundary() -> Any:
    from triage.cli import errors  # imported by main() before any signal handler is installed

    return errors


def _cached_help(args: list[str]) -> bool:
    """`triage`, `triage --help`, `triage <command> --help`: that help from the cache (rendered
    and kept when it is not there); False when the line is not one of those or the terminal is
    narrower than 80."""
    from triage.cli import helpcache

    if os.environ.get("_TRIAGE_COMPLETE") or not helpcache.wanted(args):
        return False
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # no handler to import for a few milliseconds
    text = helpcache.read(args)
    if text is None:
        command = helpcache.command_of(args) or ""
        if command:
            from triage.cli.build import command_help

            text = command_help(command)
        else:
            from triage.cli.build import root_help

            text = root_help()
        helpcache.write(text, command)
    try:
        sys.stdout.write(text + "\n")
    except BrokenPipeError:
        pass
    return True


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one error boundary around the whole app. As the process entry point
    (no argv: `triage`, `python -m triage`) it also owns SIGINT / SIGTERM."""
    args = _color_flag_first(list(sys.argv[1:] if argv is None else argv))
    if argv is None and _cached_help(args):
        _leave(0)
    if argv is None:
        from triage.cli import codecache

        codecache.install()  # before the first value type is imported
    boundary = _boundary()
    if os.environ.get("TRIAGE_DEBUG", "").lower() in ("1", "true", "yes"):
        boundary.DEBUG = True
    if os.environ.get("_TRIAGE_COMPLETE"):  # a completion script asking (`triage completion`)
        from triage.cli.completion import register

        register()
    signals = None
    watched = None
    if argv is None and threading.current_thread() is threading.main_thread():
        signals = _Signals()
        signals.install()
        watched = _WatchedStderr(sys.stderr)
        sys.stderr = watched  # type: ignore[assignment]
    from triage.cli import fast

    call = fast.command(args)  # a plain `rca` or `health` line, parsed as typer would, without importing it
    if call is None:
        from triage.cli.build import app_for

        target = app_for(args)
        call = lambda: target(args=args, prog_name="triage", standalone_mode=False)  # noqa: E731
    code = boundary.run(call)
    if signals is not None and signals.received is not None:
        if watched is not None and not watched.said:
            boundary.say_interrupted_once()
        # Interrupted: flush what was written and leave without waiting for worker threads
        # (a thread stuck in a read would hold the interpreter's exit). The line was said by the
        # boundary, or by the command that handled the interrupt itself (mitigate --apply).
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(signals.code)
    if argv is None:
        from triage.cli import codecache

        codecache.save()
        _leave(code)
    sys.exit(code)


def _leave(code: int) -> None:
    """The process entry point's normal end: flush what was written and leave without the
    interpreter's teardown (freeing every module's objects, ~65 ms; issue 17). Nothing of
    triage's runs at exit: records and files are written and closed before the command returns.
    A stream that cannot be flushed (a closed pipe) leaves through sys.exit as before."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        sys.exit(code)
    except (OSError, ValueError):
        sys.exit(code)
    os._exit(code)


__all__ = ["COMMANDS", "app", "main"]
