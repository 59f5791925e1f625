"""Real backends for tests and benches: Prometheus (promtool backfill), VictoriaMetrics, Alertmanager."""

from testing.backends.alertmanager import alertmanager, post_alerts
from testing.backends.process import (
    ALERTMANAGER_BIN,
    PROMETHEUS_BIN,
    PROMTOOL_BIN,
    VICTORIA_METRICS_BIN,
    Backend,
    BackendError,
    binary_available,
    free_port,
    start,
    wait_for_data,
)
from testing.backends.prometheus import (
    always_firing_rules,
    prometheus_from_openmetrics,
    victoria_metrics_from_import,
    wait_for_firing,
)

__all__ = [
    "ALERTMANAGER_BIN", "PROMETHEUS_BIN", "PROMTOOL_BIN", "VICTORIA_METRICS_BIN", "Backend", "BackendError",
    "alertmanager", "always_firing_rules", "binary_available", "free_port", "post_alerts",
    "prometheus_from_openmetrics", "start", "victoria_metrics_from_import", "wait_for_data", "wait_for_firing",
]
