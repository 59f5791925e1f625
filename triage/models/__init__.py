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
from triage.models.vocabulary import (
    BOTTLENECKS,
    DB_CLASSES,
    EXTRA_SIGNALS,
    HEALTH_KINDS,
    HEALTH_REASONS,
    INCIDENT_CLASSES,
    NO_INCIDENT,
    OWN_RESOURCE_CLASSES,
    SIGNAL_NAMES,
    TRIGGERS,
    UNDECIDED,
    WHEN_PRESENT,
)

# The health values (17 dataclasses, ~a third of this package's import) are imported on first use
# (PEP 562): `rca` and `detect` never need them (issue 17). So are the signal values (and the SLO
# report they hold): `health` never needs them.
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
    from triage.models.signals import (
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


_SIGNALS = frozenset({
    "DetectReport",
    "Points",
    "QueryAlternative",
    "RangeQuery",
    "Samples",
    "Series",
    "ServiceDetection",
    "SignalSeries",
    "SignalSet",
    "SignalSpec",
    "SignalVerdict",
})


def __getattr__(name: str) -> Any:
    module = "triage.models.health" if name in _HEALTH else "triage.models.signals" if name in _SIGNALS else None
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
