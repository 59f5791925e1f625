"""Real backends for tests: Prometheus (promtool backfill), VictoriaMetrics, Alertmanager."""

from tests.backends.servers import (
    Backend,
    BackendError,
    alertmanager,
    always_firing_rules,
    binary_available,
    free_port,
    post_alerts,
    prometheus_from_openmetrics,
    victoria_metrics_from_import,
    wait_for_data,
    wait_for_firing,
)

__all__ = [
    "Backend", "BackendError", "alertmanager", "always_firing_rules", "binary_available",
    "free_port", "post_alerts", "prometheus_from_openmetrics", "victoria_metrics_from_import",
    "wait_for_data", "wait_for_firing",
]
