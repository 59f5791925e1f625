"""Phase 2 `triage mitigate`: the playbooks' mitigations for what was found; --apply runs the safe ones."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from triage.cli import options as o
from triage.cli.plan import (
    ApplyContextOpt,
    HealthFromOpt,
    NoHealthOpt,
    PlanFromOpt,
    PlanSources,
    PlanTimeoutOpt,
)

ApplyOpt = Annotated[bool, typer.Option(
    "--apply", help="Run the steps marked safe (scale, rollout restart, container restart), asking before each one. "
                    "Only what the config (or --service and --namespace) names for a service is changed, never "
                    "what a record alone names.")]
YesOpt = Annotated[bool, typer.Option(
    "--yes", "-y", help="With --apply: do not ask (needed when stdin is not a terminal).")]


def mitigate(
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
    context: ApplyContextOpt = None,
    timeout: PlanTimeoutOpt = 10.0,
    apply: ApplyOpt = False,
    yes: YesOpt = False,
) -> None:
    """Phase 2, mitigation: the playbooks' mitigations for what was found; --apply runs the safe ones."""
    from triage.cli import apply as applying
    from triage.cli.alerts import plan_alerts, plan_with_alerts
    from triage.cli.plan import finish, incident
    from triage.playbooks import make_plan

    applying.refuse_unattended(apply, yes)
    found, library, settings = incident(
        o.Scope(service, all_services, namespace, at, window, baseline, since, until),
        o.Backends(config, prometheus_url, alertmanager_url, max_concurrency),
        PlanSources(from_record, health_from, no_health,
                   o.HealthChecks(no_kubernetes, no_docker, tuple(url or ()), context, timeout)), output)
    plan, alerts = make_plan(library, found, "mitigate"), plan_alerts(found.rcas)
    actions: list[dict[str, Any]] = []
    unrecorded = False
    if apply:
        applying.check_before_applying(plan, found, settings, service, namespace)
    if output is o.Output.table:
        plan_with_alerts(plan, alerts)
    if apply:
        actions, unrecorded, stopped = applying.apply_and_record(plan, found, yes=yes, context=context,
                                                                 timeout=timeout)
        if stopped:
            raise typer.Exit(130)
        if output is o.Output.table:
            from triage.cli.table import actions_table

            actions_table(actions)
    elif yes:
        applying.say("--yes does nothing without --apply: nothing was changed")
    elif output is o.Output.table and plan.safe_steps:
        n = len(plan.safe_steps)
        applying.say(f"{n} step{' is' if n == 1 else 's are'} marked safe; nothing was changed (run with --apply to "
                     "be asked about each)")
    finish(plan, output, actions, failed=unrecorded, alerts=alerts)
