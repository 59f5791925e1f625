"""Phase 3: correlate the signals and classify the bottleneck, with evidence."""

from __future__ import annotations

import typer

from triage.cli import options as o
from triage.cli.rca_run import analyse, run

__all__ = ["analyse", "rca"]


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
    scope = o.Scope(service, all_services, namespace, at, window, baseline, since, until)
    backends = o.Backends(config, prometheus_url, alertmanager_url, max_concurrency)
    raise typer.Exit(run(scope, backends, from_record, output))
