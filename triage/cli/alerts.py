"""`triage alerts`: the firing and pending alerts of Prometheus and Alertmanager, each mapped to
its service by the labels `serve` uses; what an engineer runs when paged without `serve`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from triage.cli import options as o

if TYPE_CHECKING:
    from triage.config import Settings
    from triage.models import Alert
    from triage.pipeline.alerts import AlertListing

ServiceFilterOpt = Annotated[str | None, typer.Option(
    "--service", "-s", metavar="NAME", help="Only the alerts of this service.")]
NamespaceFilterOpt = Annotated[str | None, typer.Option(
    "--namespace", "-n", metavar="NS", help="Only the alerts of this namespace.")]


def alert_sources(settings: Settings, max_concurrency: int | None = None) -> list[Any]:
    """Prometheus (`/api/v1/alerts`) and Alertmanager (`/api/v2/alerts`), whichever are configured."""
    from triage.cli import clients
    from triage.errors import UsageError

    sources: list[Any] = [clients.prometheus(settings, max_concurrency)] if settings.prometheus else []
    if settings.alertmanager is not None:
        from triage.sources.alertmanager import AlertmanagerSource

        sources.append(AlertmanagerSource(settings.alertmanager))
    if not sources:
        raise UsageError("no Prometheus or Alertmanager to ask: pass --prometheus-url or --alertmanager-url, "
                         "set TRIAGE_PROMETHEUS_URL / TRIAGE_ALERTMANAGER_URL, or set them in triage.yaml")
    return sources


def read_alerts(settings: Settings, sources: list[Any], service: str | None = None,
                namespace: str | None = None) -> AlertListing:
    from triage.pipeline.alerts import group_incidents, list_alerts
    from triage.serve.settings import service_labels, settle_of

    listing = list_alerts(sources, service_labels(settings), service=service, namespace=namespace)
    return group_incidents(listing, settle_of(settings))


def alerts(
    service: ServiceFilterOpt = None,
    namespace: NamespaceFilterOpt = None,
    output: o.OutputOpt = o.Output.table,
    config: o.ConfigOpt = None,
    prometheus_url: o.PrometheusUrlOpt = None,
    alertmanager_url: o.AlertmanagerUrlOpt = None,
) -> None:
    """The firing (and pending) alerts of Prometheus and Alertmanager, mapped to services; exits 0 when
    none is firing, 1 for a warning, 2 for a critical one, 3 when a backend could not be asked."""
    from triage.cli.console import print_json
    from triage.cli.inputs import settings_from

    settings = settings_from(o.Backends(config, prometheus_url, alertmanager_url, None))
    sources = alert_sources(settings)
    try:
        listing = read_alerts(settings, sources, service, namespace)
    finally:
        for source in sources:
            source.close()
    if output is o.Output.json:
        print_json(listing.to_json())
    elif output is o.Output.markdown:
        import sys

        from triage.render.markdown.alerts import alerts_markdown

        sys.stdout.write(alerts_markdown(listing))
    else:
        alerts_table(listing)
    raise typer.Exit(int(listing.status.exit_code))


def alerts_table(listing: AlertListing) -> None:
    from rich.table import Table
    from rich.text import Text

    from triage.cli import console
    from triage.models import Status
    from triage.render.escape import strip_control as clean

    style = {Status.OK: "", Status.WARNING: "yellow", Status.CRITICAL: "bold red"}
    out = console.out()
    if not listing.alerts:
        out.print("no alert is firing or pending")
    else:
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for column in ("state", "alert", "service", "namespace", "severity", "since", "summary"):
            table.add_column(column, overflow="fold")
        for a in listing.alerts:
            row = a.to_json()
            table.add_row(Text(a.state, style=style.get(a.status, "") if a.state == "firing" else "dim"),
                          clean(a.alert.name), clean(a.service or "(no service label)"), clean(a.namespace or ""),
                          clean(a.alert.severity or ""), row["since"] or "", clean(a.alert.summary))
        out.print(table)
        for a in listing.alerts:
            print_notes([a.alert], head=f"{a.alert.name} ({a.service or '?'})", skip_summary=True)
    for i in listing.incidents:
        out.print(Text(f"incident: {clean(i.service)} ({clean(i.namespace or 'default')}), window ends "
                       f"{i.to_json()['window_end']}: `triage run --alerts` triages it", style="dim"))
    for source, reason in listing.skipped:
        console.err().print(Text(f"skipped {clean(source)}: {clean(reason)}", style="dim"))


def print_notes(alerts: Iterable[Alert | dict[str, Any]], *, head: str | None = None,
                skip_summary: bool = False) -> None:
    """An alert's summary, description and runbook, under its name (detect, mitigate, alerts)."""
    from rich.text import Text

    from triage.cli import console
    from triage.render.escape import strip_control as clean
    from triage.render.markdown.alerts import alert_notes

    out = console.out()
    for alert in alerts:
        notes = [(w, t) for w, t in alert_notes(alert) if not (skip_summary and w == "summary")]
        if not notes:
            continue
        name = alert.get("alertname") if isinstance(alert, dict) else alert.name
        out.print(Text(f"alert {clean(head or str(name))}:", style="bold"))
        for what, text in notes:
            out.print(Text(f"  {what}: {clean(text)}"))


def run_alerts(scope: o.Scope, backends: o.Backends, checks: o.HealthChecks, out: str | None, force: bool) -> int:
    """`triage run --alerts`: one run per incident the firing alerts make (per service and
    namespace, as `serve` dedupes a group), each window ending at its first alert's start plus the
    settle delay; the worst exit code of them all."""
    import sys
    from dataclasses import replace

    from triage.catalog import load_catalog
    from triage.cli import inputs
    from triage.errors import TriageError, UsageError
    from triage.models import Status
    from triage.render.escape import strip_control as clean

    if scope.all_services or scope.at or scope.since or scope.until:
        raise UsageError("--alerts takes each window's end from its alert: drop --all-services, --at, --since "
                         "and --until (--service and --namespace pick among the alerts)")
    settings = inputs.settings_from(backends)
    if settings.prometheus is None:
        raise UsageError("--alerts triages each alert's service from Prometheus: pass --prometheus-url URL, set "
                         "TRIAGE_PROMETHEUS_URL, or set prometheus.url in triage.yaml")
    sources = alert_sources(settings, backends.max_concurrency)
    try:
        listing = read_alerts(settings, sources, scope.service, scope.namespace)
    finally:
        for source in sources:
            source.close()
    for source_name, reason in listing.skipped:
        sys.stderr.write(f"triage: skipped {clean(source_name)}: {clean(reason)}\n")
    unmapped = sorted({a.alert.name for a in listing.alerts if a.state == "firing" and a.service is None})
    if unmapped:
        names = clean(", ".join(unmapped))
        sys.stderr.write(f"triage: firing alert(s) without a service label, not triaged: {names}\n")
    if not listing.incidents:
        sys.stderr.write("triage: no firing alert names a service: nothing to triage\n")
        return int((Status.UNKNOWN if listing.skipped else Status.OK).exit_code)
    catalog = load_catalog(settings.queries_dirs)
    statuses = [Status.UNKNOWN] if listing.skipped else []
    for incident in listing.incidents:
        where = f"{incident.service} ({incident.namespace or settings.default_namespace})"
        sys.stderr.write(f"triage: {where}: {len(incident.alerts)} firing alert(s) since "
                         f"{incident.to_json()['started']}, window ends {incident.to_json()['window_end']}\n")
        one = replace(scope, service=incident.service, namespace=incident.namespace, at=str(int(incident.window_end)))
        try:
            statuses.append(_run_one(settings, catalog, one, backends, checks, incident, out, force))
        except TriageError as exc:
            sys.stderr.write(f"triage: {clean(where)}: {clean(exc.message)}\n")
            statuses.append(Status.UNKNOWN)
    return int(Status.worst(statuses).exit_code)


def _run_one(settings: Settings, catalog: Any, scope: o.Scope, backends: o.Backends, checks: o.HealthChecks,
             incident: Any, parent: str | None, force: bool) -> Any:
    """One incident's run; with --out DIR its files go to DIR/<incident-id>/."""
    from pathlib import Path

    from triage.cli import inputs
    from triage.cli.health import health_phase
    from triage.cli.incident import playbook_runner, summarise, write_outputs
    from triage.pipeline import record_status, run_phases

    with inputs.live(settings, catalog, scope, backends, show_progress=True) as i:
        record, _ = run_phases(
            settings, catalog, i.source, i.windows, i.target, alert_sources=i.alerts,
            health=lambda target: health_phase(settings, list(target.services), i.windows.window.seconds, checks),
            playbooks=playbook_runner(settings), progress=i.progress,
            backend=settings.prometheus.display_url if settings.prometheus else "",
        )
    record["triggered_by"] = {"command": "triage run --alerts", **incident.to_json(),
                              "alerts": [a.to_json() for a in incident.alerts]}
    out = str(Path(parent) / record["id"]) if parent else None
    record_path, pm_path = write_outputs(record, out, force, settings)
    summarise(record, record_path, pm_path)
    return record_status(record)


def plan_alerts(rcas: Any) -> list[dict[str, Any]]:
    """The firing alerts of a plan's services (render.plan), for `mitigate`."""
    from triage.render.plan import plan_alerts as of_rcas

    return of_rcas(rcas)


def plan_with_alerts(plan: Any, alerts: list[dict[str, Any]]) -> None:
    """`mitigate`'s table, then the summary, description and runbook of each firing alert."""
    from triage.cli.table import plan_table

    plan_table(plan)
    print_notes(alerts)
