"""Phase 3 results: one service's `triage.rca/v1`, and the fleet's `triage.fleet/v1` ranking."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from triage.analysis.capacity import capacity
from triage.analysis.classify import Verdict, classify, status_of
from triage.models import INCIDENT_CLASSES as CLASSES
from triage.analysis.detect import detect_service
from triage.config import SIGNAL_NAMES, ServiceConfig
from triage.models import Alert, SignalSet, SignalSpec, Status, TimeRange

SEVERITY_WEIGHT = {"P0": 1.0, "P1": 0.85, "P2": 0.7, "P3": 0.55, None: 0.5}


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

    def to_json(self) -> dict[str, Any]:
        v = self.verdict
        signals = {}
        for name, lv in v.levels.items():
            signals[name] = {"baseline": _num(lv.baseline), "window": _num(lv.window), "unit": lv.unit,
                             "query": lv.query}
        return {
            "schema": "triage.rca/v1",
            "service": self.service.name,
            "namespace": self.service.namespace,
            "window": self.window.to_json(),
            "baseline": self.baseline.to_json(),
            "bottleneck": v.bottleneck,
            "confidence": v.confidence,
            "trigger": v.trigger,
            "summary": v.sentence,
            "candidates": [{"bottleneck": c.bottleneck, "score": round(c.score, 3), "evidence": c.evidence}
                           for c in v.candidates],
            "signals": signals,
            "missing_signals": sorted(n for n in v.missing if n in SIGNAL_NAMES),
            "missing_reasons": dict(sorted(v.missing.items())),
            "severity": self.severity,
            "status": self.status.value,
            "notes": list(v.notes),
            "capacity": dict(self.capacity),
            "invariants": [i.to_json() for i in self.invariants],
            "alerts": [a.to_json() for a in self.alerts],
        }


def _num(value: float | None) -> float | None:
    import math

    return None if value is None or not math.isfinite(value) else round(value, 6)


def rca_service(service: ServiceConfig, sets: SignalSet, specs: Mapping[str, SignalSpec],
                alerts: Sequence[Alert], callers: Sequence[str],
                invariants: Sequence[InvariantResult] = ()) -> RcaResult:
    verdict = classify(sets, specs, service.name)
    detection = detect_service(service, sets, specs, alerts, callers)
    status = status_of(verdict, detection.status)
    severity = detection.severity if status in (Status.WARNING, Status.CRITICAL) else None
    if verdict.bottleneck in CLASSES and severity is None:
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
    incident = {r.service.name: r for r in results if r.verdict.bottleneck != "none" and r.verdict.anomaly}

    def depth(name: str, seen: frozenset[str] = frozenset()) -> int:
        cfg = services.get(name)
        if cfg is None or name in seen:
            return 0
        deps = [d for d in cfg.depends_on if d in incident]
        return 1 + max(depth(d, seen | {name}) for d in deps) if deps else 0

    raw: dict[str, float] = {}
    for r in results:
        base = r.verdict.confidence if r.verdict.bottleneck not in ("none", "unknown") else 0.3
        if r.service.name in incident:
            raw[r.service.name] = base * SEVERITY_WEIGHT.get(r.severity, 0.5)
        else:
            raw[r.service.name] = 0.0 if r.verdict.bottleneck == "none" else base * 0.3
    # A dependency that is itself an incident inherits the weight of everyone it hurts.
    inherited = dict(raw)
    callers: dict[str, list[str]] = {}
    for name in incident:
        cfg = services.get(name)
        for dep in (cfg.depends_on if cfg else ()):
            if dep in incident:
                callers.setdefault(dep, []).append(name)

    def reach(name: str, seen: frozenset[str] = frozenset()) -> float:
        best = raw.get(name, 0.0)
        for caller in callers.get(name, []):
            if caller not in seen:
                best = max(best, reach(caller, seen | {name}))
        return best

    rows = []
    for r in results:
        name = r.service.name
        if name in incident:
            score = max(raw[name], reach(name)) * (0.5 ** depth(name))
        else:
            score = inherited[name]
        cfg = services.get(name)
        rows.append({"service": name, "bottleneck": r.verdict.bottleneck, "score": round(score, 3),
                     "severity": r.severity,
                     "symptom_of": [d for d in (cfg.depends_on if cfg else ()) if d in incident]})
    rows.sort(key=lambda row: (-row["score"], row["service"]))
    return rows
