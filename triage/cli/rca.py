"""Phase 3: correlate the signals and classify the bottleneck, with evidence; and capacity math."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Sequence

import typer

from triage.cli import options

if TYPE_CHECKING:
    from triage.analysis.rca import RcaResult


def _run(service, all_services, namespace, at, window, baseline, config, prometheus_url, alertmanager_url,
         max_concurrency, output, from_record=None):
    from triage.catalog import load_catalog
    from triage.cli import clients, console
    from triage.cli.common import settings_from, windows_from
    from triage.pipeline import resolve_target, run_rca

    settings = settings_from(config, None if from_record else prometheus_url, alertmanager_url)
    catalog = load_catalog(settings.queries_dirs)
    if from_record:
        from triage.cli.common import replay

        settings, windows, target, source, alerts, now = replay(from_record, settings, service)
        results, skipped = run_rca(settings, catalog, source, windows, target, alert_sources=alerts, now=now)
        if service:
            # The record answers the queries it was asked; pick the one service out of them.
            results = [r for r in results if r.service.name == service]
        return settings, windows, results, skipped
    windows = windows_from(settings, at, window, baseline, fleet=all_services)
    source = clients.prometheus(settings, max_concurrency)
    with console.progress(output is options.Output.table) as progress:
        target = resolve_target(settings, source, catalog, windows, service=service,
                                all_services=all_services, namespace=namespace)
        results, skipped = run_rca(settings, catalog, source, windows, target,
                                   alert_sources=clients.alert_sources(settings, source), progress=progress)
    return settings, windows, results, skipped


def rca(
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
) -> None:
    """Phase 3, root cause: correlate the signals and classify the bottleneck, with evidence."""
    from triage.analysis.rca import rank_fleet
    from triage.cli.common import print_json
    from triage.models import Status

    settings, windows, results, skipped = _run(service, all_services, namespace, at, window, baseline, config,
                                               prometheus_url, alertmanager_url, max_concurrency, output,
                                               from_record)
    if all_services or len(results) > 1:
        ranking = rank_fleet(results, settings.services)
        status = Status.worst([r.status for r in results])
        if output is options.Output.json:
            print_json({"schema": "triage.fleet/v1", "window": windows.window.to_json(),
                        "baseline": windows.baseline.to_json(), "ranking": ranking,
                        "services": {r.service.name: r.to_json() for r in results},
                        "skipped": [{"source": s, "reason": why} for s, why in skipped]})
        else:
            _render_fleet(ranking, results, output)
        raise typer.Exit(int(status.exit_code))
    [result] = results
    if output is options.Output.json:
        payload = result.to_json()
        payload["skipped"] = [{"source": s, "reason": why} for s, why in skipped]
        print_json(payload)
    elif output is options.Output.markdown:
        sys.stdout.write(rca_markdown(result))
    else:
        _render_table(result)
    raise typer.Exit(int(result.status.exit_code))


def capacity(
    service: str = typer.Option(..., "--service", "-s", metavar="NAME", help="The service to size."),
    namespace: options.OptStr = options.Namespace,
    at: options.OptStr = options.At,
    window: str = options.Window,
    baseline: str = options.Baseline,
    output: options.Output = options.OutputOpt,
    config: options.OptStr = options.Config,
    prometheus_url: options.OptStr = options.PrometheusUrl,
    max_concurrency: int = options.MaxConcurrency,
    from_record: options.OptStr = options.FromRecord,
) -> None:
    """Little's law against the pool, max_connections and the HPA (seeds 000 and 004)."""
    from triage.cli.common import print_json

    _, windows, results, _ = _run(service, False, namespace, at, window, baseline, config, prometheus_url, None,
                                  max_concurrency, output, from_record)
    result = next((r for r in results if r.service.name == service), None)
    if result is None:
        from triage.errors import UsageError

        raise UsageError(f"service '{service}' is not in the incident record")
    payload = {"schema": "triage.capacity/v1", "service": result.service.name, "window": windows.window.to_json(),
               "bottleneck": result.verdict.bottleneck, **result.capacity}
    if output is options.Output.json:
        print_json(payload)
    else:
        lines = result.capacity.get("lines") or ["not enough signals for capacity math (need rps with inflight, "
                                                 "db_time_per_request, db_pool_size, replicas, db_max_connections)"]
        prefix = "- " if output is options.Output.markdown else ""
        sys.stdout.write("".join(f"{prefix}{_clean(line)}\n" for line in lines))
    raise typer.Exit(0)


def _clean(text: str) -> str:
    from triage.report import strip_control

    return strip_control(text)


def rca_markdown(result: "RcaResult") -> str:
    from triage.models import iso
    from triage.report import md, md_code

    v = result.verdict
    lines = [f"# Root cause: {md(result.service.name)}", "",
             f"**{v.bottleneck}** (confidence {v.confidence:.2f}, trigger {v.trigger}, "
             f"severity {result.severity or 'none'}) — window {iso(result.window.start)} → {iso(result.window.end)}", "",
             md(v.sentence), ""]
    for cand in v.candidates:
        lines += [f"## {cand.bottleneck} ({cand.score:.2f})", "", "| signal | baseline | window | evidence |",
                  "|---|---|---|---|"]
        for ev in cand.evidence:
            lines.append(f"| {md(ev['signal'] or '')} | {_fmt(ev['baseline'])} | {_fmt(ev['window'])} | {md(ev['summary'])} |")
        lines.append("")
        queries = sorted({ev["query"] for ev in cand.evidence if ev["query"]})
        for q in queries:
            lines.append(f"- {md_code(q)}")
        lines.append("")
    if result.capacity.get("lines"):
        lines += ["## Capacity", ""] + [f"- {md(line)}" for line in result.capacity["lines"]] + [""]
    for inv in result.invariants:
        state = "VIOLATED" if inv.violated else "holds"
        lines.append(f"- invariant {md(inv.name)}: {state} (observed {_fmt(inv.minimum)}..{_fmt(inv.maximum)})")
    if v.missing:
        lines.append("Missing signals: " + ", ".join(sorted(v.missing)))
    return "\n".join(lines).rstrip() + "\n"


def _fmt(value: Any) -> str:
    return "" if value is None else f"{value:.4g}"


def _render_table(result: "RcaResult") -> None:
    from rich.text import Text

    from triage.cli import console
    from triage.report import strip_control

    out = console.out()
    v = result.verdict
    style = {"none": "green", "unknown": "magenta"}.get(v.bottleneck, "bold red")
    head = Text()
    head.append(f"{strip_control(result.service.name)}: ", style="bold")
    head.append(v.bottleneck, style=style)
    head.append(f"  confidence {v.confidence:.2f}  trigger {v.trigger}  severity {result.severity or '-'}")
    out.print(head)
    out.print(Text(strip_control(v.sentence)))
    for cand in v.candidates[:4]:
        out.print(Text(f"\n{cand.bottleneck}  {cand.score:.2f}", style="bold"))
        for ev in cand.evidence:
            sig = f"[{ev['signal']}] " if ev["signal"] else ""
            out.print(Text(f"  - {sig}{strip_control(ev['summary'])}"))
    for line in result.capacity.get("lines", []):
        out.print(Text(f"capacity: {strip_control(line)}", style="cyan"))
    for inv in result.invariants:
        out.print(Text(f"invariant {strip_control(inv.name)}: {'VIOLATED' if inv.violated else 'holds'} "
                       f"(observed {_fmt(inv.minimum)}..{_fmt(inv.maximum)})",
                       style="bold red" if inv.violated else "green"))
    if v.missing:
        out.print(Text("missing: " + ", ".join(sorted(v.missing)), style="dim"))


def _render_fleet(ranking: Sequence[dict], results: Sequence["RcaResult"], output: options.Output) -> None:
    from triage.report import md, strip_control

    by_name = {r.service.name: r for r in results}
    if output is options.Output.markdown:
        lines = ["| rank | service | bottleneck | ranking score | severity | why ranked here | summary |",
                 "|---|---|---|---|---|---|---|"]
        for i, row in enumerate(ranking, 1):
            lines.append(f"| {i} | {md(row['service'])} | {row['bottleneck']} | {row['score']:.2f} | "
                         f"{row['severity'] or ''} | {md(row.get('why', ''))} | "
                         f"{md(by_name[row['service']].verdict.sentence)} |")
        sys.stdout.write("\n".join(lines) + "\n")
        return
    sys.stdout.write("rank. service: bottleneck, ranking score (not the verdict's confidence), severity — why\n")
    for i, row in enumerate(ranking, 1):
        why = f" — {strip_control(row['why'])}" if row.get("why") else ""
        sys.stdout.write(f"{i:>3}. {strip_control(row['service'])}: {row['bottleneck']}, ranking score "
                         f"{row['score']:.2f}{', ' + row['severity'] if row['severity'] else ''}{why}\n")
