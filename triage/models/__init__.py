"""Frozen value types and vocabularies shared by every layer; imports nothing of triage.

The package's face: `from triage.models import X` for any public name of its modules.
"""

from triage.models.core import (
    Alert,
    ExitCode,
    Status,
    Threshold,
    TimeRange,
    iso,
    json_number,
)
from triage.models.health import (
    Condition,
    Deployment,
    DockerContainer,
    DockerStats,
    EndpointProbe,
    Finding,
    HealthProbe,
    HealthReport,
    Hpa,
    KubeContainer,
    KubeEvent,
    KubeSnapshot,
    LogRequest,
    LogText,
    Node,
    Pod,
    Skipped,
)
from triage.models.signals import (
    EXTRA_SIGNALS,
    SIGNAL_NAMES,
    WHEN_PRESENT,
    DetectReport,
    Points,
    QueryAlternative,
    RangeQuery,
    Samples,
    Series,
    ServiceDetection,
    SignalSeries,
    SignalSet,
    SignalSpec,
    SignalVerdict,
)
from triage.models.vocabulary import (
    BOTTLENECKS,
    DB_CLASSES,
    HEALTH_KINDS,
    HEALTH_REASONS,
    INCIDENT_CLASSES,
    NO_INCIDENT,
    OWN_RESOURCE_CLASSES,
    TRIGGERS,
    UNDECIDED,
)

__all__ = [
    "Alert", "ExitCode", "Status", "Threshold", "TimeRange", "iso", "json_number",
    "Condition", "Deployment", "DockerContainer", "DockerStats", "EndpointProbe", "Finding", "HealthProbe",
    "HealthReport", "Hpa", "KubeContainer", "KubeEvent", "KubeSnapshot", "LogRequest", "LogText", "Node", "Pod",
    "Skipped",
    "EXTRA_SIGNALS", "SIGNAL_NAMES", "WHEN_PRESENT", "DetectReport", "Points", "QueryAlternative", "RangeQuery",
    "Samples", "Series",
    "ServiceDetection", "SignalSeries", "SignalSet", "SignalSpec", "SignalVerdict",
    "BOTTLENECKS", "DB_CLASSES", "HEALTH_KINDS", "HEALTH_REASONS", "INCIDENT_CLASSES", "NO_INCIDENT",
    "OWN_RESOURCE_CLASSES", "TRIGGERS", "UNDECIDED",
]
