"""Phase 3: correlate the signals and classify the bottleneck, with evidence."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import typer

from triage.cli import options as o

if TYPE_CHECKING:
    from triage.analysis.rca import RcaResult
    from triage.config import ServiceConfig
    from triage.signals import Windows


def analyse(scope: o.Scope, backends: o.Backends, from_record: str | None, output: o.Output | o.ChatOutput,
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


def rca(
    service: o.ServiceOpt = None,
    all_services: o.AllServicesOpt = False,
    namespace: o.NamespaceOpt = None,
    at: o.AtOpt = None,
    window: o.WindowOpt = None,
    since: o.SinceOpt = None,
    until: o.UntilOpt = None,
    baseline: o.BaselineOpt = "1h",
    output: o.ChatOutputOpt = o.ChatOutput.table,
    config: o.ConfigOpt = None,
    prometheus_url: o.PrometheusUrlOpt = None,
    alertmanager_url: o.AlertmanagerUrlOpt = None,
    max_concurrency: o.MaxConcurrencyOpt = None,
    from_record: o.FromRecordOpt = None,
) -> None:
    """Phase 3, root cause: correlate the signals and classify the bottleneck, with evidence."""
    import sys

    from triage.cli.console import print_json
    from triage.models import Status
    from triage.pipeline import fleet_document, rca_document

    scope = o.Scope(service, all_services, namespace, at, window, baseline, since, until)
    backends = o.Backends(config, prometheus_url, alertmanager_url, max_concurrency)
    services, windows, results, skipped = analyse(scope, backends, from_record, output)
    if all_services or len(results) > 1:
        doc = fleet_document(results, services, windows, skipped=skipped)
        if output is o.ChatOutput.json:
            print_json(doc)
        elif output is o.ChatOutput.slack:
            from triage.render.slack import fleet_slack

            sys.stdout.write(fleet_slack(doc["ranking"]))
        elif output is o.ChatOutput.markdown:
            from triage.render.markdown.rca import fleet_markdown

            sys.stdout.write(fleet_markdown(doc["ranking"], results))
        else:
            from triage.cli.table import fleet_lines

            fleet_lines(doc["ranking"])
        raise typer.Exit(int(Status.worst([r.status for r in results]).exit_code))
    [result] = results
    if output is o.ChatOutput.json:
        print_json(rca_document(result, skipped=skipped))
    elif output is o.ChatOutput.slack:
        from triage.render.slack import rca_slack

        sys.stdout.write(rca_slack(result))
    elif output is o.ChatOutput.markdown:
        from triage.render.markdown.rca import rca_markdown

        sys.stdout.write(rca_markdown(result))
    else:
        from triage.cli.table import rca_table

        rca_table(result)
    raise typer.Exit(int(result.status.exit_code))
