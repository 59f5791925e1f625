"""The vocabulary of the generated data: scrape step, histogram buckets, metric families and their types."""

from __future__ import annotations

from collections.abc import Callable

Curve = Callable[[float], float]
CurveLike = float | int | Curve

STEP_SECONDS = 15

#: prometheus-fastapi-instrumentator's default buckets (also used for the DB,
#: pool-wait and client histograms, so one lookup table serves them all).
DEFAULT_BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
)

DB_OPERATIONS: tuple[str, ...] = ("select", "insert", "update", "delete", "connect")

#: postgres_exporter emits pg_locks_count for every mode, lowercase.
PG_LOCK_MODES: tuple[str, ...] = (
    "accesssharelock", "rowsharelock", "rowexclusivelock", "shareupdateexclusivelock",
    "sharelock", "sharerowexclusivelock", "exclusivelock", "accessexclusivelock",
)
PG_STATES: tuple[str, ...] = ("active", "idle", "idle in transaction")

#: Metric families that can be switched on/off per service (partial-signal variants).
FAMILIES: frozenset[str] = frozenset({
    "http",        # http_requests_total, http_request_duration_seconds
    "inflight",    # http_requests_inprogress
    "db",          # db_query_duration_seconds
    "pool",        # db_connection_pool_*, db_connection_wait_duration_seconds
    "process",     # process_cpu_seconds_total, process_resident_memory_bytes
    "client",      # http_client_request_duration_seconds (only when dependencies exist)
    "cadvisor",    # container_*
    "ksm",         # kube_pod_*, kube_deployment_*
    "hpa",         # kube_horizontalpodautoscaler_*
    "postgres",    # pg_stat_activity_count, pg_locks_count, pg_settings_max_connections
    "pgbouncer",   # pgbouncer_pools_*
    "alerts",      # ALERTS
})
DEFAULT_FAMILIES: frozenset[str] = FAMILIES - {"pgbouncer"}

_COUNTER, _GAUGE, _HISTOGRAM = "counter", "gauge", "histogram"

#: family name -> (type, help).  Counter families are named without ``_total``
#: (the OpenMetrics convention); their samples carry the suffix.
FAMILY_META: dict[str, tuple[str, str]] = {
    "http_requests": (_COUNTER, "Total number of requests by method, status and handler."),
    "http_request_duration_seconds": (_HISTOGRAM, "Latency with many buckets but no API specific labels."),
    "http_requests_inprogress": (_GAUGE, "Number of HTTP requests in progress."),
    "db_query_duration_seconds": (_HISTOGRAM, "Database query duration by operation."),
    "db_connection_pool_size": (_GAUGE, "Configured size of the DB connection pool."),
    "db_connection_pool_used": (_GAUGE, "DB connections checked out of the pool."),
    "db_connection_pool_available": (_GAUGE, "DB connections idle in the pool."),
    "db_connection_wait_duration_seconds": (_HISTOGRAM, "Time spent waiting for a pooled DB connection."),
    "process_cpu_seconds": (_COUNTER, "Total user and system CPU time spent in seconds."),
    "process_resident_memory_bytes": (_GAUGE, "Resident memory size in bytes."),
    "http_client_request_duration_seconds": (_HISTOGRAM, "Duration of HTTP client requests."),
    "container_cpu_usage_seconds": (_COUNTER, "Cumulative cpu time consumed in seconds."),
    "container_spec_cpu_quota": (_GAUGE, "CPU quota of the container."),
    "container_spec_cpu_period": (_GAUGE, "CPU period of the container."),
    "container_cpu_cfs_throttled_periods": (_COUNTER, "Number of throttled period intervals."),
    "container_cpu_cfs_periods": (_COUNTER, "Number of elapsed enforcement period intervals."),
    "container_memory_working_set_bytes": (_GAUGE, "Current working set in bytes."),
    "container_spec_memory_limit_bytes": (_GAUGE, "Memory limit for the container."),
    "kube_pod_container_status_restarts": (_COUNTER, "The number of container restarts per container."),
    "kube_pod_container_status_last_terminated_reason": (_GAUGE, "Describes the last reason the container was in terminated state."),
    "kube_pod_status_phase": (_GAUGE, "The pods current phase."),
    "kube_pod_container_info": (_GAUGE, "Information about a container in a pod."),
    "kube_pod_container_status_waiting_reason": (_GAUGE, "Describes the reason the container is currently in waiting state."),
    "kube_deployment_status_replicas_available": (_GAUGE, "The number of available replicas per deployment."),
    "kube_deployment_spec_replicas": (_GAUGE, "Number of desired pods for a deployment."),
    "kube_deployment_metadata_generation": (_GAUGE, "Sequence number representing a specific generation of the desired state."),
    "kube_deployment_status_observed_generation": (_GAUGE, "The generation observed by the deployment controller."),
    "kube_horizontalpodautoscaler_status_current_replicas": (_GAUGE, "Current number of replicas of pods managed by this autoscaler."),
    "kube_horizontalpodautoscaler_spec_max_replicas": (_GAUGE, "Upper limit for the number of pods that can be set by the autoscaler."),
    "kube_horizontalpodautoscaler_spec_min_replicas": (_GAUGE, "Lower limit for the number of pods that can be set by the autoscaler."),
    "pg_stat_activity_count": (_GAUGE, "number of connections in this state"),
    "pg_locks_count": (_GAUGE, "Number of locks"),
    "pg_settings_max_connections": (_GAUGE, "Sets the maximum number of concurrent connections."),
    "pgbouncer_pools_client_waiting_connections": (_GAUGE, "Client connections waiting on a server connection"),
    "pgbouncer_pools_client_active_connections": (_GAUGE, "Client connections linked to server connection and able to process queries"),
    "pgbouncer_pools_server_active_connections": (_GAUGE, "Server connections linked to a client connection"),
    "ALERTS": (_GAUGE, "Alerts firing (as recorded by Prometheus' rule manager)."),
}


