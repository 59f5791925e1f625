"""The PromQL catalog: what triage asks, and which of it this Prometheus can answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from triage.cli import options as o

if TYPE_CHECKING:
    from triage.catalog import Catalog
    from triage.signals import Windows
    from triage.sources.interface import MetricsSource

app = typer.Typer(help="The PromQL catalog: list it, check it against a Prometheus.", no_args_is_help=True)


@app.command("list")
def list_(
    output: o.OutputOpt = o.Output.table,
    config: o.ConfigOpt = None,
) -> None:
    """Every signal with its unit, thresholds (and where they come from) and query alternatives."""
    import sys

    from triage.catalog import load_catalog
    from triage.cli.console import print_json
    from triage.config import load_settings
    from triage.pipeline.catalog import queries_document

    catalog = load_catalog(load_settings(config=config).queries_dirs)
    # The catalog may be a user's files (queries_dir): what they say is shown, never acted on by the terminal.
    if output is o.Output.json:
        print_json(queries_document(catalog))
    elif output is o.Output.markdown:
        from triage.render.markdown.catalog import queries_markdown

        sys.stdout.write(queries_markdown(catalog))
    else:
        from triage.cli.table import queries_table

        queries_table(catalog)


@app.command("check")
def check(
    service: o.ServiceOpt = None,
    namespace: o.NamespaceOpt = None,
    at: o.AtOpt = None,
    window: o.WindowOpt = None,
    since: o.SinceOpt = None,
    until: o.UntilOpt = None,
    output: o.OutputOpt = o.Output.table,
    config: o.ConfigOpt = None,
    prometheus_url: o.PrometheusUrlOpt = None,
    max_concurrency: o.MaxConcurrencyOpt = None,
) -> None:
    """Run every query alternative against Prometheus and show which return data (run this first on a new cluster)."""
    from triage.catalog import load_catalog
    from triage.cli import clients, inputs
    from triage.cli.console import print_json
    from triage.pipeline.catalog import check_catalog, covered, queries_check_document

    settings = inputs.settings_from(o.Backends(config, prometheus_url))
    windows = inputs.windows_from(settings, at, window, "1m", since=since, until=until)
    catalog = load_catalog(settings.queries_dirs)
    source = clients.prometheus(settings, max_concurrency)
    results = check_catalog(source, catalog, settings, windows, service=service, namespace=namespace)
    with_data = covered(results)
    report = _new_cluster(source, catalog, windows, results, with_data, service)
    if output is o.Output.json:
        print_json({**queries_check_document(results, catalog, windows), **report})
    else:
        from triage.cli.table import queries_check_table

        queries_check_table(results, with_data, list(catalog.signals))
        _print_new_cluster(report)
    failed = [r for r in results if r["status"] == "error"]
    raise typer.Exit(3 if failed or not with_data else 0)


def _new_cluster(source: MetricsSource, catalog: Catalog, windows: Windows, results: list[dict[str, Any]],
                 with_data: list[str], service: str | None) -> dict[str, Any]:
    """Families found, signals that will be missing, and the `signals:` override to write."""
    from triage.pipeline.suggest import CLIENT_SIGNALS, REQUEST_SIGNALS, Candidates, families, probe, suggestion

    missing = [n for n in catalog.signals if n not in with_data]
    tried = {n: [a.family for a in catalog.spec(n).alternatives] for n in missing}
    wanted = [n for n in missing if n in REQUEST_SIGNALS or n in CLIENT_SIGNALS]
    candidates = probe(source, windows, service) if wanted else Candidates()
    written, text = suggestion(missing, tried, candidates)
    return {"families": families(results, catalog), "missing_signals": missing,
            "suggested_signals": written, "suggested_config": text}


def _print_new_cluster(report: dict[str, Any]) -> None:
    from triage.cli import console
    from triage.render.escape import strip_control as clean

    out = console.out()
    found = [f"{clean(name)} ({', '.join(row['signals'])})" for name, row in report["families"].items() if row["found"]]
    absent = [clean(name) for name, row in report["families"].items() if not row["found"]]
    out.print(f"families found: {'; '.join(found) or 'none'}", soft_wrap=True)
    out.print(f"families not found: {', '.join(absent) or 'none'}", soft_wrap=True)
    if report["suggested_config"]:
        out.print("to fill the missing signals, in triage.yaml:", soft_wrap=True)
        for line in report["suggested_config"].splitlines():
            # one line of YAML per line of output at any width, so a copy pastes whole
            out.print(clean(line), soft_wrap=True, markup=False, highlight=False)
