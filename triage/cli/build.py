"""The typer app: the root's options and the commands, each built only when a command line
names it (typer builds every option of every command it is given; issue 17)."""

from __future__ import annotations

import os

import typer

from triage import __version__
from triage.cli import _GROUPS, _ROOT_FLAGS, COMMANDS, console, options
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


def new_app() -> typer.Typer:
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


def register(target: typer.Typer, names: tuple[str, ...] = COMMANDS) -> None:
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


def full_app() -> typer.Typer:
    built = globals().get("_app")
    if built is None:
        built = new_app()
        register(built)
        globals()["_app"] = built
    return built


def app_for(args: list[str]) -> typer.Typer:
    """An app holding only the command the line names; every command for the root's help, an
    unknown name (click's suggestions) and shell completion."""
    for word in args:
        if word in _ROOT_FLAGS:
            continue
        if word in COMMANDS and not os.environ.get("_TRIAGE_COMPLETE"):
            one = new_app()
            register(one, (word,))
            return one
        break
    return full_app()


def root_help() -> str:
    """The root's help as `triage --help` prints it (without the final newline)."""
    import typer.main

    command = typer.main.get_command(full_app())
    with command.make_context("triage", [], resilient_parsing=True) as ctx:
        return str(ctx.get_help())


def command_help(name: str) -> str:
    """The help of the command (or group) `name` as `triage <name> --help` prints it (without
    the final newline)."""
    import typer.main

    command = typer.main.get_command(app_for([name]))
    with command.make_context("triage", [name], resilient_parsing=True) as ctx:
        sub = command.get_command(ctx, name)  # type: ignore[attr-defined]
        assert sub is not None
        with sub.make_context(name, [], parent=ctx, resilient_parsing=True) as sub_ctx:
            return str(sub_ctx.get_help())
