"""Phase 1, detection & triage (seed 001 §5.4): golden signals now against the baseline,
firing alerts, a severity from the service's tier, and who is affected."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from statistics import median

from triage.analysis import stats
from triage.analysis.classify.levels import Level, sustain_for
from triage.config import ServiceConfig
from triage.models import (
    WHEN_PRESENT,
    Alert,
    DetectReport,
    ServiceDetection,
    SignalSeries,
    SignalSet,
    SignalSpec,
    SignalVerdict,
    Status,
)
from triage.render.units import fmt

DETECT_SIGNALS = (
    "rps", "error_ratio", "latency_p95", "inflight", "cpu_usage_ratio", "memory_usage_ratio",
    "db_pool_usage_ratio", "restarts", "oom_kills", "crash_looping", "image_pull_failing", "pods_not_running",
)
# Judged only where the backend has them (kube-state-metrics' pod states), shown only when a pod is
# in that state: never "missing", never a row of zeros.
OPTIONAL_SIGNALS = WHEN_PRESENT
# With neither of these we cannot say whether users are hurting.
REQUIRED_ANY = ("latency_p95", "error_ratio")
DATA_SIGNALS = ("rps", "error_ratio", "latency_p95", "cpu_usage_ratio", "memory_usage_ratio")
# Judged where no user-facing signal answered (a backend with only database exporters): the
# service's database is on its request path, so its saturation decides instead of nothing.
DB_FALLBACK_SIGNALS = ("db_connections_ratio", "db_lock_waits", "db_latency_p95")

# Seed 003's P0/P1/P2 by service criticality; a warning is one step milder than its tier's
# critical, and a critical finding far past its bound (≥ 2× critical) is one step graver.
_CRITICAL_SEVERITY = {1: 0, 2: 1, 3: 2}
_WARNING_SEVERITY = {1: 2, 2: 3, 3: 3}
EXTREME_FACTOR = 2.0
SURGE_FACTOR = 1.5
NOW_POINTS = 3
# The missing signals a detection lists (a set: looked up for each of a service's missing signals).
_LISTED_MISSING = frozenset(DETECT_SIGNALS) - frozenset(OPTIONAL_SIGNALS)

_CRITICAL_ALERT = {"critical", "page", "p0", "p1", "error", "high"}


def judge_signal(spec: SignalSpec, series: SignalSeries | None, sets: SignalSet, reason: str | None,
                 sustain: float | None = None, known: Level | None = None) -> SignalVerdict:
    """`known`: the classifier's level of this same series at this same `sustain`, whose window a
    `max` signal's is (the level held for the sustain period): taken from it, not read again."""
    if series is None:
        return SignalVerdict(
            name=spec.name, unit=spec.unit, query=None, baseline=None, window=None, status=Status.OK,
            change=None, threshold=spec.threshold, summary=f"missing: {reason or 'no data'}",
        )
    b0, b1 = sets.baseline.start.timestamp(), sets.baseline.end.timestamp()
    w0, w1 = sets.window.start.timestamp(), sets.window.end.timestamp()
    span = sustain if sustain is not None else sustain_for(sets)
    cols = stats.columns(series.points)
    if cols is not None:    # timestamps that rise (every backend's): each range is two bisections
        _, bv = stats.between(*cols, b0, b1)
        wt, wv = stats.between(*cols, w0, w1)
        baseline = _aggregate_finite(spec.aggregate, [], bv, baseline=True)
        if known is not None and known.series is series and spec.aggregate == "max":
            window = known.window
        else:
            window = _aggregate_finite(spec.aggregate, wt, wv, baseline=False, sustain=span)
        now = window if spec.aggregate in ("increase", "last", "peak") else (median(wv[-NOW_POINTS:]) if wv else None)
    else:
        base_points = [(t, v) for t, v in series.points if b0 <= t <= b1]
        win_points = [(t, v) for t, v in series.points if w0 <= t <= w1]
        baseline = _aggregate(spec.aggregate, base_points, baseline=True)
        window = _aggregate(spec.aggregate, win_points, baseline=False, sustain=span)
        now = _now(spec.aggregate, win_points, window)
    status = spec.threshold.status_of(window)
    now_status = spec.threshold.status_of(now)
    if now_status.rank > status.rank:
        status = now_status
    change = None
    if baseline is not None and window is not None and abs(baseline) > 1e-12:
        change = window / baseline
    summary = _summary(spec, baseline, window, change, status)
    if now is not None and now_status.rank > spec.threshold.status_of(window).rank:
        summary += f"; now {fmt(now, spec.unit)}"
    return SignalVerdict(
        name=spec.name, unit=spec.unit, query=series.query, baseline=baseline, window=window, status=status,
        change=change, threshold=spec.threshold, alternative=series.alternative, summary=summary, now=now,
    )


def _now(kind: str, points: list[tuple[float, float]], window: float | None) -> float | None:
    """The level at the end of the window: the median of its last points, so one scrape does
    not page but a fault a minute old does."""
    if kind in ("increase", "last", "peak"):
        return window
    tail = [v for _, v in points if math.isfinite(v)][-NOW_POINTS:]
    return median(tail) if tail else None


def _aggregate(kind: str, points: list[tuple[float, float]], *, baseline: bool,
               sustain: float = stats.SUSTAIN_SECONDS) -> float | None:
    if kind == "increase":
        return stats.increase(points)
    if kind == "last":
        return stats.last(points)
    if kind == "peak" and not baseline:
        return stats.peak(points)
    if baseline or kind == "median":
        return stats.robust_level([v for _, v in points])
    return stats.sustained_peak(points, sustain)


def _aggregate_finite(kind: str, ts: list[float], vs: list[float], *, baseline: bool,
                      sustain: float = stats.SUSTAIN_SECONDS) -> float | None:
    """`_aggregate` of points already finite with rising timestamps, given apart."""
    if kind == "increase":
        return stats.increase_of(vs)
    if kind == "last":
        return vs[-1] if vs else None
    if kind == "peak" and not baseline:
        return max(vs, default=None)
    if baseline or kind == "median":
        return median(vs) if vs else None
    return stats.rolling_peak(ts, vs, sustain)


def _summary(spec: SignalSpec, baseline: float | None, window: float | None, change: float | None,
             status: Status) -> str:
    text = f"{fmt(window, spec.unit)} (baseline {fmt(baseline, spec.unit)}"
    if change is not None and (change >= 1.2 or change <= 0.8):
        text += f", ×{change:.1f}"
    text += ")"
    th = spec.threshold
    if status is Status.CRITICAL and th.critical is not None:
        text += f" — above the critical {fmt(th.critical, spec.unit)}"
    elif status is Status.WARNING and th.warning is not None:
        text += f" — above the warning {fmt(th.warning, spec.unit)}"
    return text


def alert_status(alert: Alert) -> Status:
    sev = (alert.severity or "").lower()
    if sev in _CRITICAL_ALERT:
        return Status.CRITICAL
    if sev in ("info", "none", "debug"):
        return Status.OK
    return Status.WARNING


def severity(status: Status, tier: int, extreme: bool) -> str | None:
    if status is Status.CRITICAL:
        level = _CRITICAL_SEVERITY.get(tier, 1) - (1 if extreme else 0)
    elif status is Status.WARNING:
        level = _WARNING_SEVERITY.get(tier, 3)
    else:
        return None
    return f"P{max(0, level)}"


def detect_service(service: ServiceConfig, sets: SignalSet, specs: Mapping[str, SignalSpec],
                   alerts: Sequence[Alert], callers: Sequence[str], sustain: float | None = None,
                   levels: Mapping[str, Level] | None = None,
                   judged: Mapping[str, SignalVerdict] | None = None) -> ServiceDetection:
    """`levels`: the classifier's, at the same `sustain` (see `judge_signal`'s `known`); `judged`:
    verdicts of present signals already given by `judge_signal` on these (a fleet's, early)."""
    verdicts = []
    if sustain is None:
        sustain = sustain_for(sets)
    no_users = [n for n in REQUIRED_ANY if n in specs and sets.get(n) is None]
    from_db = [n for n in DB_FALLBACK_SIGNALS
               if n in specs and sets.get(n) is not None] if len(no_users) == len(REQUIRED_ANY) else []
    for name in (*DETECT_SIGNALS, *from_db):
        if name not in specs or (name in OPTIONAL_SIGNALS and sets.get(name) is None):
            continue
        verdict = judged.get(name) if judged is not None else None
        if verdict is None:
            verdict = judge_signal(specs[name], sets.get(name), sets, sets.missing.get(name), sustain,
                                   levels.get(name) if levels is not None else None)
        if name in OPTIONAL_SIGNALS and verdict.status is Status.OK and not (verdict.window or verdict.baseline):
            continue    # every pod running, as ever: nothing to show
        verdicts.append(verdict)
    firing = [a for a in alerts if a.state in ("firing", "active")]
    statuses = [v.status for v in verdicts] + [alert_status(a) for a in firing]
    status = Status.worst(statuses)
    missing = {k: v for k, v in sets.missing.items() if k in _LISTED_MISSING}
    if status is Status.OK and all(n in missing for n in REQUIRED_ANY if n in specs) and not from_db:
        status = Status.UNKNOWN
    extreme = any(
        v.status is Status.CRITICAL and v.window is not None and v.threshold.critical
        and v.window >= EXTREME_FACTOR * v.threshold.critical
        for v in verdicts
    )
    by_name = {v.name: v for v in verdicts}
    return ServiceDetection(
        service=service.name,
        namespace=service.namespace,
        tier=service.tier,
        status=status,
        severity=severity(status, service.tier, extreme),
        signals=tuple(verdicts),
        alerts=tuple(firing),
        missing_signals=missing,
        affected=_affected(service, by_name, status, callers) if not from_db else
        f"user impact unknown: no {' or '.join(no_users)} answered (judged from the database signals only: "
        f"{', '.join(from_db)})",
    )


def _affected(service: ServiceConfig, verdicts: Mapping[str, SignalVerdict], status: Status,
              callers: Sequence[str]) -> str:
    """Who is hurting, in numbers: failing requests per second and the share that is slow."""
    parts = []
    rps = verdicts.get("rps")
    err = verdicts.get("error_ratio")
    lat = verdicts.get("latency_p95")
    if rps and rps.window is not None:
        if err and err.window is not None and err.window > 0:
            parts.append(f"≈{rps.window * err.window:.1f} req/s failing ({fmt(err.window, 'ratio')} of "
                         f"{fmt(rps.window, 'req/s')})")
        if rps.change is not None and rps.change >= SURGE_FACTOR:
            parts.append(f"traffic ×{rps.change:.1f} over baseline")
    if lat and lat.window is not None and lat.status is not Status.OK:
        parts.append(f"1 in 20 requests waits longer than {fmt(lat.window, 's')}")
    if status in (Status.WARNING, Status.CRITICAL) and callers:
        parts.append("callers: " + ", ".join(sorted(callers)))
    if not parts:
        return "no user impact seen" if status is Status.OK else "impact unknown (signals missing)"
    return "; ".join(parts)


def callers_of(service: str, services: Mapping[str, ServiceConfig]) -> list[str]:
    return [name for name, cfg in services.items() if service in cfg.depends_on]


def build_report(detections: Sequence[ServiceDetection], sets: Sequence[SignalSet],
                 skipped: Sequence[tuple[str, str]] = ()) -> DetectReport:
    order = sorted(detections, key=lambda d: (-d.status.rank, d.severity or "P9", d.service))
    first = sets[0]
    return DetectReport(window=first.window, baseline=first.baseline, services=tuple(order),
                        skipped=tuple(skipped))
