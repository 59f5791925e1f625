"""Phase 3: correlate the signals and classify the bottleneck, with evidence.

Each class is scored from the signals that decide it (seed 001's correlation rules, the
distinguishing rules of CONTRACT.md, coroot's explicit thresholds). Every level is
robust (baseline median, window sustained peak, MAD-scaled change), every score carries
the evidence lines it rests on, and a class whose deciding signals are absent is not
guessed: when nothing scores and something that decides is missing, the answer is
`unknown` with the missing signals named.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from statistics import median
from typing import Any, Mapping, Sequence

from triage.analysis import stats
from triage.analysis.detect import fmt
from triage.models import SignalSeries, SignalSet, SignalSpec, Status

CLASSES = (
    "cpu_saturation", "memory_pressure", "db_pool_exhaustion", "db_latency", "lock_contention",
    "connection_churn", "external_dependency", "application_errors",
)
# The signals without which a class cannot be judged at all.
DECIDING: Mapping[str, tuple[str, ...]] = {
    "cpu_saturation": ("cpu_usage_ratio", "cpu_throttle_ratio"),
    "memory_pressure": ("memory_usage_ratio", "oom_kills"),
    "db_pool_exhaustion": ("db_pool_usage_ratio", "db_pool_wait_p95", "db_pool_waiting"),
    "db_latency": ("db_latency_p95", "db_read_latency_p95"),
    "lock_contention": ("db_write_latency_p95", "db_lock_waits"),
    "connection_churn": ("db_connect_share",),
    "external_dependency": ("dependency_latency_p95", "dependency_error_ratio"),
    "application_errors": ("error_ratio",),
}
SAY = {
    "cpu_saturation": "is CPU-bound",
    "memory_pressure": "is under memory pressure",
    "db_pool_exhaustion": "is waiting for DB connections",
    "db_latency": "is waiting on slow queries",
    "lock_contention": "is waiting on database locks",
    "connection_churn": "opens a new DB connection per request",
    "external_dependency": "is waiting on a slow or failing dependency",
    "application_errors": "is failing without any resource saturating",
}
MIN_SCORE = 0.45
LEAK_PER_HOUR = 0.3
SURGE = 1.5
DEPLOY_LOOKBACK = 900.0


@dataclass(frozen=True)
class Level:
    """A signal judged: baseline median, window level (sustained peak), window median, change."""

    name: str
    unit: str
    query: str
    baseline: float | None
    window: float | None
    window_median: float | None
    ratio: float | None
    z: float | None
    onset: float | None
    series: SignalSeries

    def rose(self, factor: float = 1.5, z: float = 3.0) -> bool:
        if self.window is None or self.baseline is None:
            return False
        if self.ratio is not None and self.ratio < factor:
            return False
        return self.z is None or self.z >= z


@dataclass
class Candidate:
    bottleneck: str
    score: float = 0.0
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def add(self, level: Level | None, summary: str) -> None:
        if level is None:
            self.evidence.append({"signal": None, "query": None, "baseline": None, "window": None,
                                  "summary": summary})
            return
        self.evidence.append({
            "signal": level.name, "query": level.query, "baseline": _num(level.baseline),
            "window": _num(level.window), "summary": summary,
        })

    def raise_to(self, score: float) -> None:
        self.score = max(self.score, min(1.0, score))


def _num(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else round(v, 6)


def level(series: SignalSeries, spec: SignalSpec, sets: SignalSet) -> Level:
    b0, b1 = sets.baseline.start.timestamp(), sets.baseline.end.timestamp()
    w0, w1 = sets.window.start.timestamp(), sets.window.end.timestamp()
    base = [(t, v) for t, v in series.points if b0 <= t <= b1 and math.isfinite(v)]
    win = [(t, v) for t, v in series.points if w0 <= t <= w1 and math.isfinite(v)]
    bvals = [v for _, v in base]
    b = median(bvals) if bvals else None
    if spec.aggregate == "increase":
        w = stats.increase(win)
        b = stats.increase(base)
        wm = w
    elif spec.aggregate == "last":
        w = stats.last(win)
        wm = w
    elif spec.aggregate == "peak":
        w = stats.peak(win)
        wm = w
    else:
        w = stats.sustained_peak(win)
        wm = median(v for _, v in win) if win else None
    ratio = None
    if b is not None and w is not None:
        ratio = w / b if abs(b) > 1e-12 else (math.inf if w > 1e-12 else 1.0)
    z = None
    onset = None
    if bvals and w is not None and spec.aggregate not in ("increase", "last", "peak"):
        spread = stats.mad(bvals) or 0.0
        scale = max(1.4826 * spread, 0.05 * abs(b or 0.0), 1e-9)
        z = (w - (b or 0.0)) / scale
        # Leaving the baseline means 3 MADs out and a quarter of the way to the window's level:
        # a quiet baseline (1 ms of pool wait) has a MAD so small that noise would count.
        step = max(3 * scale, 0.25 * (w - (b or 0.0)))
        onset = _onset(base + win, b or 0.0, step, b1 - 1800)
    return Level(spec.name, spec.unit, series.query, b, w, wm, ratio, z, onset, series)


def _onset(points: Sequence[tuple[float, float]], base: float, step: float, earliest: float) -> float | None:
    """First time after `earliest` the signal rose more than `step` above its baseline and
    stayed there for 3 points."""
    out = 0
    first = None
    for t, v in points:
        if t < earliest:
            continue
        if v - base > step:
            out += 1
            if first is None:
                first = t
            if out >= 3:
                return first
        else:
            out = 0
            first = None
    return None


def _corr(a: SignalSeries, b: SignalSeries, start: float, end: float) -> float | None:
    """Pearson correlation of two signals over the same steps (does latency follow it?)."""
    left = {t: v for t, v in a.points if start <= t <= end and math.isfinite(v)}
    pairs = [(left[t], v) for t, v in b.points if t in left and math.isfinite(v)]
    if len(pairs) < 8:
        return None
    xs, ys = zip(*pairs)
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    vx = sum((x - mx) ** 2 for x in xs)
    vy = sum((y - my) ** 2 for y in ys)
    if vx <= 0 or vy <= 0:
        return None
    return sum((x - mx) * (y - my) for x, y in pairs) / math.sqrt(vx * vy)


def _hhmm(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%H:%M") if ts else "?"


@dataclass(frozen=True)
class Verdict:
    bottleneck: str
    confidence: float
    trigger: str
    candidates: tuple[Candidate, ...]
    levels: Mapping[str, Level]
    missing: Mapping[str, str]
    anomaly: bool
    sentence: str
    notes: tuple[str, ...]


def classify(sets: SignalSet, specs: Mapping[str, SignalSpec], service_name: str) -> Verdict:
    L: dict[str, Level] = {}
    for name, series in sets.signals.items():
        if name in specs:
            L[name] = level(series, specs[name], sets)

    def get(name: str) -> Level | None:
        return L.get(name)

    def th(name: str) -> tuple[float | None, float | None]:
        spec = specs.get(name)
        return (spec.threshold.warning, spec.threshold.critical) if spec else (None, None)

    lat, err, rps = get("latency_p95"), get("error_ratio"), get("rps")
    w0 = sets.window.start.timestamp()
    w1 = sets.window.end.timestamp()

    lat_w, lat_c = th("latency_p95")
    err_w, err_c = th("error_ratio")
    lat_bad = bool(lat and lat.window is not None and (
        (lat_w is not None and lat.window > lat_w and lat.rose(1.3))
        or (lat_c is not None and lat.window > lat_c)
        or lat.rose(2.0, 5.0)))
    err_bad = bool(err and err.window is not None and (
        (err_w is not None and err.window > err_w and (err.baseline is None or err.window - err.baseline > 0.005))
        or (err_c is not None and err.window > err_c)
        or (err.window - (err.baseline or 0.0) > 0.02)))
    oom = get("oom_kills")
    restarts = get("restarts")
    mem = get("memory_usage_ratio")
    oom_now = bool(oom and oom.window is not None and oom.window > 0 and (oom.baseline or 0) <= oom.window)
    restarted = bool(restarts and restarts.window is not None and restarts.window >= 1)
    mem_w, mem_c = th("memory_usage_ratio")
    mem_bad = bool(mem and mem.window is not None and mem_c is not None and mem.window >= mem_c)
    mem_slope = stats.slope_per_hour([(t, v) for t, v in mem.series.points if t >= w0]) if mem else None
    mem_last = stats.last(mem.series.points) if mem else None
    # A leak racing toward the limit is an incident before it is an OOM kill.
    mem_leak = bool(mem_slope is not None and mem_slope >= LEAK_PER_HOUR and mem_last is not None
                    and mem_w is not None and mem_last >= mem_w)
    anomaly = lat_bad or err_bad or oom_now or restarted or mem_bad or mem_leak

    cands = {c: Candidate(c) for c in CLASSES}
    notes: list[str] = []

    # --- CPU (seed 001: high RPS + high CPU + high latency → scale out) -------------------
    cpu, thr = get("cpu_usage_ratio"), get("cpu_throttle_ratio")
    c = cands["cpu_saturation"]
    cpu_w, cpu_c = th("cpu_usage_ratio")
    if cpu and cpu.window is not None:
        if cpu_c is not None and cpu.window >= cpu_c:
            c.raise_to(0.85)
            c.add(cpu, f"CPU {fmt(cpu.window, 'ratio')} of its limit (baseline {fmt(cpu.baseline, 'ratio')})")
        elif cpu_w is not None and cpu.window >= cpu_w:
            c.raise_to(0.6)
            c.add(cpu, f"CPU {fmt(cpu.window, 'ratio')} of its limit, near saturation")
    if thr and thr.window is not None:
        t_w, t_c = th("cpu_throttle_ratio")
        if t_c is not None and thr.window >= t_c:
            c.raise_to(max(c.score + 0.1, 0.8))
            c.add(thr, f"throttled in {fmt(thr.window, 'ratio')} of CFS periods (baseline {fmt(thr.baseline, 'ratio')})")
        elif t_w is not None and thr.window >= t_w and thr.rose(2.0):
            c.raise_to(max(c.score + 0.1, 0.55))
            c.add(thr, f"throttled in {fmt(thr.window, 'ratio')} of CFS periods")
    if c.score and lat and cpu:
        r = _corr(lat.series, cpu.series, w0 - 900, w1)
        if r is not None and r >= 0.6:
            c.raise_to(c.score + 0.05)
            c.add(cpu, f"latency follows CPU (r = {r:.2f})")

    # --- memory (seed 001: growing memory → leak; OOM kills) ------------------------------
    c = cands["memory_pressure"]
    if mem and mem.window is not None:
        slope = stats.slope_per_hour([(t, v) for t, v in mem.series.points if t >= w0 - 1800])
        growing = slope is not None and slope >= 0.05
        if mem_c is not None and mem.window >= mem_c:
            c.raise_to(0.8 if growing else 0.7)
            c.add(mem, f"working set {fmt(mem.window, 'ratio')} of the memory limit")
        elif mem_w is not None and mem.window >= mem_w and growing:
            c.raise_to(0.65)
            c.add(mem, f"working set {fmt(mem.window, 'ratio')} of the limit and rising")
        if growing and c.score:
            c.add(mem, f"rising {slope * 100:.0f} % of the limit per hour (least-squares slope): a leak")
            c.raise_to(c.score + 0.1)
        if mem_leak and mem_last is not None and mem_slope is not None:
            hours = max(0.0, (1.0 - mem_last) / mem_slope)
            c.raise_to(max(c.score, 0.75))
            c.add(mem, f"at {fmt(mem_last, 'ratio')} and rising {mem_slope * 100:.0f} % of the limit per hour "
                       f"in the window: the limit is {hours * 60:.0f} min away")
    if oom_now and oom is not None:
        c.raise_to(0.9)
        c.add(oom, f"{fmt(oom.window, 'containers')} OOM-killed")
    if restarted and restarts is not None and c.score:
        c.raise_to(c.score + 0.05)
        c.add(restarts, f"{restarts.window:.0f} restarts in the window")

    # --- the database: pool vs slow queries vs locks vs churn ------------------------------
    pool, wait = get("db_pool_usage_ratio"), get("db_pool_wait_p95")
    dbl, rd, wr = get("db_latency_p95"), get("db_read_latency_p95"), get("db_write_latency_p95")
    locks, conn = get("db_lock_waits"), get("db_connect_share")
    db_w, db_c = th("db_latency_p95")
    query_slow = bool(dbl and dbl.window is not None and db_w is not None and (
        (dbl.window >= db_w and dbl.rose(2.0)) or dbl.window >= (db_c or math.inf)))
    reads_slow = bool(rd and rd.window is not None and rd.rose(2.0) and db_w is not None and rd.window >= db_w * 0.5)
    writes_slow = bool(wr and wr.window is not None and wr.rose(3.0) and db_w is not None and wr.window >= db_w * 0.5)
    locks_up = bool(locks and locks.rose(2.0))
    churn_share = conn.window if conn and conn.window is not None else None

    c = cands["db_pool_exhaustion"]
    p_w, p_c = th("db_pool_usage_ratio")
    if pool and pool.window is not None:
        if p_c is not None and pool.window >= p_c:
            c.raise_to(0.7)
            c.add(pool, f"pool {fmt(pool.window, 'ratio')} in use on the fullest pod (baseline {fmt(pool.baseline, 'ratio')})")
        elif p_w is not None and pool.window >= p_w:
            c.raise_to(0.45)
            c.add(pool, f"pool {fmt(pool.window, 'ratio')} in use")
    if wait and wait.window is not None:
        wt_w, _ = th("db_pool_wait_p95")
        if wt_w is not None and wait.window >= wt_w and wait.rose(3.0):
            c.raise_to(max(c.score + 0.2, 0.6))
            c.add(wait, f"requests wait {fmt(wait.window, 's')} (p95) for a connection, baseline {fmt(wait.baseline, 's')}")
    waiting = get("db_pool_waiting")
    if waiting and waiting.window is not None:
        q_w, q_c = th("db_pool_waiting")
        if q_w is not None and waiting.window >= max(q_w, 1.0) and waiting.rose(3.0):
            strong = q_c is not None and waiting.window >= q_c
            c.raise_to(max(c.score + 0.15, 0.75 if strong else 0.55))
            c.add(waiting, f"{waiting.window:.0f} clients wait for a pgbouncer server connection "
                           f"(baseline {waiting.baseline or 0:.0f})")
    if c.score and dbl is None and sets.missing.get("db_latency_p95", "").startswith("query failed"):
        # Never a verdict built on a failed query: without query latency, a full pool could
        # as well be slow queries holding their connections.
        c.score = min(c.score, MIN_SCORE - 0.01)
        c.add(None, "cannot tell pool exhaustion from slow queries: the db_latency_p95 query failed")
    if c.score and dbl and dbl.window is not None:
        if query_slow:
            c.score *= 0.45
            c.add(dbl, f"but the queries themselves slowed to {fmt(dbl.window, 's')}: the pool fills because queries are slow")
        else:
            c.raise_to(c.score + 0.1)
            c.add(dbl, f"while queries stay at {fmt(dbl.window, 's')} (p95)")

    c = cands["db_latency"]
    if query_slow and dbl is not None:
        c.raise_to(0.85 if (db_c is not None and dbl.window >= db_c) else 0.75)
        c.add(dbl, f"query p95 {fmt(dbl.window, 's')} (baseline {fmt(dbl.baseline, 's')}, ×{dbl.ratio:.1f})")
    elif reads_slow and rd is not None:
        c.raise_to(0.65)
        c.add(rd, f"SELECT p95 {fmt(rd.window, 's')} (baseline {fmt(rd.baseline, 's')})")
    if c.score and writes_slow and not reads_slow and (locks is None or locks_up):
        c.score *= 0.5
        c.add(wr, "only writes slowed; reads did not")
    elif not c.score and writes_slow and wr is not None and locks is not None and not locks_up:
        c.raise_to(0.65)
        c.add(wr, f"write p95 {fmt(wr.window, 's')} (baseline {fmt(wr.baseline, 's')}) with lock counts flat: "
                  "the writes themselves are slow (I/O, indexes)")

    c = cands["lock_contention"]
    if writes_slow and wr is not None and not reads_slow:
        c.raise_to(0.7)
        c.add(wr, f"write p95 {fmt(wr.window, 's')} (baseline {fmt(wr.baseline, 's')}) while reads stay at "
                  f"{fmt(rd.window if rd else None, 's')}")
    if locks_up and locks is not None:
        c.raise_to(c.score + 0.2 if c.score else 0.5)
        c.add(locks, f"{fmt(locks.window, 'locks')} held or awaited (baseline {fmt(locks.baseline, 'locks')})")
    inflight = get("inflight")
    if c.score and inflight is not None and inflight.rose(1.5):
        c.raise_to(c.score + 0.05)
        c.add(inflight, f"in-flight requests ×{inflight.ratio:.1f}: high concurrency + high latency (seed 001)")
    if c.score and reads_slow:
        c.score *= 0.6
    if c.score and locks is not None and not locks_up:
        c.score *= 0.5
        c.add(locks, f"but lock counts stay at {fmt(locks.window, 'locks')}: writes are slow, not blocked")

    c = cands["connection_churn"]
    if churn_share is not None and conn is not None:
        cw, cc = th("db_connect_share")
        if cc is not None and churn_share >= cc:
            c.raise_to(0.85)
        elif cw is not None and churn_share >= cw:
            c.raise_to(0.6)
        if c.score:
            c.add(conn, f"opening connections is {fmt(churn_share, 'ratio')} of DB time "
                        f"(baseline {fmt(conn.baseline, 'ratio')}; seed 001 measured 46 % without pooling)")
            if conn.baseline is not None and churn_share - conn.baseline >= 0.15:
                c.raise_to(c.score + 0.1)

    # --- outbound dependency ----------------------------------------------------------------
    c = cands["external_dependency"]
    dlat, derr = get("dependency_latency_p95"), get("dependency_error_ratio")
    if dlat and dlat.window is not None:
        d_w, d_c = th("dependency_latency_p95")
        if d_w is not None and dlat.window >= d_w and dlat.rose(2.0):
            c.raise_to(0.85 if (d_c is not None and dlat.window >= d_c * 0.8) else 0.7)
            c.add(dlat, f"outbound p95 {fmt(dlat.window, 's')} (baseline {fmt(dlat.baseline, 's')})")
        elif (dlat.rose(3.0) and lat is not None and lat.window and lat.baseline is not None
              and dlat.window - (dlat.baseline or 0.0) >= 0.5 * (lat.window - lat.baseline) > 0):
            # Below the absolute bounds, but the outbound call grew by most of what the
            # service's own p95 grew: the dependency explains the slowdown.
            c.raise_to(0.65)
            c.add(dlat, f"outbound p95 {fmt(dlat.window, 's')} (baseline {fmt(dlat.baseline, 's')}, "
                        f"×{dlat.ratio:.1f}) accounts for most of the p95 increase")
        if c.score and lat is not None and lat.window and dlat.window / lat.window >= 0.5:
            c.raise_to(c.score + 0.05)
            c.add(dlat, f"the dependency accounts for {min(1.0, dlat.window / lat.window) * 100:.0f} % of the p95")
    if derr and derr.window is not None:
        e_w, _ = th("dependency_error_ratio")
        if e_w is not None and derr.window >= e_w and derr.window - (derr.baseline or 0) >= e_w:
            c.raise_to(max(c.score + 0.1, 0.7))
            c.add(derr, f"{fmt(derr.window, 'ratio')} of outbound calls fail (timeouts, 5xx/504)")

    # Own resources idle strengthens a dependency or an application verdict.
    saturated = [k for k in ("cpu_saturation", "memory_pressure", "db_pool_exhaustion", "db_latency",
                             "lock_contention", "connection_churn") if cands[k].score >= 0.6]
    if cands["external_dependency"].score and not saturated:
        cands["external_dependency"].raise_to(cands["external_dependency"].score + 0.05)

    # --- application errors (errors up, nothing saturated; often after a deploy) -------------
    c = cands["application_errors"]
    deploys = get("deploys")
    deployed_at = _deploy_time(deploys, w0 - DEPLOY_LOOKBACK, w1) if deploys else None
    if err_bad and err is not None:
        resource_families = sum(1 for k in ("cpu_usage_ratio", "memory_usage_ratio", "db_latency_p95",
                                            "db_pool_usage_ratio", "dependency_latency_p95") if k in L)
        # "Nothing saturated" needs the service's own container to be visible: without CPU,
        # memory or restarts a crash or OOM could hide behind the errors.
        own = any(k in L for k in ("cpu_usage_ratio", "memory_usage_ratio", "restarts", "oom_kills"))
        base = 0.6 if resource_families >= 2 and own else 0.35
        c.raise_to(base)
        c.add(err, f"errors {fmt(err.window, 'ratio')} (baseline {fmt(err.baseline, 'ratio')})")
        if deployed_at is not None:
            c.raise_to(c.score + 0.25)
            c.add(deploys, f"a rollout at {_hhmm(deployed_at)}, before the errors started at {_hhmm(err.onset)}")
        if restarted and not oom_now and restarts is not None:
            c.raise_to(c.score + 0.1)
            c.add(restarts, f"{restarts.window:.0f} restarts without OOM kills: a crash loop")
        if deployed_at is None and not restarted and lat_bad and lat is not None and lat.rose(3.0):
            # Latency far past critical with no deploy: errors are more likely timeouts of a
            # saturation we cannot see than a bug.
            c.score *= 0.6
            c.add(lat, f"but latency {fmt(lat.window, 's')} suggests timeouts, not a bug")
        if saturated or cands["external_dependency"].score >= 0.6:
            c.score *= 0.4
    elif restarted and not oom_now and restarts is not None and anomaly and not saturated:
        c.raise_to(0.5)
        c.add(restarts, f"{restarts.window:.0f} restarts without OOM kills: a crash loop")

    # A throttled container slows every timer inside it: queries and outbound calls timed by
    # the process itself stretch while it waits for CPU (an event loop or thread pool behind a
    # spent CFS quota). Rising together with heavy throttling, they are CPU's symptoms unless
    # they clearly moved first.
    t_crit = th("cpu_throttle_ratio")[1]
    if (cands["cpu_saturation"].score >= 0.9 and thr is not None and thr.window is not None
            and t_crit is not None and thr.window >= t_crit):
        for key in ("db_latency", "external_dependency"):
            cand = cands[key]
            leader = _leading(cand, L)
            if not cand.score or leader is None:
                continue
            if thr.onset is None or leader.onset is None or leader.onset >= thr.onset - 60:
                cand.score *= 0.7
                cand.add(leader, f"rose with the CPU throttling ({fmt(thr.window, 'ratio')} of periods): "
                                 "timers inside a throttled process stretch too")

    # Cause precedes effect: a signal that moved after latency did is more likely a symptom.
    if lat is not None and lat.onset is not None:
        for key, cand in cands.items():
            if not cand.score:
                continue
            leader = _leading(cand, L)
            if leader is not None and leader.onset is not None:
                if leader.onset > lat.onset + 180:
                    cand.score *= 0.8
                    cand.add(leader, f"moved at {_hhmm(leader.onset)}, after latency ({_hhmm(lat.onset)})")
                elif leader.onset <= lat.onset:
                    cand.add(leader, f"moved first, at {_hhmm(leader.onset)} (latency at {_hhmm(lat.onset)})")
            if leader is not None and key != "cpu_saturation":
                r = _corr(lat.series, leader.series, w0 - 900, w1)
                if r is not None and r >= 0.6:
                    cand.add(leader, f"latency follows {leader.name} (r = {r:.2f} over the window and the "
                                     "15 minutes before)")

    ranked = sorted((c for c in cands.values() if c.score > 0), key=lambda c: -c.score)
    missing = {k: v for k, v in sets.missing.items()}
    traffic_up = bool(rps and rps.ratio is not None and rps.window_median is not None and rps.baseline
                      and rps.window_median / rps.baseline >= SURGE)
    top = ranked[0] if ranked else None
    if not anomaly and (top is None or top.score < 0.8 or top.bottleneck in ("cpu_saturation", "db_pool_exhaustion")
                        and not (lat_bad or err_bad)):
        golden = [n for n in ("latency_p95", "error_ratio", "rps") if n in L]
        # "Nothing is wrong" is a claim about latency and errors: it cannot rest on a query
        # that failed (a timeout, a backend error), only on one that answered.
        failed = [n for n in ("latency_p95", "error_ratio")
                  if n not in L and sets.missing.get(n, "").startswith("query failed")]
        if not golden:
            bottleneck, confidence = "unknown", 0.0
            notes.append("no latency, error or traffic signal to judge")
        elif failed:
            bottleneck, confidence = "unknown", 0.0
            notes.append("cannot say nothing is wrong: the " + " and ".join(failed) + " "
                         + ("query" if len(failed) == 1 else "queries") + " failed")
        else:
            bottleneck = "none"
            confidence = round(min(0.95, 0.5 + 0.15 * len(golden) - (0.1 if top is not None else 0.0)), 2)
        if top is not None:
            notes.append(f"{top.bottleneck} signals are elevated ({top.score:.2f}) but latency and errors "
                         "are within their normal range")
    elif top is None or top.score < MIN_SCORE:
        bottleneck, confidence = "unknown", round(top.score if top else 0.0, 2)
        blind = [c for c in CLASSES if not any(s in L for s in DECIDING[c])]
        if blind:
            notes.append("cannot judge " + ", ".join(blind) + ": missing " +
                         ", ".join(sorted({s for c in blind for s in DECIDING[c] if s not in L})))
        if traffic_up and get("cpu_usage_ratio") is not None and not cands["cpu_saturation"].score:
            notes.append("high RPS + low CPU + high latency points at the database (seed 001), "
                         "but its signals are missing")
    else:
        bottleneck = top.bottleneck
        second = ranked[1].score if len(ranked) > 1 else 0.0
        margin = top.score - second
        # Never certainty: the verdict rests on what the exporters show.
        confidence = round(min(0.97, top.score * min(1.0, 0.55 + margin)), 2)

    trigger = _trigger(bottleneck, rps, traffic_up, deployed_at)
    sentence = _sentence(service_name, bottleneck, top, L, traffic_up, rps, notes)
    return Verdict(bottleneck=bottleneck, confidence=confidence, trigger=trigger, candidates=tuple(ranked),
                   levels=L, missing=missing, anomaly=anomaly, sentence=sentence, notes=tuple(notes))


def _leading(cand: Candidate, levels: Mapping[str, Level]) -> Level | None:
    for ev in cand.evidence:
        name = ev.get("signal")
        if name and name in levels and levels[name].onset is not None:
            return levels[name]
    return None


def _deploy_time(deploys: Level, start: float, end: float) -> float | None:
    prev = None
    for t, v in deploys.series.points:
        if not math.isfinite(v):
            continue
        if prev is not None and v > prev and start <= t <= end:
            return t
        prev = v
    return None


def _trigger(bottleneck: str, rps: Level | None, traffic_up: bool, deployed_at: float | None) -> str:
    if bottleneck == "external_dependency":
        return "dependency_failure"
    if deployed_at is not None and bottleneck not in ("none",):
        return "deploy"
    if traffic_up:
        return "traffic_surge"
    if rps is None:
        return "unknown"
    return "none"


def _sentence(service: str, bottleneck: str, top: Candidate | None, levels: Mapping[str, Level],
              traffic_up: bool, rps: Level | None, notes: Sequence[str]) -> str:
    if bottleneck == "none":
        text = f"{service}: no incident — latency and errors are within their normal range"
    elif bottleneck == "unknown":
        text = f"{service}: something is wrong but the signals present cannot tell what"
    else:
        parts = [ev["summary"] for ev in (top.evidence if top else [])[:2]]
        text = f"{service} {SAY[bottleneck]}: " + "; ".join(parts)
        cpu = levels.get("cpu_usage_ratio")
        if bottleneck != "cpu_saturation" and cpu is not None and cpu.window is not None:
            text += f"; CPU {fmt(cpu.window, 'ratio')}"
    if traffic_up and rps is not None and rps.window_median and rps.baseline:
        text += f"; traffic ×{rps.window_median / rps.baseline:.1f} (trigger)"
    if bottleneck in ("none", "unknown") and notes:
        text += " (" + "; ".join(notes) + ")"
    return text


def status_of(verdict: Verdict, detect_status: Status) -> Status:
    """What `rca` exits with: unknown when it cannot decide, else what detection found."""
    if verdict.bottleneck == "unknown":
        return Status.UNKNOWN
    if verdict.bottleneck == "none":
        return detect_status if detect_status is Status.CRITICAL else Status.OK
    return detect_status if detect_status in (Status.WARNING, Status.CRITICAL) else Status.WARNING
