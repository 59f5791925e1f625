"""Phase 5 `triage postmortem`: an incident record and a Jinja template → a markdown draft."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from triage.cli import options as o

RecordArg = Annotated[Path, typer.Argument(metavar="INCIDENT_JSON", help="An incident record (incident.json).")]
TemplateOpt = Annotated[str | None, typer.Option(
    "--template", metavar="NAME|PATH", help="Template name (user dirs first) or path; default postmortem.")]
OutFileOpt = Annotated[Path | None, typer.Option("--out", metavar="FILE", help="Write here instead of stdout.")]


def postmortem(
    record_file: RecordArg,
    template: TemplateOpt = None,
    out: OutFileOpt = None,
    force: o.ForceOpt = False,
    config: o.ConfigOpt = None,
    output: o.DraftOutputOpt = o.DraftOutput.markdown,
) -> None:
    """Phase 5: render a markdown post-mortem draft from an incident record and a Jinja template."""
    from triage.cli import console
    from triage.config import load_settings
    from triage.incident import load
    from triage.postmortem import find_template, render

    settings = load_settings(config=config)
    if output is o.DraftOutput.slack and template != "status-update":
        from triage.errors import UsageError

        raise UsageError("--output slack is the status update: give --template status-update "
                         "(the post-mortem itself is markdown)")
    record = load(record_file)
    if output is o.DraftOutput.slack:
        from triage.render.slack import status_update_slack

        text = status_update_slack(record)
    else:
        prometheus = settings.prometheus.display_url if settings.prometheus else None
        text = render(record, find_template(template or "postmortem", settings.templates_dirs), prometheus)
    console.deliver(text, out, force=force)
    raise typer.Exit(0)
