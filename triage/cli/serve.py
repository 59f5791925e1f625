"""`triage serve`: the webhook receiver. Builds the settings and the real clients (the only place
that does), hands them to triage.serve, and serves until SIGINT / SIGTERM."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from triage.cli import options as o

ListenOpt = Annotated[str | None, typer.Option(
    "--listen", envvar="TRIAGE_SERVE_LISTEN", metavar="HOST:PORT",
    help="Where to listen (default: the config's serve.listen, else 127.0.0.1:8080).")]


def _health(checks: o.HealthChecks) -> Callable[..., Any]:
    """The health phase of each run, as `triage run` does it (a source that is not there is skipped)."""
    from triage.cli.health import health_phase

    def factory(settings: Any, windows: Any) -> Callable[[Any], dict[str, Any]]:
        def run(target: Any) -> dict[str, Any]:
            return health_phase(settings, list(target.services), windows.window.seconds, checks)
        return run
    return factory


def serve(
    listen: ListenOpt = None,
    no_kubernetes: o.NoKubernetesOpt = False,
    no_docker: o.NoDockerOpt = False,
    context: o.ContextOpt = None,
    config: o.ConfigOpt = None,
    prometheus_url: o.PrometheusUrlOpt = None,
    alertmanager_url: o.AlertmanagerUrlOpt = None,
    max_concurrency: o.MaxConcurrencyOpt = None,
) -> None:
    """Receive Alertmanager (or Grafana) webhooks: triage each firing group once, write its record and
    post-mortem draft, tell the sinks; `resolved` closes it. SIGTERM drains, then exits 143."""
    from triage.catalog import load_catalog
    from triage.cli import clients
    from triage.cli.inputs import settings_from
    from triage.errors import ConfigError, UsageError
    from triage.serve import Deps, Engine, run_server, serve_settings

    settings = settings_from(o.Backends(config, prometheus_url, alertmanager_url, max_concurrency))
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
                health=_health(o.HealthChecks(no_kubernetes, no_docker, (), context)),
                backend=settings.prometheus.display_url if settings.prometheus else "")
    try:
        engine = Engine(cfg, deps)
    except OSError as exc:
        raise ConfigError(f"serve.spool_dir: cannot use {cfg.spool_dir}: {exc.strerror or exc}") from None
    run_server(cfg, engine)
