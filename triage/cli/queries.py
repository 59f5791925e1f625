"""The PromQL catalog: what triage asks, and which of it this Prometheus can answer."""

from __future__ import annotations

import typer

from triage.cli import options as o

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
    if output is o.Output.json:
        print_json(queries_check_document(results, catalog, windows))
    else:
        from triage.cli.table import queries_check_table

        queries_check_table(results, with_data, list(catalog.signals))
    failed = [r for r in results if r["status"] == "error"]
    raise typer.Exit(3 if failed or not with_data else 0)
