"""CPU saturation: at its limit or throttled, latency following it (high RPS + high CPU +
high latency → scale out). A CPU far out of its own baseline is an incident on its own."""

from __future__ import annotations

from triage.analysis.classify.evidence import against_baseline, num, times
from triage.analysis.classify.facts import Facts
from triage.analysis.classify.levels import corr
from triage.analysis.classify.rules.base import Adjustment, Rule

AT_CRITICAL, AT_WARNING = 0.85, 0.6
THROTTLED_CRITICAL, THROTTLED_WARNING = 0.8, 0.55
THROTTLE_RISE = 2.0
FOLLOWS_R, FOLLOWS_BONUS = 0.6, 0.05
CORRELATION_LOOKBACK = 900.0
# On its own (no latency or error signal moved): past its warning, and ×3 and 6 spreads out
# of its own baseline (a batch service that always runs at 95 % is not an incident).
ALONE_RISE, ALONE_Z = 3.0, 6.0
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
        if warn is not None and cpu.window >= warn and cpu.rose(ALONE_RISE, ALONE_Z):
            f.alone["cpu_usage_ratio"] = against_baseline(cpu, "CPU", " of its limit")
    if thr and thr.window is not None:
        t_w, t_c = f.th("cpu_throttle_ratio")
        if t_c is not None and thr.window >= t_c:
            c.raise_to(max(c.score + 0.1, THROTTLED_CRITICAL))
            c.add(thr, f"throttled in {num(thr.window, 'ratio')} of CFS periods (baseline {num(thr.baseline, 'ratio')})")
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
        leader = cand.leader(f.levels)
        if not cand.score or leader is None:
            continue
        if thr.onset is None or leader.onset is None or leader.onset >= thr.onset - STRETCH_LEAD:
            cand.scale(STRETCH_FACTOR)
            cand.add(leader, f"rose with the CPU throttling ({num(thr.window, 'ratio')} of periods): "
                             "timers inside a throttled process stretch too")


def timers_together(f: Facts) -> None:
    cpu = f.get("cpu_usage_ratio")
    c = f.cands["cpu_saturation"]
    if not (c.score and cpu is not None and cpu.rose(ALONE_RISE, ALONE_Z)):
        return
    timers = [(key, f.cands[key], f.cands[key].leader(f.levels)) for key in STRETCHED_TIMERS]
    timers = [(k, cand, lead) for k, cand, lead in timers if cand.score >= TIMER_MIN and lead is not None]
    if len(timers) < 2:
        return
    onsets = [lead.onset for _, _, lead in timers if lead.onset is not None]
    if len(onsets) < 2 or max(onsets) - min(onsets) > TOGETHER:
        return
    names = " and ".join(lead.name for _, _, lead in timers)
    for _, cand, lead in timers:
        cand.scale(TOGETHER_FACTOR)
        cand.add(lead, f"rose in the same minute as {names} while CPU went {times(cpu.ratio)}: "
                       "the process timing them is the common factor")
    c.raise_to(max(c.score + TOGETHER_BONUS, max(cand.score for _, cand, _ in timers) + TOGETHER_BONUS))
    c.add(cpu, f"the database and the outbound calls slowed together ({names}) as CPU rose to "
               f"{num(cpu.window, 'ratio')} of its limit: timers inside a CPU-starved process stretch")


RULES = (Rule("cpu_saturation", ("cpu_usage_ratio", "cpu_throttle_ratio"), "is CPU-bound", score),)
ADJUSTMENTS = (Adjustment("throttled process stretches its own timers", stretched_timers),
               Adjustment("unrelated timers slowing together point at the process", timers_together))
