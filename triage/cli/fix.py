"""Phase 4 `triage fix`: the playbooks' permanent fixes for the classified bottleneck."""

from __future__ import annotations

from triage.cli import options as o
from triage.cli.plan import (
    HealthFromOpt,
    NoHealthOpt,
    PlanFromOpt,
    PlanSources,
    PlanTimeoutOpt,
)


def fix(
    service: o.ServiceOpt = None,
    all_services: o.AllServicesOpt = False,
    namespace: o.NamespaceOpt = None,
    at: o.AtOpt = None,
    window: o.WindowOpt = None,
    since: o.SinceOpt = None,
    until: o.UntilOpt = None,
    baseline: o.BaselineOpt = "1h",
    output: o.OutputOpt = o.Output.table,
    config: o.ConfigOpt = None,
    prometheus_url: o.PrometheusUrlOpt = None,
    alertmanager_url: o.AlertmanagerUrlOpt = None,
    max_concurrency: o.MaxConcurrencyOpt = None,
    from_record: PlanFromOpt = None,
    health_from: HealthFromOpt = None,
    no_health: NoHealthOpt = False,
    no_kubernetes: o.NoKubernetesOpt = False,
    no_docker: o.NoDockerOpt = False,
    url: o.UrlOpt = None,
    context: o.ContextOpt = None,
    timeout: PlanTimeoutOpt = 10.0,
) -> None:
    """Phase 4, permanent fix: the playbooks' fixes for the classified bottleneck, with effort and a success metric."""
    from triage.cli.plan import finish, incident
    from triage.playbooks import make_plan

    found, library, _ = incident(
        o.Scope(service, all_services, namespace, at, window, baseline, since, until),
        o.Backends(config, prometheus_url, alertmanager_url, max_concurrency),
        PlanSources(from_record, health_from, no_health,
                   o.HealthChecks(no_kubernetes, no_docker, tuple(url or ()), context, timeout)), output)
    plan = make_plan(library, found, "fix")
    if output is o.Output.table:
        from triage.cli.table import plan_table

        plan_table(plan)
    finish(plan, output, [])
