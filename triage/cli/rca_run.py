"""Phase 3's command past its options: `triage rca` as triage/cli/rca.py's typer signature and
triage/cli/fast.py's own parse both call it. Neither typer nor click is imported here (issue 17):
the exit code is returned, and rca.py raises typer's Exit with it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from triage.cli.values import Backends, ChatOutput, Output, Scope

if TYPE_CHECKING:
    from triage.analysis.rca import RcaResult
    from triage.config import ServiceConfig
    from triage.signals import Windows


def analyse(scope: Scope, backends: Backends, from_record: str | None, output: Output | ChatOutput,
            ) -> tuple[Mapping[str, ServiceConfig], Windows, list[RcaResult], list[tuple[str, str]]]:
    """Phase 3 live or replayed: the services' configs, the windows, the verdicts, what was skipped."""
    from triage.cli import inputs
    from triage.pipeline import run_rca

    with inputs.analysis(scope, backends, from_record, show_progress=output.value == "table") as i:
        results, skipped = run_rca(i.settings, i.catalog, i.source, i.windows, i.target, alert_sources=i.alerts,
                                   now=i.now, progress=i.progress)
    if from_record and scope.service:
        # The record answers the queries it was asked; pick the one service out of them.
        results = [r for r in results if r.service.name == scope.service]
    return i.settings.services, i.windows, results, skipped


def run(scope: Scope, backends: Backends, from_record: str | None, output: ChatOutput) -> int:
    """The verdicts of `scope` written to stdout as `output` says; the command's exit code."""
    import sys

    services, windows, results, skipped = analyse(scope, backends, from_record, output)
    from triage.cli.console import print_json
    from triage.models import Status
    from triage.pipeline import fleet_document, rca_document

    if scope.all_services or len(results) > 1:
        doc = fleet_document(results, services, windows, skipped=skipped)
        if output is ChatOutput.json:
            print_json(doc)
        elif output is ChatOutput.slack:
            from triage.render.slack import fleet_slack

            sys.stdout.write(fleet_slack(doc["ranking"]))
        elif output is ChatOutput.markdown:
            from triage.render.markdown.rca import fleet_markdown

            sys.stdout.write(fleet_markdown(doc["ranking"], results))
        else:
            from triage.cli.table import fleet_lines

            fleet_lines(doc["ranking"])
        return int(Status.worst([r.status for r in results]).exit_code)
    [result] = results
    if output is ChatOutput.json:
        print_json(rca_document(result, skipped=skipped))
    elif output is ChatOutput.slack:
        from triage.render.slack import rca_slack

        sys.stdout.write(rca_slack(result))
    elif output is ChatOutput.markdown:
        from triage.render.markdown.rca import rca_markdown

        sys.stdout.write(rca_markdown(result))
    else:
        from triage.cli.table import rca_table

        rca_table(result)
    return int(result.status.exit_code)
