"""The values every layer speaks in: statuses and exit codes, time ranges, thresholds, alerts.

Nothing in `triage.models` imports the rest of triage, so sources, analysis and renderers
can all depend on it without cycles, and a record written by one version reads back the same.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum, IntEnum
from typing import Any


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
    def worst(statuses: list[Status] | tuple[Status, ...]) -> Status:
        """The most severe status; an empty list is OK (nothing found is nothing wrong). Looked for
        by `in` (identity first, no enum hash or rank per member: a health report has thousands)."""
        if type(statuses) is not list and type(statuses) is not tuple:
            statuses = tuple(statuses)  # looked through up to three times
        for status in _WORST_FIRST:
            if status in statuses:
                return status
        return Status.OK


_STATUS_RANK = {Status.OK: 0, Status.UNKNOWN: 1, Status.WARNING: 2, Status.CRITICAL: 3}
_WORST_FIRST = (Status.CRITICAL, Status.WARNING, Status.UNKNOWN)
_STATUS_EXIT = {
    Status.OK: ExitCode.OK,
    Status.WARNING: ExitCode.WARNING,
    Status.CRITICAL: ExitCode.CRITICAL,
    Status.UNKNOWN: ExitCode.UNKNOWN,
}


@dataclass(frozen=True)
class TimeRange:
    """A span of time, UTC, start before end."""

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
class Alert:
    """A firing or pending alert, from an alert API or the ALERTS series."""

    name: str
    state: str
    severity: str | None
    source: str
    labels: Mapping[str, str]
    starts_at: datetime | None = None
    summary: str = ""
    description: str = ""
    runbook_url: str = ""

    @classmethod
    def from_api(cls, raw: Mapping[str, Any], *, source: str, state: str,
                 starts_at: datetime | None) -> Alert:
        """One alert as Prometheus' and Alertmanager's APIs list them: labels and annotations are
        maps; anything else in their place reads as none, never a crash."""
        got = raw.get("labels")
        labels = {str(k): str(v) for k, v in got.items()} if isinstance(got, Mapping) else {}
        notes = raw.get("annotations")
        annotations = notes if isinstance(notes, Mapping) else {}
        return cls(
            name=labels.get("alertname", "?"),
            state=state,
            severity=labels.get("severity"),
            source=source,
            labels=labels,
            starts_at=starts_at,
            summary=str(annotations.get("summary", "")),
            description=str(annotations.get("description", "")),
            runbook_url=str(annotations.get("runbook_url", "")),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "alertname": self.name,
            "state": self.state,
            "severity": self.severity,
            "source": self.source,
            "starts_at": iso(self.starts_at) if self.starts_at else None,
            "summary": self.summary,
            "description": self.description,
            "runbook_url": self.runbook_url,
            "labels": dict(self.labels),
        }


def json_number(value: float | None) -> float | None:
    """A number as the JSON documents carry it: rounded, and null when missing or not finite."""
    if value is None or not math.isfinite(value):
        return None
    return round(value, 6)
