"""Signals: their names, their catalog entries, the series the sources return and the verdicts on them.

A series' points are any sequence of (t, v) pairs: the Prometheus source hands in `Points`
(two arrays of doubles), a replay or a test a tuple; nothing downstream may rely on more (the
analysis reads `Points.columns()` where it has them, as a shortcut to the same numbers).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from operator import lt
from typing import Any

from triage.models.core import Alert, Status, Threshold, TimeRange, json_number
from triage.models.slo import SloReport
from triage.models.vocabulary import EXTRA_SIGNALS, SIGNAL_NAMES, WHEN_PRESENT  # noqa: F401 (re-exported)

Samples = Sequence[tuple[float, float]]


class Points(Sequence[tuple[float, float]]):
    """A series' (t, v) pairs as two arrays of doubles: 16 bytes a point where a tuple of two
    floats costs ~100. A fleet pass keeps ~25 signals x 150 points for every service (7.5 M
    points for 2,000 services: 1 GB as tuples, 120 MB here). Reads like the tuple it replaces."""

    __slots__ = ("_t", "_v", "_rising")

    def __init__(self, t: array, v: array, rising: bool | None = None) -> None:
        self._t = t
        self._v = v
        self._rising = rising     # whether the timestamps strictly rise: told, or found when first asked

    def __len__(self) -> int:
        return len(self._t)

    def columns(self) -> tuple[array, array]:
        """The timestamps and the values, as the (read-only) arrays they are kept in."""
        return self._t, self._v

    def rising(self) -> bool:
        """Whether the timestamps strictly rise (as every backend answers them)."""
        if self._rising is None:
            t = self._t
            self._rising = all(map(lt, t, islice(t, 1, None)))
        return self._rising

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return tuple(zip(self._t[index], self._v[index]))
        return (self._t[index], self._v[index])

    def __iter__(self) -> Iterator[tuple[float, float]]:
        return zip(self._t, self._v)

    def __reversed__(self) -> Iterator[tuple[float, float]]:
        return zip(reversed(self._t), reversed(self._v))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Points, tuple, list)):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))

    def __reduce__(self) -> Any:
        return (Points, (self._t, self._v))


@dataclass(frozen=True)
class QueryAlternative:
    """One PromQL template for a signal. `key` is the label naming the service in its result."""

    query: str
    key: str = "service"
    family: str = ""
    description: str = ""


@dataclass(frozen=True)
class SignalSpec:
    """One signal of the catalog: its query alternatives (tried in order), unit and thresholds."""

    name: str
    unit: str
    description: str
    alternatives: tuple[QueryAlternative, ...]
    threshold: Threshold = field(default_factory=Threshold)
    golden: str | None = None
    aggregate: str = "max"


@dataclass(frozen=True)
class RangeQuery:
    """One PromQL range query: the query and its start, end and step (seconds)."""

    query: str
    start: float
    end: float
    step: float


@dataclass(frozen=True)
class Series:
    """One series of an answer: its labels and its points."""

    labels: Mapping[str, str]
    points: Samples


@dataclass(frozen=True)
class SignalSeries:
    """A signal of one service over baseline + window, as the query that won returned it."""

    name: str
    service: str
    unit: str
    query: str
    alternative: int
    points: Samples
    # Per edge (the `server_address` a client metric names): which call it was. The service's
    # series is the worst of them; the fleet ranking reads them to find the callee.
    edges: Mapping[str, Samples] = field(default_factory=dict)

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
            "baseline": json_number(self.baseline),
            "window": json_number(self.window),
            "now": json_number(self.now),
            "change": json_number(self.change),
            "status": self.status.value,
            "warning": self.threshold.warning,
            "critical": self.threshold.critical,
            "summary": self.summary,
        }


@dataclass(frozen=True)
class ServiceDetection:
    """Phase 1's verdict on one service, signal by signal."""

    service: str
    namespace: str
    tier: int
    status: Status
    severity: str | None
    signals: tuple[SignalVerdict, ...]
    alerts: tuple[Alert, ...]
    missing_signals: Mapping[str, str]
    affected: str
    slo: SloReport | None = None

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
            **({"slo": self.slo.to_json()} if self.slo is not None else {}),
        }


@dataclass(frozen=True)
class DetectReport:
    """Phase 1's verdicts on the services of a pass, and what could not be read."""

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
