"""Frozen value types shared by every layer.

Nothing here imports the rest of triage, so sources, analysis and renderers can all
depend on it without cycles, and a record written by one version reads back the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum, IntEnum
from typing import Any, Mapping


class ExitCode(IntEnum):
    """The Monitoring Plugins convention; CI and Nagios-style checks gate on these."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3
    INTERRUPTED = 130


class Status(str, Enum):
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        return _STATUS_RANK[self]

    @property
    def exit_code(self) -> ExitCode:
        return _STATUS_EXIT[self]

    @staticmethod
    def worst(statuses: "list[Status] | tuple[Status, ...]") -> "Status":
        """The most severe status; an empty list is OK (nothing found is nothing wrong)."""
        worst = Status.OK
        for status in statuses:
            if status.rank > worst.rank:
                worst = status
        return worst


_STATUS_RANK = {Status.OK: 0, Status.UNKNOWN: 1, Status.WARNING: 2, Status.CRITICAL: 3}
_STATUS_EXIT = {
    Status.OK: ExitCode.OK,
    Status.WARNING: ExitCode.WARNING,
    Status.CRITICAL: ExitCode.CRITICAL,
    Status.UNKNOWN: ExitCode.UNKNOWN,
}


@dataclass(frozen=True)
class TimeRange:
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def contains(self, ts: float) -> bool:
        return self.start.timestamp() <= ts <= self.end.timestamp()

    def to_json(self) -> dict[str, str]:
        return {"start": iso(self.start), "end": iso(self.end)}


def iso(moment: datetime) -> str:
    """RFC 3339 in UTC with a Z, the form the contract's JSON uses."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Threshold:
    """Warning/critical bounds of a signal; `direction` says which side is bad."""

    warning: float | None = None
    critical: float | None = None
    direction: str = "above"
    source: str = ""

    def status_of(self, value: float | None) -> Status:
        if value is None or math.isnan(value):
            return Status.OK
        above = self.direction == "above"

        def crossed(bound: float | None) -> bool:
            if bound is None:
                return False
            return value > bound if above else value < bound

        if crossed(self.critical):
            return Status.CRITICAL
        if crossed(self.warning):
            return Status.WARNING
        return Status.OK


@dataclass(frozen=True)
class QueryAlternative:
    """One PromQL template for a signal. `key` is the label naming the service in its result."""

    query: str
    key: str = "service"
    family: str = ""
    description: str = ""


@dataclass(frozen=True)
class SignalSpec:
    name: str
    unit: str
    description: str
    alternatives: tuple[QueryAlternative, ...]
    threshold: Threshold = field(default_factory=Threshold)
    golden: str | None = None
    aggregate: str = "max"


@dataclass(frozen=True)
class RangeQuery:
    query: str
    start: float
    end: float
    step: float


@dataclass(frozen=True)
class Series:
    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class SignalSeries:
    """A signal of one service over baseline + window, as the query that won returned it."""

    name: str
    service: str
    unit: str
    query: str
    alternative: int
    points: tuple[tuple[float, float], ...]
    # Per edge (the `server_address` a client metric names): which call it was. The service's
    # series is the worst of them; the fleet ranking reads them to find the callee.
    edges: Mapping[str, tuple[tuple[float, float], ...]] = field(default_factory=dict)

    def values_in(self, rng: TimeRange) -> list[float]:
        lo, hi = rng.start.timestamp(), rng.end.timestamp()
        return [v for t, v in self.points if lo <= t <= hi and math.isfinite(v)]


@dataclass(frozen=True)
class SignalSet:
    """Every signal of one service, plus what could not be found and why."""

    service: str
    namespace: str
    window: TimeRange
    baseline: TimeRange
    signals: Mapping[str, SignalSeries]
    missing: Mapping[str, str]

    def get(self, name: str) -> SignalSeries | None:
        return self.signals.get(name)


@dataclass(frozen=True)
class Alert:
    name: str
    state: str
    severity: str | None
    source: str
    labels: Mapping[str, str]
    starts_at: datetime | None = None
    summary: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "alertname": self.name,
            "state": self.state,
            "severity": self.severity,
            "source": self.source,
            "starts_at": iso(self.starts_at) if self.starts_at else None,
            "summary": self.summary,
            "labels": dict(self.labels),
        }


@dataclass(frozen=True)
class SignalVerdict:
    """One golden/saturation signal of `detect`: baseline against window, judged."""

    name: str
    unit: str
    query: str | None
    baseline: float | None
    window: float | None
    status: Status
    change: float | None
    threshold: Threshold
    summary: str
    alternative: int | None = None
    # The level at the end of the window (its last few points), beside the sustained `window`:
    # a fault minutes old shows here first.
    now: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "signal": self.name,
            "unit": self.unit,
            "query": self.query,
            "alternative": self.alternative + 1 if self.alternative is not None else None,
            "baseline": _num(self.baseline),
            "window": _num(self.window),
            "now": _num(self.now),
            "change": _num(self.change),
            "status": self.status.value,
            "warning": self.threshold.warning,
            "critical": self.threshold.critical,
            "summary": self.summary,
        }


@dataclass(frozen=True)
class ServiceDetection:
    service: str
    namespace: str
    tier: int
    status: Status
    severity: str | None
    signals: tuple[SignalVerdict, ...]
    alerts: tuple[Alert, ...]
    missing_signals: Mapping[str, str]
    affected: str

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "namespace": self.namespace,
            "tier": self.tier,
            "status": self.status.value,
            "severity": self.severity,
            "affected": self.affected,
            "signals": {v.name: v.to_json() for v in self.signals},
            "alerts": [a.to_json() for a in self.alerts],
            "missing_signals": sorted(self.missing_signals),
            "missing_reasons": dict(sorted(self.missing_signals.items())),
        }


@dataclass(frozen=True)
class DetectReport:
    window: TimeRange
    baseline: TimeRange
    services: tuple[ServiceDetection, ...]
    skipped: tuple[tuple[str, str], ...] = ()

    @property
    def status(self) -> Status:
        return Status.worst([s.status for s in self.services])

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "triage.detect/v1",
            "window": self.window.to_json(),
            "baseline": self.baseline.to_json(),
            "status": self.status.value,
            "services": [s.to_json() for s in self.services],
            "skipped": [{"source": src, "reason": why} for src, why in self.skipped],
        }


def json_number(value: float | None) -> float | None:
    """A number as the JSON documents carry it: rounded, and null when missing or not finite."""
    if value is None or not math.isfinite(value):
        return None
    return round(value, 6)


_num = json_number


HEALTH_KINDS = ("pod", "container", "deployment", "hpa", "node", "endpoint")
HEALTH_REASONS = (
    "OOMKilled", "CrashLoopBackOff", "Restarting", "Unhealthy", "Exited", "ImagePullBackOff", "NotReady",
    "Pending", "Evicted", "Unavailable", "RolloutStuck", "HPAAtMax", "HPAMetricsUnavailable", "NodeNotReady",
    "NodePressure", "EndpointDown", "EndpointSlow", "DependencyDown", "ErrorLogs",
)


@dataclass(frozen=True)
class Finding:
    """One health check result (CONTRACT.md `triage.health/v1`)."""

    kind: str
    name: str
    namespace: str | None
    check: str
    status: Status
    reason: str | None
    detail: str
    evidence: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "name": self.name,
            "namespace": self.namespace,
            "check": self.check,
            "status": self.status.value,
            "reason": self.reason,
            "detail": self.detail,
        }
        if self.evidence:
            out["evidence"] = list(self.evidence)
        return out


@dataclass(frozen=True)
class Skipped:
    source: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"source": self.source, "reason": self.reason}


@dataclass(frozen=True)
class HealthReport:
    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...] = ()

    @property
    def status(self) -> Status:
        return Status.worst([f.status for f in self.findings])

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "triage.health/v1",
            "status": self.status.value,
            "findings": [f.to_json() for f in self.findings],
            "skipped": [s.to_json() for s in self.skipped],
        }


# The bottleneck vocabulary (CONTRACT.md): every other list of classes derives from these.
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
