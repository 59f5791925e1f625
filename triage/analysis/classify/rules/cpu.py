"""CPU saturation: at its limit or throttled, latency following it (high RPS + high CPU +
high latency → scale out). A CPU far out of its own baseline is an incident on its own."""

from __future__ import annotations

from triage.analysis.classify.evidence import (
    Candidate,
    against_baseline,
    clock,
    num,
    times,
)
from triage.analysis.classify.facts import Facts
from triage.analysis.classify.levels import Level, corr
from triage.analysis.classify.rules.base import Adjustment, Rule

AT_CRITICAL, AT_WARNING = 0.85, 0.6
THROTTLED_CRITICAL, THROTTLED_WARNING = 0.8, 0.55
THROTTLE_RISE = 2.0
FOLLOWS_R, FOLLOWS_BONUS = 0.6, 0.05
CORRELATION_LOOKBACK = 900.0
# On its own (no latency or error signal moved): past its warning, and ×3 and 6 spreads out
# of its own baseline (a batch service that always runs at 95 % is not an incident).
ALONE_RISE, ALONE_Z = 3.0, 6.0
RISEN_BELOW_WARNING = 0.5
# Below its warning, CPU far beyond traffic is CPU's incident when latency went with it, or
# on its own when it holds half its limit.
HALF_LIMIT = 0.5
BEYOND_TRAFFIC = 2.0


def _beyond_traffic(f: Facts, ratio: float | None) -> bool:
    rps = f.get("rps")
    if ratio is None:
        return False
    if rps is None or rps.ratio is None or rps.ratio <= 0:
        return True
    return ratio >= BEYOND_TRAFFIC * max(1.0, rps.ratio)
# Timers inside a heavily throttled process stretch with it: queries and outbound calls
# that rose together with the throttling are CPU's symptoms.
STRETCHED_TIMERS = ("db_latency", "external_dependency")
STRETCH_FACTOR = 0.7
STRETCH_LEAD = 60.0
# Two unrelated dependencies (the database and an outbound HTTP call) do not slow down in
# the same minute by chance: when they do while the process's own CPU left its normal, the
# common factor is the process that times them (starved of CPU by its quota or its host).
TOGETHER = 60.0
TOGETHER_FACTOR = 0.6
TOGETHER_BONUS = 0.15
TIMER_MIN = 0.45
AFTER_CPU_SLACK = 30.0          # one or two steps of the data: "at the same time or after"
AFTER_CPU_FACTOR = 0.5
AFTER_CPU = 0.75
# A pool that filled as CPU per request rose is held by requests waiting for CPU: a symptom too.
HELD_AFTER_CPU = STRETCHED_TIMERS + ("db_pool_exhaustion",)


def score(f: Facts) -> None:
    cpu, thr = f.get("cpu_usage_ratio"), f.get("cpu_throttle_ratio")
    c = f.cands["cpu_saturation"]
    warn, crit = f.th("cpu_usage_ratio")
    if cpu and cpu.window is not None:
        if crit is not None and cpu.window >= crit:
            c.raise_to(AT_CRITICAL)
            c.add(cpu, against_baseline(cpu, "CPU", " of its limit"))
        elif warn is not None and cpu.window >= warn:
            c.raise_to(AT_WARNING)
            c.add(cpu, f"CPU {num(cpu.window, 'ratio')} of its limit, near saturation")
        per_request = cpu.rose(ALONE_RISE, ALONE_Z) and _beyond_traffic(f, cpu.ratio)
        f.shared["cpu_per_request"] = per_request
        if warn is not None and cpu.window >= warn and cpu.rose(ALONE_RISE, ALONE_Z):
            f.alone["cpu_usage_ratio"] = against_baseline(cpu, "CPU", " of its limit")
        elif not c.score and per_request and (f.lat_bad or cpu.window >= HALF_LIMIT):
            # Below its warning (no limit, or contention on the node), but CPU left its normal
            # far more than traffic did.
            c.raise_to(RISEN_BELOW_WARNING)
            if not f.lat_bad:
                f.alone["cpu_usage_ratio"] = against_baseline(cpu, "CPU", " of its limit")
            c.add(cpu, against_baseline(cpu, "CPU", " of its limit") + ", far more than traffic")
    if thr and thr.window is not None:
        t_w, t_c = f.th("cpu_throttle_ratio")
        if t_c is not None and thr.window >= t_c:
            c.raise_to(max(c.score + 0.1, THROTTLED_CRITICAL))
            c.add(thr, f"throttled in {num(thr.window, 'ratio')} of CFS periods "
                       f"(baseline {num(thr.baseline, 'ratio')})")
        elif t_w is not None and thr.window >= t_w and thr.rose(THROTTLE_RISE):
            c.raise_to(max(c.score + 0.1, THROTTLED_WARNING))
            c.add(thr, f"throttled in {num(thr.window, 'ratio')} of CFS periods")
    lat = f.get("latency_p95")
    if c.score and lat and cpu:
        r = corr(lat.series, cpu.series, f.w0 - CORRELATION_LOOKBACK, f.w1)
        if r is not None and r >= FOLLOWS_R:
            c.raise_to(c.score + FOLLOWS_BONUS)
            c.add(cpu, f"latency follows CPU (r = {r:.2f})")


def stretched_timers(f: Facts) -> None:
    thr = f.get("cpu_throttle_ratio")
    t_crit = f.th("cpu_throttle_ratio")[1]
    if not (f.score("cpu_saturation") >= 0.9 and thr is not None and thr.window is not None
            and t_crit is not None and thr.window >= t_crit):
        return
    for key in STRETCHED_TIMERS:
        cand = f.cands[key]
        if not cand.score:
            continue
        leader = cand.leader(f.levels)
        if leader is None:
            # None of its signals has an onset (a p95 that comes and goes while calls time out): when
            # it moved cannot be told, so it cannot be said to have led the throttling either.
            cand.scale(STRETCH_FACTOR)
            cand.add(None, f"slowed while the process was throttled in {num(thr.window, 'ratio')} of periods "
                          "(when it began, the data cannot tell): timers inside a throttled process stretch too")
        elif thr.onset is None or leader.onset is None or leader.onset >= thr.onset - STRETCH_LEAD:
            cand.scale(STRETCH_FACTOR)
            cand.add(leader, f"rose with the CPU throttling ({num(thr.window, 'ratio')} of periods): "
                             "timers inside a throttled process stretch too")


def timers_together(f: Facts) -> None:
    cpu = f.get("cpu_usage_ratio")
    c = f.cands["cpu_saturation"]
    if not (c.score and cpu is not None and cpu.rose(ALONE_RISE, ALONE_Z)):
        return
    timers: list[tuple[Candidate, Level]] = []
    for key in STRETCHED_TIMERS:
        cand, lead = f.cands[key], f.cands[key].leader(f.levels)
        if cand.score >= TIMER_MIN and lead is not None:
            timers.append((cand, lead))
    onsets = [lead.onset for _, lead in timers if lead.onset is not None]
    if len(timers) < 2 or len(onsets) < 2 or max(onsets) - min(onsets) > TOGETHER:
        return
    names = " and ".join(lead.name for _, lead in timers)
    for cand, lead in timers:
        cand.scale(TOGETHER_FACTOR)
        cand.add(lead, f"rose in the same minute as {names} while CPU went {times(cpu.ratio)}: "
                       "the process timing them is the common factor")
    c.raise_to(max(c.score + TOGETHER_BONUS, max(cand.score for cand, _ in timers) + TOGETHER_BONUS))
    c.add(cpu, f"the database and the outbound calls slowed together ({names}) as CPU rose to "
               f"{num(cpu.window, 'ratio')} of its limit: timers inside a CPU-starved process stretch")


def timers_after_cpu(f: Facts) -> None:
    """CPU per request left its normal first (far more than traffic, before the queries and
    outbound calls slowed): those timers are stretched by a CPU-starved process — starved by
    its quota, or by a busy host when it is below its limit and hardly throttled."""
    cpu = f.get("cpu_usage_ratio")
    c = f.cands["cpu_saturation"]
    if not (f.shared.get("cpu_per_request") and c.score and cpu is not None and cpu.onset is not None):
        return
    followed = []
    for key in HELD_AFTER_CPU:
        cand = f.cands[key]
        lead = cand.leader(f.levels)
        if cand.score < TIMER_MIN or lead is None or lead.onset is None or lead.onset < cpu.onset - AFTER_CPU_SLACK:
            continue
        cand.scale(AFTER_CPU_FACTOR)
        why = ("requests waiting for CPU hold their connections" if key == "db_pool_exhaustion"
               else "a CPU-starved process stretches its own timers")
        cand.add(lead, f"moved at {clock(lead.onset)}, after CPU per request rose at {clock(cpu.onset)}: {why}")
        followed.append(lead.name)
    if followed:
        c.raise_to(max(c.score, AFTER_CPU))
        c.add(cpu, f"CPU {times(cpu.ratio)} its baseline, far more than traffic, from {clock(cpu.onset)}; "
                   + " and ".join(followed) + " followed")


RULES = (Rule("cpu_saturation", ("cpu_usage_ratio", "cpu_throttle_ratio"), "is CPU-bound", score),)
ADJUSTMENTS = (Adjustment("throttled process stretches its own timers", stretched_timers),
               Adjustment("unrelated timers slowing together point at the process", timers_together),
               Adjustment("timers that slowed after CPU per request rose", timers_after_cpu))
