"""The `triage` command suite. Only this package imports typer and rich."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import typer

from triage import __version__
from triage.cli import console, options
from triage.cli import errors as boundary

_HELP = "Observability-driven incident triage: detect, check, find the bottleneck, mitigate, fix, write it up."
_EPILOG = ("Deadlines: every request to Prometheus or Alertmanager ends within its timeout (prometheus.timeout, "
           "default 10s, the answer's body included), and all of a command's requests within prometheus.deadline "
           "of its start (default 30 x the timeout); past either: one line naming the backend, exit 3. "
           "Ctrl-C (SIGINT) ends any command at "
           "once with exit 130, SIGTERM with 143.")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"triage {__version__}")
        raise typer.Exit(0)


def _root(
    debug: bool = typer.Option(False, "--debug", help="Show details (and tracebacks) of failures on stderr.",
                               envvar="TRIAGE_DEBUG"),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
    no_color: options.NoColorOpt = False,
) -> None:
    """Run the five incident phases from a terminal, CI or a post-mortem."""
    boundary.DEBUG = boundary.DEBUG or debug
    console.set_no_color(no_color)


# The commands in the order `triage --help` lists them: name -> module of triage.cli (a group
# when the module has `app`). `detect` is helped by its module's docstring, the others by their
# function's (as before issue 14).
COMMANDS = ("detect", "health", "mitigate", "rca", "capacity", "fix", "postmortem", "run", "demo", "serve",
            "queries", "playbooks", "completion")
_GROUPS = ("queries", "playbooks")
# The root's flags (none takes a value): the first word that is not one of them names the command.
_ROOT_FLAGS = ("--debug", "--version", "--no-color", "-h", "--help")


def _new_app() -> typer.Typer:
    new = typer.Typer(
        name="triage",
        help=_HELP,
        epilog=_EPILOG,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        # Plain help: rendering it with rich costs more than the whole 0.15 s start-up budget.
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    new.callback()(_root)
    return new


def _register(target: typer.Typer, names: tuple[str, ...] = COMMANDS) -> None:
    """Add the commands `names` to `target`: only the one a command line names is imported and
    built (typer builds every option of every command it is given; issue 17)."""
    import importlib

    for name in COMMANDS:
        if name not in names:
            continue
        module = importlib.import_module(f"triage.cli.{name}")
        if name in _GROUPS:
            target.add_typer(module.app, name=name)
            continue
        fn = getattr(module, name)
        target.command(name, help=module.__doc__ if name == "detect" else fn.__doc__)(fn)


def _full_app() -> typer.Typer:
    built = globals().get("_app")
    if built is None:
        built = _new_app()
        _register(built)
        globals()["_app"] = built
    return built


def __getattr__(name: str) -> object:
    """`triage.cli.app`: every command, built on first use (completion, tests)."""
    if name == "app":
        return _full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _app_for(args: list[str]) -> typer.Typer:
    """An app holding only the command the line names; every command for the root's help, an
    unknown name (click's suggestions) and shell completion."""
    for word in args:
        if word in _ROOT_FLAGS:
            continue
        if word in COMMANDS and not os.environ.get("_TRIAGE_COMPLETE"):
            one = _new_app()
            _register(one, (word,))
            return one
        break
    return _full_app()


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
            boundary.INTERRUPTED_BY = "terminated" if signum == signal.SIGTERM else "interrupted"
        if self.count > 1:
            self.end_now()
        threading.Thread(target=self._later, daemon=True, name="triage-signal-grace").start()
        raise KeyboardInterrupt()

    def _later(self) -> None:
        time.sleep(GRACE_SECONDS)
        self.end_now()

    def end_now(self) -> None:
        boundary.say_interrupted_once(raw=True)
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


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one error boundary around the whole app. As the process entry point
    (no argv: `triage`, `python -m triage`) it also owns SIGINT / SIGTERM."""
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
    args = _color_flag_first(list(sys.argv[1:] if argv is None else argv))
    target = _app_for(args)
    code = boundary.run(lambda: target(args=args, prog_name="triage", standalone_mode=False))
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
