"""The only place that builds real clients, imported lazily so --help stays fast."""

from __future__ import annotations

from triage.config import Settings
from triage.errors import UsageError


def prometheus(settings: Settings, max_concurrency: int | None = None):
    if settings.prometheus is None:
        raise UsageError(
            "no Prometheus to ask: pass --prometheus-url URL, set TRIAGE_PROMETHEUS_URL, "
            "or set prometheus.url in triage.yaml"
        )
    from triage.sources.prometheus import PrometheusSource

    return PrometheusSource(settings.prometheus, max_concurrency=max_concurrency or settings.max_concurrency)


def alert_sources(settings: Settings, metrics) -> list:
    sources = [metrics]
    if settings.alertmanager is not None:
        from triage.sources.alertmanager import AlertmanagerSource

        sources.append(AlertmanagerSource(settings.alertmanager))
    return sources
