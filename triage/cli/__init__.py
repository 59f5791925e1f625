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

app = typer.Typer(
    name="triage",
    help="Observability-driven incident triage: detect, check, find the bottleneck, mitigate, fix, write it up.",
    epilog="Deadlines: every request to Prometheus or Alertmanager ends within its timeout (prometheus.timeout, "
           "default 10s, the answer's body included), and all of a command's requests within prometheus.deadline "
           "of its start (default 30 x the timeout); past either: one line naming the backend, exit 3. "
           "Ctrl-C (SIGINT) ends any command at "
           "once with exit 130, SIGTERM with 143.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: rendering it with rich costs more than the whole 0.15 s start-up budget.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"triage {__version__}")
        raise typer.Exit(0)


@app.callback()
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


def _register() -> None:
    from triage.cli import (
        capacity,
        completion,
        demo,
        detect,
        fix,
        health,
        mitigate,
        playbooks,
        postmortem,
        queries,
        rca,
        rules,
        run,
        serve,
    )

    # `detect` is helped by its module's docstring, the others by their function's (as before issue 14).
    app.command("detect", help=detect.__doc__)(detect.detect)
    app.command("health", help=health.health.__doc__)(health.health)
    app.command("mitigate", help=mitigate.mitigate.__doc__)(mitigate.mitigate)
    app.command("rca", help=rca.rca.__doc__)(rca.rca)
    app.command("capacity", help=capacity.capacity.__doc__)(capacity.capacity)
    app.command("fix", help=fix.fix.__doc__)(fix.fix)
    app.command("postmortem", help=postmortem.postmortem.__doc__)(postmortem.postmortem)
    app.command("run", help=run.run.__doc__)(run.run)
    app.command("demo", help=demo.demo.__doc__)(demo.demo)
    app.command("serve", help=serve.serve.__doc__)(serve.serve)
    app.add_typer(queries.app, name="queries")
    app.add_typer(playbooks.app, name="playbooks")
    app.command("completion", help=completion.completion.__doc__)(completion.completion)
    app.command("rules", help=rules.rules.__doc__)(rules.rules)


_register()


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
        return 143 if self.received == signal.SIGTERM else int(boundary.ExitCode.INTERRUPTED)

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
    code = boundary.run(lambda: app(args=argv, prog_name="triage", standalone_mode=False))
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
    sys.exit(code)


__all__ = ["app", "main"]
