"""Phase 1: golden signals of the window against the baseline, firing alerts, severity."""

from __future__ import annotations

import sys

from typing import TYPE_CHECKING

import typer

from triage.cli import options

if TYPE_CHECKING:
    from triage.models import DetectReport

# Commands import their machinery when they run, so `triage --help` stays fast.


def detect(
    service: options.OptStr = options.Service,
    all_services: bool = options.AllServices,
    namespace: options.OptStr = options.Namespace,
    at: options.OptStr = options.At,
    window: str = options.Window,
    baseline: str = options.Baseline,
    output: options.Output = options.OutputOpt,
    config: options.OptStr = options.Config,
    prometheus_url: options.OptStr = options.PrometheusUrl,
    alertmanager_url: options.OptStr = options.AlertmanagerUrl,
    max_concurrency: int = options.MaxConcurrency,
    from_record: options.OptStr = options.FromRecord,
) -> int:
    """Phase 1, detection & triage: golden signals now vs baseline, firing alerts, severity, who is affected."""
    from triage.catalog import load_catalog
    from triage.cli import clients, console
    from triage.cli.common import settings_from, windows_from
    from triage.pipeline import resolve_target, run_detect

    settings = settings_from(config, None if from_record else prometheus_url, alertmanager_url)
    catalog = load_catalog(settings.queries_dirs)
    if from_record:
        from triage.cli.common import replay

        settings, windows, target, source, alerts, now = replay(from_record, settings, service)
        report = run_detect(settings, catalog, source, windows, target, alert_sources=alerts, now=now)
        if service:
            from dataclasses import replace

            report = replace(report, services=tuple(d for d in report.services if d.service == service))
    else:
        windows = windows_from(settings, at, window, baseline, fleet=all_services)
        source = clients.prometheus(settings, max_concurrency)
        with console.progress(output is options.Output.table) as progress:
            target = resolve_target(settings, source, catalog, windows, service=service,
                                    all_services=all_services, namespace=namespace)
            report = run_detect(settings, catalog, source, windows, target,
                                alert_sources=clients.alert_sources(settings, source), progress=progress)
    render(report, output)
    raise typer.Exit(int(report.status.exit_code))


def render(report: "DetectReport", output: options.Output) -> None:
    from rich.table import Table
    from rich.text import Text

    from triage.analysis.detect import fmt
    from triage.cli import console
    from triage.cli.common import print_json
    from triage.models import Status, iso
    from triage.report import detect_markdown, strip_control

    style = {Status.OK: "green", Status.WARNING: "yellow", Status.CRITICAL: "bold red", Status.UNKNOWN: "magenta"}
    if output is options.Output.json:
        print_json(report.to_json())
        return
    if output is options.Output.markdown:
        sys.stdout.write(detect_markdown(report))
        return
    out = console.out()
    out.print(Text(f"Window {iso(report.window.start)} → {iso(report.window.end)}  "
                   f"(baseline {iso(report.baseline.start)} → {iso(report.baseline.end)})", style="dim"))
    for det in report.services:
        head = Text()
        head.append(strip_control(det.service), style="bold")
        head.append(f"  {strip_control(det.namespace)}  tier {det.tier}  ")
        head.append(det.status.value.upper(), style=style[det.status])
        if det.severity:
            head.append(f"  {det.severity}", style=style[det.status])
        out.print()
        out.print(head)
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for col in ("signal", "baseline", "window", "change", "status"):
            table.add_column(col, justify="right" if col in ("baseline", "window", "change") else "left")
        for v in det.signals:
            if v.query is None:
                table.add_row(v.name, "", "", "", Text("missing", style="dim"))
                continue
            change = f"×{v.change:.2f}" if v.change is not None else ""
            table.add_row(v.name, fmt(v.baseline, v.unit), fmt(v.window, v.unit), change,
                          Text(v.status.value, style=style[v.status]))
        out.print(table)
        out.print(Text("affected: " + strip_control(det.affected)))
        for a in det.alerts:
            since = f" since {iso(a.starts_at)}" if a.starts_at else ""
            out.print(Text(f"alert: {strip_control(a.name)} ({strip_control(a.severity or 'no severity')}, "
                           f"{strip_control(a.source)}){since}", style="yellow"))
        for name, reason in sorted(det.missing_signals.items()):
            out.print(Text(f"missing: {name}: {strip_control(reason)}", style="dim"))
    for source, reason in report.skipped:
        console.err().print(Text(f"skipped {strip_control(source)}: {strip_control(reason)}", style="dim"))
