"""The closed vocabularies of CONTRACT.md: the bottleneck classes, triggers and health reasons.

Every other list of classes (playbook keys, schema checks, the classifier's rules) derives
from these, so a new class is added here once.
"""

from __future__ import annotations

INCIDENT_CLASSES: tuple[str, ...] = (
    "cpu_saturation", "memory_pressure", "db_pool_exhaustion", "db_latency", "lock_contention",
    "connection_churn", "external_dependency", "application_errors",
)
NO_INCIDENT = "none"
UNDECIDED = "unknown"
BOTTLENECKS: tuple[str, ...] = (*INCIDENT_CLASSES, NO_INCIDENT, UNDECIDED)
DB_CLASSES: tuple[str, ...] = ("db_pool_exhaustion", "db_latency", "lock_contention", "connection_churn")
# Classes that are the service's own resources saturating (as opposed to a dependency or a bug).
OWN_RESOURCE_CLASSES: tuple[str, ...] = ("cpu_saturation", "memory_pressure", *DB_CLASSES)
TRIGGERS: tuple[str, ...] = ("traffic_surge", "deploy", "dependency_failure", "none", "unknown")

HEALTH_KINDS = ("pod", "container", "deployment", "hpa", "node", "endpoint")
HEALTH_REASONS = (
    "OOMKilled", "CrashLoopBackOff", "Restarting", "Unhealthy", "Exited", "ImagePullBackOff", "NotReady",
    "Pending", "Evicted", "Unavailable", "RolloutStuck", "HPAAtMax", "HPAMetricsUnavailable", "NodeNotReady",
    "NodePressure", "EndpointDown", "EndpointSlow", "DependencyDown", "ErrorLogs",
)

# The signals of CONTRACT.md (here, not in signals.py, so settings read them without the signal
# value types: issue 17).
SIGNAL_NAMES = (
    "rps", "error_ratio", "latency_p95", "inflight", "cpu_usage_ratio", "cpu_throttle_ratio",
    "memory_usage_ratio", "restarts", "oom_kills", "db_latency_p95", "db_read_latency_p95",
    "db_write_latency_p95", "db_connect_share", "db_pool_usage_ratio", "db_pool_wait_p95",
    "db_connections_ratio", "db_lock_waits", "dependency_latency_p95", "dependency_error_ratio",
    "replicas", "replicas_max", "deploys",
)
# Added beyond CONTRACT's list (add-only): what capacity math needs.
EXTRA_SIGNALS = ("db_time_per_request", "db_pool_size", "db_max_connections", "db_pool_waiting",
                 "dependency_edge_latency_p95", "crash_looping", "image_pull_failing", "pods_not_running")
# Pod states from kube-state-metrics: judged where the backend has them, never listed as missing
# (most services are not on Kubernetes, and a record made before them never asked).
WHEN_PRESENT = ("crash_looping", "image_pull_failing", "pods_not_running")
