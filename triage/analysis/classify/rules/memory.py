"""Memory pressure: the working set near its limit after leaving its own normal, growing
(a leak), or OOM-killed. A service that rests near its limit is not under pressure because
it is still there: that is its normal."""

from __future__ import annotations

from triage.analysis import stats
from triage.analysis.classify.evidence import against_baseline, num
from triage.analysis.classify.facts import Facts
from triage.analysis.classify.rules.base import Adjustment, Rule

NEAR_LIMIT, NEAR_LIMIT_GROWING, NEAR_WARNING_GROWING = 0.7, 0.8, 0.65
GROWING_PER_HOUR = 0.05          # of the limit, least squares over the last half hour
GROWTH_LOOKBACK = 1800.0
GROWING_BONUS = 0.1
LEAK_PER_HOUR = 0.3              # of the limit, inside the window: racing toward it
LEAK = 0.75
OOM = 0.9
RESTART_BONUS = 0.05
# Left its own normal: ×1.5 its baseline, 10 points of its limit more, 5 spreads out.
RISE, RISE_SHARE, RISE_Z = 1.5, 0.10, 5.0
RISEN, RISEN_AT_WARNING = 0.7, 0.8
# Allocating (and collecting) burns CPU: when memory left its normal at the same time as
# CPU rose, the memory is the cause and the CPU its symptom.
SAME_ONSET = 120.0
CPU_FROM_MEMORY = 0.6
# The slopes `score` reads, as seconds before the window's start: worked out early for a fleet.
SLOPES_BEFORE_WINDOW = {"memory_usage_ratio": (GROWTH_LOOKBACK, 0.0)}


def _from_normal(mem, warn: float | None) -> bool:
    """The working set came from a normal level below the warning (or we cannot tell)."""
    return mem.baseline is None or warn is None or mem.baseline < warn


def risen(f: Facts) -> bool:
    """Left its normal for most of the window: memory once allocated stays, so its window
    median (not one minute's spike) is 10 points of the limit and ×1.5 above its baseline."""
    mem = f.get("memory_usage_ratio")
    if mem is None or mem.window_median is None or mem.baseline is None or not mem.rose(RISE, RISE_Z):
        return False
    return mem.window_median - mem.baseline >= RISE_SHARE and mem.window_median >= RISE * mem.baseline


def score(f: Facts) -> None:
    mem, oom, restarts = f.get("memory_usage_ratio"), f.get("oom_kills"), f.get("restarts")
    c = f.cands["memory_pressure"]
    warn, crit = f.th("memory_usage_ratio")
    oom_now = bool(oom and oom.window is not None and oom.window > 0 and (oom.baseline or 0) <= oom.window)
    restarted = bool(restarts and restarts.window is not None and restarts.window >= 1)
    f.shared["oom_now"], f.shared["restarted"] = oom_now, restarted
    if oom_now and oom is not None:
        f.alone["oom_kills"] = f"{num(oom.window, 'containers')} OOM-killed"
    if restarted and restarts is not None:
        f.alone["restarts"] = f"{restarts.window:.0f} restarts in the window"
    if mem and mem.window is not None:
        from_normal = _from_normal(mem, warn)
        slope = mem.slope_since(f.w0 - GROWTH_LOOKBACK)
        growing = slope is not None and slope >= GROWING_PER_HOUR
        if crit is not None and mem.window >= crit and from_normal:
            c.raise_to(NEAR_LIMIT_GROWING if growing else NEAR_LIMIT)
            c.add(mem, f"working set {num(mem.window, 'ratio')} of the memory limit")
            f.alone["memory_usage_ratio"] = c.evidence[-1]["summary"]
        elif warn is not None and mem.window >= warn and growing and from_normal:
            c.raise_to(NEAR_WARNING_GROWING)
            c.add(mem, f"working set {num(mem.window, 'ratio')} of the limit and rising")
        if risen(f):
            c.raise_to(RISEN_AT_WARNING if warn is not None and mem.window >= warn else RISEN)
            c.add(mem, against_baseline(mem, "working set", " of the memory limit"))
            f.alone["memory_usage_ratio"] = c.evidence[-1]["summary"]
        if growing and c.score and slope is not None:
            c.add(mem, f"rising {slope * 100:.0f} % of the limit per hour (least-squares slope): a leak")
            c.raise_to(c.score + GROWING_BONUS)
        w_slope = mem.slope_since(f.w0)
        last = stats.last(mem.series.points)
        # A leak racing toward the limit is an incident before it is an OOM kill.
        if (w_slope is not None and w_slope >= LEAK_PER_HOUR and last is not None and warn is not None
                and last >= warn and from_normal):
            hours = max(0.0, (1.0 - last) / w_slope)
            c.raise_to(max(c.score, LEAK))
            c.add(mem, f"at {num(last, 'ratio')} and rising {w_slope * 100:.0f} % of the limit per hour "
                       f"in the window: the limit is {hours * 60:.0f} min away")
            f.alone["memory_usage_ratio"] = c.evidence[-1]["summary"]
        elif mem.window >= (crit or 1.0) and not from_normal and not oom_now:
            f.notes.append(f"memory {num(mem.window, 'ratio')} of its limit, as in its baseline "
                           f"({num(mem.baseline, 'ratio')}): its normal, not pressure")
    if oom_now and oom is not None:
        c.raise_to(OOM)
        c.add(oom, f"{num(oom.window, 'containers')} OOM-killed")
    if restarted and restarts is not None and c.score:
        c.raise_to(c.score + RESTART_BONUS)
        c.add(restarts, f"{restarts.window:.0f} restarts in the window")


def cpu_from_memory(f: Facts) -> None:
    cpu, mem = f.get("cpu_usage_ratio"), f.get("memory_usage_ratio")
    cand = f.cands["cpu_saturation"]
    if not (cand.score and risen(f) and cpu is not None and mem is not None and f.score("memory_pressure")):
        return
    if cpu.onset is None or mem.onset is None or abs(cpu.onset - mem.onset) <= SAME_ONSET or mem.onset < cpu.onset:
        cand.scale(CPU_FROM_MEMORY)
        cand.add(mem, f"CPU rose with the working set ({against_baseline(mem, 'memory', ' of its limit')}): "
                      "allocating and collecting burns CPU")


RULES = (Rule("memory_pressure", ("memory_usage_ratio", "oom_kills"), "is under memory pressure", score),)
ADJUSTMENTS = (Adjustment("memory growth drives the CPU", cpu_from_memory),)
