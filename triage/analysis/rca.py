"""Phase 3 results: one service's `triage.rca/v1`, and the fleet's `triage.fleet/v1` ranking."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from triage.analysis.capacity import capacity
from triage.analysis.classify import Verdict, classify, status_of
from triage.analysis.classify.levels import Level, sustain_for
from triage.analysis.detect import detect_service
from triage.config import ServiceConfig
from triage.models import INCIDENT_CLASSES as CLASSES
from triage.models import (
    SIGNAL_NAMES,
    Alert,
    SignalSet,
    SignalSpec,
    SignalVerdict,
    Status,
    TimeRange,
    json_number,
)

# The contract's signal names, looked up for each of a verdict's missing signals.
_CONTRACT_SIGNALS = frozenset(SIGNAL_NAMES)


@lru_cache(maxsize=8)
def _range_text(moments: TimeRange) -> tuple[str, str]:
    """A range's two RFC 3339 instants, formatted once: every service of a fleet has the same window
    and baseline (four strftime calls a service)."""
    got = moments.to_json()
    return got["start"], got["end"]


def _range_json(moments: TimeRange) -> dict[str, str]:
    start, end = _range_text(moments)
    return {"start": start, "end": end}


@dataclass(frozen=True)
class InvariantResult:
    name: str
    query: str
    low: float | None
    high: float | None
    minimum: float | None
    maximum: float | None
    violated: bool
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "query": self.query, "min": self.low, "max": self.high,
                "observed_min": self.minimum, "observed_max": self.maximum, "violated": self.violated,
                "reason": self.reason}


@dataclass(frozen=True)
class RcaResult:
    service: ServiceConfig
    window: TimeRange
    baseline: TimeRange
    verdict: Verdict
    status: Status
    severity: str | None
    capacity: Mapping[str, Any]
    invariants: tuple[InvariantResult, ...] = ()
    alerts: tuple[Alert, ...] = ()
    skipped: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def missing_signals(self) -> list[str]:
        """The contract's signals the verdict went without: what JSON's `missing_signals` and the
        table's "missing" line both say (optional extras are in `missing_reasons` only)."""
        return sorted(n for n in self.verdict.missing if n in _CONTRACT_SIGNALS)

    def to_json(self) -> dict[str, Any]:
        v = self.verdict
        signals = {}
        for name, lv in v.levels.items():
            signals[name] = {"baseline": json_number(lv.baseline), "window": json_number(lv.window), "unit": lv.unit,
                             "query": lv.query}
        return {
            "schema": "triage.rca/v1",
            "service": self.service.name,
            "namespace": self.service.namespace,
            "window": _range_json(self.window),
            "baseline": _range_json(self.baseline),
            "bottleneck": v.bottleneck,
            "confidence": v.confidence,
            "trigger": v.trigger,
            "summary": v.sentence,
            "candidates": [{"bottleneck": c.bottleneck, "score": round(c.score, 3), "evidence": c.evidence}
                           for c in v.candidates],
            "signals": signals,
            "missing_signals": self.missing_signals(),
            "missing_reasons": dict(sorted(v.missing.items())),
            "severity": self.severity,
            "status": self.status.value,
            "notes": list(v.notes),
            "capacity": dict(self.capacity),
            "invariants": [i.to_json() for i in self.invariants],
            "alerts": [a.to_json() for a in self.alerts],
        }


def rca_service(service: ServiceConfig, sets: SignalSet, specs: Mapping[str, SignalSpec],
                alerts: Sequence[Alert], callers: Sequence[str],
                invariants: Sequence[InvariantResult] = (), levels: dict[str, Level] | None = None,
                judged: Mapping[str, SignalVerdict] | None = None) -> RcaResult:
    """`levels` and `judged`: what `classify` and `detect_service` would work out first, when it
    already was (a fleet's, as each answer arrived: triage.analysis.early)."""
    sustain = sustain_for(sets)
    verdict = classify(sets, specs, service.name, sustain, levels)
    detection = detect_service(service, sets, specs, alerts, callers, sustain, verdict.levels, judged)
    status = status_of(verdict, detection.status)
    severity = detection.severity if status in (Status.WARNING, Status.CRITICAL) else None
    if verdict.bottleneck in CLASSES and severity is None:
        severity = "P3" if service.tier >= 2 else "P2"
    if verdict.bottleneck in CLASSES and not verdict.user_facing and not detection.alerts:
        # A resource out of its normal with no latency or error impact (and no alert): an
        # incident to look at, not a page.
        status = Status.WARNING
        severity = "P3" if service.tier >= 2 else "P2"
    if any(i.violated for i in invariants):
        status = Status.CRITICAL
        severity = {1: "P0", 2: "P1"}.get(service.tier, "P2")
    return RcaResult(
        service=service, window=sets.window, baseline=sets.baseline, verdict=verdict, status=status,
        severity=severity, capacity=capacity(verdict.levels, verdict.bottleneck), invariants=tuple(invariants),
        alerts=tuple(detection.alerts),
    )


def rank_fleet(results: Sequence[RcaResult], services: Mapping[str, ServiceConfig]) -> list[dict[str, Any]]:
    """Root cause first: a service slow because a dependency is slow is a symptom (CONTRACT.md)."""
    from triage.analysis.classify.fleet import rank_fleet as rank

    return rank(results, services)
