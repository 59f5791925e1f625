"""Frozen value types and vocabularies shared by every layer; imports nothing of triage.

The package's face: `from triage.models import X` for any public name of its modules.
"""

import importlib
from typing import TYPE_CHECKING, Any

from triage.models.core import (
    Alert,
    ExitCode,
    Status,
    Threshold,
    TimeRange,
    iso,
    json_number,
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

# The health values (17 dataclasses, ~a third of this package's import) are imported on first use
# (PEP 562): `rca` and `detect` never need them (issue 17).
if TYPE_CHECKING:
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

_HEALTH = frozenset({
    "Condition",
    "Deployment",
    "DockerContainer",
    "DockerStats",
    "EndpointProbe",
    "Finding",
    "HealthProbe",
    "HealthReport",
    "Hpa",
    "KubeContainer",
    "KubeEvent",
    "KubeSnapshot",
    "LogRequest",
    "LogText",
    "Node",
    "Pod",
    "Skipped",
})


def __getattr__(name: str) -> Any:
    if name in _HEALTH:
        value = getattr(importlib.import_module("triage.models.health"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
