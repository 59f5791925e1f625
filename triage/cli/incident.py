"""The whole run (phases 1-4 into an incident record), the post-mortem (phase 5), the demo."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, List, Optional

import typer

from triage.cli import options

OutDir = typer.Option(None, "--out", metavar="DIR",
                      help="Where incident.json and postmortem.md go (default ./incidents/<incident-id>/).")
Force = typer.Option(False, "--force", help="Replace files that already exist (they may hold someone's edits).")


def _health_runner(settings, windows, *, no_kubernetes: bool, no_docker: bool, urls: list[str],
                   context: str | None):
    """The health phase, when this build has it; None otherwise (recorded as skipped)."""
    try:
        from triage.cli.health import collect_health  # type: ignore[attr-defined]
    except ImportError:
        return None

    def run(target) -> dict[str, Any]:
        report = collect_health(settings, list(target.services), window_seconds=windows.window.seconds,
                                no_kubernetes=no_kubernetes, no_docker=no_docker, urls=urls, context=context)
        return report.to_json()

    return run


def _playbook_runner(settings):
    from triage.playbooks import plan_for_record

    return lambda rca, health: plan_for_record(rca, health, settings)


def _write_outputs(record: dict, out: Optional[str], force: bool, settings) -> tuple[Path, Path]:
    """Both files or neither: the pair is staged whole, then named (exclusively unless --force),
    so a full or read-only disk, a racing writer or Ctrl-C leaves nothing that blocks a rerun."""
    from triage.incident import record_text, write_files
    from triage.postmortem import find_template, render

    directory = _out_dir(out, record["id"])
    record_path = directory / "incident.json"
    pm_path = directory / "postmortem.md"
    text = render(record, find_template("postmortem", settings.templates_dirs))
    write_files([(record_path, record_text(record, record_path)), (pm_path, text)], force=force)
    return record_path, pm_path


def _out_dir(out: Optional[str], incident: str) -> Path:
    return Path(out) if out else Path("incidents") / incident


def _refuse_early(out: Optional[str], force: bool, names: list[str], windows) -> None:
    """Files that would be refused at the end are refused before the phases run."""
    from triage.incident import incident_id, refuse_existing
    from triage.models import iso

    directory = _out_dir(out, incident_id(names, iso(windows.window.end)))
    refuse_existing([directory / "incident.json", directory / "postmortem.md"], force)


def _status_of(record: dict):
    from triage.models import Status

    statuses = []
    detect = record.get("detect") or {}
    statuses.append(Status(detect.get("status", "ok")))
    health = record.get("health") or {}
    if health.get("status"):
        statuses.append(Status(health["status"]))
    rca = record.get("rca") or {}
    if rca.get("schema") == "triage.fleet/v1":
        statuses += [Status(s.get("status", "ok")) for s in (rca.get("services") or {}).values()]
    elif rca.get("status"):
        statuses.append(Status(rca["status"]))
    return Status.worst(statuses)


def _summarise(record: dict, record_path: Path, pm_path: Path) -> None:
    from triage.postmortem import primary_rca
    from triage.report import strip_control

    err = sys.stderr
    for name, phase in (record.get("phases") or {}).items():
        extra = f" ({phase.get('reason')})" if phase.get("reason") else ""
        err.write(f"phase {name}: {phase.get('status')}{strip_control(extra)}\n")
    rca = primary_rca(record)
    if rca:
        err.write(f"root cause: {strip_control(rca.get('summary', ''))}\n")
    sys.stdout.write(f"{record_path}\n{pm_path}\n")


def run(
    service: options.OptStr = options.Service,
    all_services: bool = options.AllServices,
    namespace: options.OptStr = options.Namespace,
    at: options.OptStr = options.At,
    window: str = options.Window,
    baseline: str = options.Baseline,
    out: Optional[str] = OutDir,
    force: bool = Force,
    no_kubernetes: bool = typer.Option(False, "--no-kubernetes", help="Skip the Kubernetes health checks."),
    no_docker: bool = typer.Option(False, "--no-docker", help="Skip the Docker health checks."),
    url: Optional[List[str]] = typer.Option(None, "--url", metavar="URL", help="An HTTP health endpoint (repeatable)."),
    context: options.OptStr = typer.Option(None, "--context", metavar="NAME", help="Kubeconfig context."),
    config: options.OptStr = options.Config,
    prometheus_url: options.OptStr = options.PrometheusUrl,
    alertmanager_url: options.OptStr = options.AlertmanagerUrl,
    max_concurrency: int = options.MaxConcurrency,
) -> None:
    """Phases 1-4 in order; writes the incident record and the post-mortem draft."""
    from triage.catalog import load_catalog
    from triage.cli import clients, console
    from triage.cli.common import settings_from, windows_from
    from triage.pipeline import resolve_target
    from triage.runner import run_phases

    settings = settings_from(config, prometheus_url, alertmanager_url)
    windows = windows_from(settings, at, window, baseline, fleet=all_services)
    catalog = load_catalog(settings.queries_dirs)
    source = clients.prometheus(settings, max_concurrency)
    with console.progress(True) as progress:
        target = resolve_target(settings, source, catalog, windows, service=service, all_services=all_services,
                                namespace=namespace)
        _refuse_early(out, force, [s.name for s in target.services], windows)
        record, _ = run_phases(
            settings, catalog, source, windows, target, alert_sources=clients.alert_sources(settings, source),
            health=_health_runner(settings, windows, no_kubernetes=no_kubernetes, no_docker=no_docker,
                                  urls=list(url or []), context=context),
            playbooks=_playbook_runner(settings), progress=progress,
            backend=settings.prometheus.display_url if settings.prometheus else "",
        )
    record_path, pm_path = _write_outputs(record, out, force, settings)
    _summarise(record, record_path, pm_path)
    raise typer.Exit(int(_status_of(record).exit_code))


def demo(
    out: Optional[str] = OutDir,
    force: bool = Force,
) -> None:
    """`run` on the bundled recorded incident: no Prometheus, cluster or Docker needed."""
    from triage.catalog import bundled_dir
    from triage.config import load_settings
    from triage.incident import load

    path = bundled_dir("demo") / "incident.json"
    record = load(path)
    settings = load_settings(env={}, cwd=Path(__file__).parent)
    new = replay_record(record, settings, include_health=True)
    record_path, pm_path = _write_outputs(new, out, force, settings)
    _summarise(new, record_path, pm_path)
    sys.stderr.write(f"open {pm_path} for the post-mortem draft; `triage rca --from {record_path}` replays the "
                     "analysis\n")
    raise typer.Exit(0)


def replay_record(record: dict, settings, *, include_health: bool) -> dict:
    """The analysis of a record run again on its own answers: a new record, same evidence."""
    from triage.catalog import load_catalog
    from triage.runner import replay_inputs, run_phases

    replay_settings, windows, target, source, alerts, now = replay_inputs(record, settings)
    catalog = load_catalog(settings.queries_dirs)
    health = (lambda _target: record.get("health")) if include_health and record.get("health") else None
    new, _ = run_phases(replay_settings, catalog, source, windows, target, alert_sources=alerts, health=health,
                        playbooks=_playbook_runner(replay_settings), now=now, backend=record.get("backend") or "")
    new["actions"] = list(record.get("actions") or [])
    new["replayed_from"] = record.get("id")
    return new


def postmortem(
    record_file: Path = typer.Argument(..., metavar="INCIDENT_JSON", help="An incident record (incident.json)."),
    template: Optional[str] = typer.Option(None, "--template", metavar="NAME|PATH",
                                           help="Template name (user dirs first) or path; default postmortem."),
    out: Optional[Path] = typer.Option(None, "--out", metavar="FILE", help="Write here instead of stdout."),
    force: bool = Force,
    config: options.OptStr = options.Config,
) -> None:
    """Phase 5: render a markdown post-mortem draft from an incident record and a Jinja template."""
    from triage.config import load_settings
    from triage.incident import load, write_new
    from triage.postmortem import find_template, render

    settings = load_settings(config=config)
    record = load(record_file)
    text = render(record, find_template(template or "postmortem", settings.templates_dirs))
    if out is None:
        sys.stdout.write(text)
    else:
        write_new(out, text, force=force)
        sys.stdout.write(f"{out}\n")
    raise typer.Exit(0)
