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
