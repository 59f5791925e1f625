"""What `mitigate` and `fix` plan from: a record, a health document, or a live rca and health run.

Their shared options live here too: the two commands take the same inputs and differ only in the
phase of the plan (and `--apply`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from triage.cli import options as o

if TYPE_CHECKING:
    from triage.config import Settings
    from triage.playbooks import Library, Plan, PlanInputs

PlanFromOpt = Annotated[str | None, typer.Option(
    "--from", metavar="INCIDENT_JSON",
    help="Plan from an incident record (its rca and health), with no network; --apply appends the actions to it.")]
HealthFromOpt = Annotated[str | None, typer.Option(
    "--health-from", metavar="HEALTH_JSON", help="A `triage health -o json` document to use instead of checking live.")]
NoHealthOpt = Annotated[bool, typer.Option("--no-health", help="Do not run the health checks (only the rca's steps).")]
# mitigate's --context and --timeout also reach the cluster --apply changes, so they say so.
ApplyContextOpt = Annotated[str | None, typer.Option(
    "--context", metavar="NAME",
    help="kubeconfig context for health checks and --apply (default: the current one).")]
PlanTimeoutOpt = Annotated[float, typer.Option(
    "--timeout", min=0.1, max=600, metavar="SECONDS",
    help="Deadline of every call to Kubernetes, Docker and HTTP endpoints, and of a kubeconfig exec credential "
         "plugin.")]


@dataclass(frozen=True)
class PlanSources:
    """Where a plan's documents come from (`--from`, `--health-from`, live) and how health is checked."""

    from_record: str | None
    health_from: str | None
    no_health: bool
    checks: o.HealthChecks


def incident(scope: o.Scope, backends: o.Backends, given: PlanSources,
             output: o.Output) -> tuple[PlanInputs, Library, Settings]:
    """Settings → the documents a plan is made from (a record, or a live rca and health run)."""
    from triage.config import load_settings
    from triage.errors import UsageError
    from triage.incident import read_json
    from triage.playbooks import (
        PlanInputs,
        check_health,
        incident_from_record,
        load_library,
    )

    settings = load_settings(config=backends.config, prometheus_url=backends.prometheus_url,
                             alertmanager_url=backends.alertmanager_url)
    library = load_library(settings.playbooks_dirs)
    prometheus_url = settings.prometheus.display_url if settings.prometheus else None
    alertmanager_url = settings.alertmanager.display_url if settings.alertmanager else None
    health = None
    if given.health_from:
        path = Path(given.health_from)
        health = check_health(read_json(path, "export of triage health -o json"), str(path))
    if given.from_record:
        if scope.all_services:
            raise UsageError("--from plans from the record's services; use --service NAME to pick one")
        found = incident_from_record(Path(given.from_record), service=scope.service)
        if health is not None:
            found = replace(found, health=health)
        return replace(found, prometheus_url=prometheus_url, alertmanager_url=alertmanager_url), library, settings
    if not scope.service and not scope.all_services:
        if health is not None:
            return PlanInputs(rcas=(), health=health, services=dict(settings.services), source=str(given.health_from),
                            prometheus_url=prometheus_url, alertmanager_url=alertmanager_url), library, settings
        raise UsageError("which incident? give --service NAME (or --all-services) to analyse it live, "
                         "--from incident.json for a record, or --health-from health.json")
    rcas, health = _live(settings, scope, backends, given, health, output)
    return PlanInputs(rcas=tuple(rcas), health=health, services=dict(settings.services), source="live",
                    prometheus_url=prometheus_url, alertmanager_url=alertmanager_url), library, settings


def _live(settings: Settings, scope: o.Scope, backends: o.Backends, given: PlanSources,
          health: Mapping[str, Any] | None, output: o.Output) -> tuple[list[Mapping[str, Any]], Any]:
    """Phase 3 live, then the health checks of its services (unless a document or --no-health says not)."""
    from triage.catalog import load_catalog
    from triage.cli import inputs
    from triage.cli.health import health_phase
    from triage.pipeline import analysis_document, run_rca
    from triage.playbooks import rca_documents

    catalog = load_catalog(settings.queries_dirs)
    with inputs.live(settings, catalog, scope, backends, show_progress=output is o.Output.table) as i:
        results, _ = run_rca(settings, catalog, i.source, i.windows, i.target, alert_sources=i.alerts,
                             progress=i.progress)
    rcas = rca_documents(analysis_document(results, settings.services, i.windows, i.target.fleet))
    checks = given.checks
    wanted = not (checks.no_kubernetes and checks.no_docker and not checks.urls
                  and not any(s.health_urls for s in i.target.services))
    if health is None and not given.no_health and wanted:
        health = health_phase(settings, list(i.target.services), i.windows.window.seconds, checks)
    return rcas, health


def finish(plan: Plan, output: o.Output, actions: Sequence[dict[str, Any]], *, failed: bool = False,
           alerts: Sequence[Mapping[str, Any]] = ()) -> None:
    """The plan on stdout (the table was printed as it went) and its exit code."""
    import sys

    from triage.cli.console import print_json
    from triage.render.plan import plan_markdown

    if output is o.Output.json:
        payload = plan.to_json()
        if plan.phase == "mitigate":
            payload["actions"] = list(actions)
            payload["alerts"] = list(alerts)
        print_json(payload)
    elif output is o.Output.markdown:
        sys.stdout.write(plan_markdown(plan, actions, alerts))
    raise typer.Exit(3 if failed else int(plan.status.exit_code))
