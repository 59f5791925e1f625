"""The `triage` command suite. Only this package imports typer and rich."""

from __future__ import annotations

import os
import sys

import typer

from triage import __version__
from triage.cli import errors as boundary

app = typer.Typer(
    name="triage",
    help="Observability-driven incident triage: detect, check, find the bottleneck, mitigate, fix, write it up.",
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
) -> None:
    """Run the five incident phases from a terminal, CI or a post-mortem."""
    boundary.DEBUG = boundary.DEBUG or debug


def _register() -> None:
    from triage.cli import detect, health, incident, playbooks, queries, rca

    app.command("detect", help=detect.__doc__)(detect.detect)
    app.command("health", help=health.health.__doc__)(health.health)
    app.command("mitigate", help=playbooks.mitigate.__doc__)(playbooks.mitigate)
    app.command("rca", help=rca.rca.__doc__)(rca.rca)
    app.command("capacity", help=rca.capacity.__doc__)(rca.capacity)
    app.command("fix", help=playbooks.fix.__doc__)(playbooks.fix)
    app.command("postmortem", help=incident.postmortem.__doc__)(incident.postmortem)
    app.command("run", help=incident.run.__doc__)(incident.run)
    app.command("demo", help=incident.demo.__doc__)(incident.demo)
    app.add_typer(queries.app, name="queries")
    app.add_typer(playbooks.app, name="playbooks")


_register()


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one error boundary around the whole app."""
    if os.environ.get("TRIAGE_DEBUG", "").lower() in ("1", "true", "yes"):
        boundary.DEBUG = True
    code = boundary.run(lambda: app(args=argv, prog_name="triage", standalone_mode=False))
    sys.exit(code)


__all__ = ["app", "main"]
