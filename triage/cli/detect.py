"""Phase 1: golden signals of the window against the baseline, firing alerts, severity."""

from __future__ import annotations

import typer

from triage.cli import options as o

# Commands import their machinery when they run, so `triage --help` stays fast.


def detect(
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
    """Phase 1, detection & triage: golden signals now vs baseline, firing alerts, severity, who is affected."""
    import sys
    from dataclasses import replace

    from triage.cli import inputs
    from triage.cli.console import print_json
    from triage.pipeline import run_detect

    scope = o.Scope(service, all_services, namespace, at, window, baseline, since, until)
    backends = o.Backends(config, prometheus_url, alertmanager_url, max_concurrency)
    with inputs.analysis(scope, backends, from_record, show_progress=output is o.ChatOutput.table) as i:
        report = run_detect(i.settings, i.catalog, i.source, i.windows, i.target, alert_sources=i.alerts, now=i.now,
                            progress=i.progress)
    if from_record and service:
        report = replace(report, services=tuple(d for d in report.services if d.service == service))
    if output is o.ChatOutput.json:
        print_json(report.to_json())
    elif output is o.ChatOutput.slack:
        from triage.render.slack import detect_slack

        sys.stdout.write(detect_slack(report))
    elif output is o.ChatOutput.markdown:
        from triage.render.markdown.detect import detect_markdown

        sys.stdout.write(detect_markdown(report))
    else:
        from triage.cli.table import detect_table

        detect_table(report)
        from triage.cli.alerts import print_notes

        print_notes([a for det in report.services for a in det.alerts])
    raise typer.Exit(int(report.status.exit_code))
