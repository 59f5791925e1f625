"""The PromQL catalog: what triage asks, and which of it this Prometheus can answer."""

from __future__ import annotations

import math
import sys

import typer

from triage.cli import options

app = typer.Typer(help="The PromQL catalog: list it, check it against a Prometheus.", no_args_is_help=True)


@app.command("list")
def list_(
    output: options.Output = options.OutputOpt,
    config: options.OptStr = options.Config,
) -> None:
    """Every signal with its unit, thresholds (and where they come from) and query alternatives."""
    from rich.table import Table
    from rich.text import Text

    from triage.catalog import load_catalog
    from triage.cli import console
    from triage.cli.common import print_json
    from triage.config import load_settings

    settings = load_settings(config=config)
    catalog = load_catalog(settings.queries_dirs)
    if output is options.Output.json:
        print_json({"schema": "triage.queries/v1", "signals": [
            {"signal": s.name, "unit": s.unit, "description": s.description,
             "warning": s.threshold.warning, "critical": s.threshold.critical, "source": s.threshold.source,
             "file": str(catalog.origins[s.name]),
             "queries": [{"family": a.family, "key": a.key, "query": a.query} for a in s.alternatives]}
            for s in catalog.signals.values()]})
        return
    from triage.report import md, strip_control as clean

    # The catalog may be a user's files (queries_dir): what they say is shown, never acted on by the terminal.
    if output is options.Output.markdown:
        lines = ["| signal | unit | warning | critical | families | source |", "|---|---|---|---|---|---|"]
        for s in catalog.signals.values():
            fams = ", ".join(a.family for a in s.alternatives)
            lines.append(f"| {md(s.name)} | {md(s.unit)} | {_num(s.threshold.warning)} | {_num(s.threshold.critical)} | "
                         f"{md(fams)} | {md(s.threshold.source)} |")
        sys.stdout.write("\n".join(lines) + "\n")
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("signal", "unit", "warning", "critical", "alternatives", "source"):
        table.add_column(col, overflow="fold", no_wrap=col == "signal")
    for s in catalog.signals.values():
        fams = " → ".join(f"{a.family or 'custom'}" for a in s.alternatives)
        table.add_row(Text(clean(s.name)), Text(clean(s.unit)), _num(s.threshold.warning),
                      _num(s.threshold.critical), Text(clean(fams)), Text(clean(s.threshold.source)))
    console.out().print(table)


def _num(v: float | None) -> str:
    return "" if v is None else f"{v:g}"


@app.command("check")
def check(
    service: options.OptStr = options.Service,
    namespace: options.OptStr = options.Namespace,
    at: options.OptStr = options.At,
    window: str = options.Window,
    output: options.Output = options.OutputOpt,
    config: options.OptStr = options.Config,
    prometheus_url: options.OptStr = options.PrometheusUrl,
    max_concurrency: int = options.MaxConcurrency,
) -> None:
    """Run every query alternative against Prometheus and show which return data (run this first on a new cluster)."""
    from rich.table import Table
    from rich.text import Text

    from triage.catalog import load_catalog
    from triage.cli import clients, console
    from triage.cli.common import print_json, settings_from, windows_from
    from triage.errors import SourceError
    from triage.models import RangeQuery
    from triage.promql import alternation, render
    from triage.report import strip_control
    from triage.signals import placeholders

    settings = settings_from(config, prometheus_url)
    windows = windows_from(settings, at, window, "1m")
    catalog = load_catalog(settings.queries_dirs)
    source = clients.prometheus(settings, max_concurrency)
    if service:
        services = [settings.service(service, namespace)]
        values = placeholders(services, settings.rate_interval, fleet=False)
    else:
        services = list(settings.services.values())
        values = placeholders(services or [settings.service("*", namespace)], settings.rate_interval, fleet=True)
        values["namespace_re"] = alternation([namespace]) if namespace else ".+"
    rows = []
    jobs = []
    for spec in catalog.signals.values():
        for idx, alt in enumerate(spec.alternatives):
            rows.append((spec.name, idx, alt))
            jobs.append(RangeQuery(render(alt.query, values), windows.window.start.timestamp(),
                                   windows.end, windows.step))
    answers = source.query_range_many(jobs)
    if all(isinstance(a, SourceError) for a in answers):
        raise next(a for a in answers if isinstance(a, SourceError))
    results = []
    for (name, idx, alt), job, answer in zip(rows, jobs, answers):
        if isinstance(answer, SourceError):
            results.append({"signal": name, "alternative": idx, "family": alt.family, "key": alt.key,
                            "query": job.query, "status": "error", "error": answer.message, "series": 0,
                            "services": []})
            continue
        live = [s for s in answer if any(math.isfinite(v) for _, v in s.points)]
        keys = sorted({s.labels.get(alt.key, "") for s in live} - {""})
        results.append({"signal": name, "alternative": idx, "family": alt.family, "key": alt.key,
                        "query": job.query, "status": "data" if live else "empty", "series": len(live),
                        "services": keys[:50]})
    covered = sorted({r["signal"] for r in results if r["status"] == "data"})
    if output is options.Output.json:
        print_json({"schema": "triage.queries-check/v1", "window": windows.window.to_json(),
                    "signals_with_data": covered,
                    "signals_without_data": [n for n in catalog.signals if n not in covered],
                    "alternatives": results})
    else:
        table = Table(box=None, header_style="bold", pad_edge=False)
        for col in ("signal", "#", "family", "result", "by key"):
            table.add_column(col, overflow="fold", no_wrap=col == "signal")
        for r in results:
            style = {"data": "green", "empty": "dim", "error": "red"}[r["status"]]
            detail = (f"{r['series']} series" if r["status"] == "data" else
                      strip_control(r.get("error", "no data")))
            shown = ", ".join(strip_control(k) for k in r["services"][:5])
            table.add_row(Text(strip_control(r["signal"])), str(r["alternative"] + 1),
                          Text(strip_control(r["family"])), Text(detail, style=style),
                          Text(f"{strip_control(r['key'])}: {shown}") if shown else "")
        out = console.out()
        out.print(table)
        out.print(f"{len(covered)} of {len(catalog.signals)} signals have data; "
                  f"missing: {', '.join(n for n in catalog.signals if n not in covered) or 'none'}")
    failed = [r for r in results if r["status"] == "error"]
    raise typer.Exit(3 if failed or not covered else 0)
