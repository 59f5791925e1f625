"""`triage run`: phases 1-4 in order, into an incident record and a post-mortem draft."""

from __future__ import annotations

from typing import Annotated

import typer

from triage.cli import options as o
from triage.cli.incident import OutDirOpt

AlertsOpt = Annotated[bool, typer.Option(
    "--alerts", help="Triage each firing alert's service (from Prometheus and Alertmanager), one run per service "
                     "and namespace, its window ending at the alert's start plus serve.settle (default 2m); "
                     "with --out DIR each run goes to DIR/<incident-id>/.")]


def run(
    service: o.ServiceOpt = None,
    all_services: o.AllServicesOpt = False,
    namespace: o.NamespaceOpt = None,
    at: o.AtOpt = None,
    window: o.WindowOpt = None,
    since: o.SinceOpt = None,
    until: o.UntilOpt = None,
    baseline: o.BaselineOpt = "1h",
    out: OutDirOpt = None,
    force: o.ForceOpt = False,
    no_kubernetes: o.NoKubernetesOpt = False,
    no_docker: o.NoDockerOpt = False,
    url: o.UrlOpt = None,
    context: o.ContextOpt = None,
    config: o.ConfigOpt = None,
    prometheus_url: o.PrometheusUrlOpt = None,
    alertmanager_url: o.AlertmanagerUrlOpt = None,
    max_concurrency: o.MaxConcurrencyOpt = None,
    alerts: AlertsOpt = False,
) -> None:
    """Phases 1-4 in order; writes the incident record and the post-mortem draft."""
    from triage.catalog import load_catalog
    from triage.cli import inputs
    from triage.cli.health import health_phase
    from triage.cli.incident import (
        playbook_runner,
        refuse_early,
        summarise,
        write_outputs,
    )
    from triage.pipeline import record_status, run_phases

    backends = o.Backends(config, prometheus_url, alertmanager_url, max_concurrency)
    checks = o.HealthChecks(no_kubernetes, no_docker, tuple(url or ()), context)
    if alerts:
        from triage.cli.alerts import run_alerts

        scope = o.Scope(service, all_services, namespace, at, window, baseline, since, until)
        raise typer.Exit(run_alerts(scope, backends, checks, out, force))
    settings = inputs.settings_from(backends)
    catalog = load_catalog(settings.queries_dirs)
    scope = o.Scope(service, all_services, namespace, at, window, baseline, since, until)
    with inputs.live(settings, catalog, scope, backends, show_progress=True) as i:
        refuse_early(out, force, [s.name for s in i.target.services], i.windows.window.end)
        record, _ = run_phases(
            settings, catalog, i.source, i.windows, i.target, alert_sources=i.alerts,
            health=lambda target: health_phase(settings, list(target.services), i.windows.window.seconds, checks),
            playbooks=playbook_runner(settings), progress=i.progress,
            backend=settings.prometheus.display_url if settings.prometheus else "",
        )
    record_path, pm_path = write_outputs(record, out, force, settings)
    summarise(record, record_path, pm_path)
    raise typer.Exit(int(record_status(record).exit_code))
