"""`triage serve`: the webhook receiver. Builds the settings and the real clients (the only place
that does), hands them to triage.serve, and serves until SIGINT / SIGTERM."""

from __future__ import annotations

import sys
from typing import Any, Callable

import typer

from triage.cli import options

Listen = typer.Option(None, "--listen", envvar="TRIAGE_SERVE_LISTEN", metavar="HOST:PORT",
                      help="Where to listen (default: the config's serve.listen, else 127.0.0.1:8080).")

Context = typer.Option(None, "--context", metavar="NAME", help="Kubeconfig context.")


def _health(no_kubernetes: bool, no_docker: bool, context: str | None) -> Callable[..., Any]:
    """The health phase of each run, as `triage run` does it (a source that is not there is skipped)."""
    from triage.cli.health import collect_health

    def factory(settings: Any, windows: Any) -> Callable[[Any], dict[str, Any]]:
        def run(target: Any) -> dict[str, Any]:
            report = collect_health(settings, list(target.services), window_seconds=windows.window.seconds,
                                    no_kubernetes=no_kubernetes, no_docker=no_docker, urls=[], context=context)
            return report.to_json()
        return run
    return factory


def serve(
    listen: options.OptStr = Listen,
    no_kubernetes: bool = typer.Option(False, "--no-kubernetes", help="Skip the Kubernetes health checks."),
    no_docker: bool = typer.Option(False, "--no-docker", help="Skip the Docker health checks."),
    context: options.OptStr = Context,
    config: options.OptStr = options.Config,
    prometheus_url: options.OptStr = options.PrometheusUrl,
    alertmanager_url: options.OptStr = options.AlertmanagerUrl,
    max_concurrency: int = options.MaxConcurrency,
) -> None:
    """Receive Alertmanager (or Grafana) webhooks: triage each firing group once, write its record and
    post-mortem draft, tell the sinks; `resolved` closes it. SIGTERM drains, then exits 143."""
    from triage.catalog import load_catalog
    from triage.cli import clients
    from triage.cli.common import settings_from
    from triage.errors import ConfigError, UsageError
    from triage.serve import Deps, Engine, run_server, serve_settings

    settings = settings_from(config, prometheus_url, alertmanager_url)
    cfg = serve_settings(settings, listen=listen)
    if cfg.token is None and not cfg.loopback:
        raise UsageError(f"--listen {cfg.host}:{cfg.port}: a receiver beyond loopback needs a bearer token "
                         "(serve.token_file, or the token in $TRIAGE_SERVE_TOKEN / serve.token_env)")
    if cfg.token is None:
        sys.stderr.write("triage: serve: warning: no bearer token set; any local process may post alerts\n")
    clients.prometheus(settings, max_concurrency)  # no Prometheus configured: say so now, not per alert
    deps = Deps(settings=settings, catalog=load_catalog(settings.queries_dirs),
                metrics=lambda: clients.prometheus(settings, max_concurrency),
                alerts=lambda source: clients.alert_sources(settings, source),
                health=_health(no_kubernetes, no_docker, context),
                backend=settings.prometheus.display_url if settings.prometheus else "")
    try:
        engine = Engine(cfg, deps)
    except OSError as exc:
        raise ConfigError(f"serve.spool_dir: cannot use {cfg.spool_dir}: {exc.strerror or exc}") from None
    run_server(cfg, engine)
