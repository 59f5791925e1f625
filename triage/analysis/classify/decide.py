"""Run the rule table and turn the candidates into a verdict.

A class whose deciding signals are absent is not guessed: when nothing scores and something
that decides is missing, the answer is `unknown` with the missing signals named; `none` is
a claim about latency *and* errors, so it needs both (with a baseline to compare with).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from triage.analysis.classify.evidence import Candidate, clock, num, times
from triage.analysis.classify.facts import Facts
from triage.analysis.classify.levels import (
    Level,
    corr,
    edge_levels,
    levels_of,
    sustain_for,
)
from triage.analysis.classify.rules import ADJUSTMENTS, DECIDING, RULES, SAY
from triage.models import (
    INCIDENT_CLASSES,
    NO_INCIDENT,
    UNDECIDED,
    WHEN_PRESENT,
    SignalSet,
    SignalSpec,
    Status,
)

MIN_SCORE = 0.45
SURGE = 1.5
# Without latency or error impact, only a strong candidate (not CPU or a busy pool, which
# are normal under load) is an incident.
STRONG_ALONE = 0.8
LOADED_NOT_BROKEN = ("cpu_saturation", "db_pool_exhaustion")
# Cause precedes effect: a signal that moved 3 minutes after latency is likely a symptom.
LATE_AFTER_LATENCY, LATE_FACTOR = 180.0, 0.8
FOLLOWS_R, CORRELATION_LOOKBACK = 0.6, 900.0
# Never certainty: the verdict rests on what the exporters show.
MAX_CONFIDENCE = 0.97
MARGIN_BASE = 0.55
GOLDEN = ("latency_p95", "error_ratio")
_WHEN_PRESENT = frozenset(WHEN_PRESENT)


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
    user_facing: bool = False
    alone: Mapping[str, str] | None = None
    # Outbound latency per callee (server_address → its level), where the metrics name it.
    edges: Mapping[str, Level] | None = None


def classify(sets: SignalSet, specs: Mapping[str, SignalSpec], service_name: str,
             sustain: float | None = None, levels: dict[str, Level] | None = None) -> Verdict:
    """`levels`: `levels_of(sets, specs, sustain)` when already worked out (a fleet's, early)."""
    if sustain is None:
        sustain = sustain_for(sets)
    f = Facts(sets, specs, levels if levels is not None else levels_of(sets, specs, sustain))
    for rule in RULES:
        rule.score(f)
    for adjustment in ADJUSTMENTS:
        adjustment.apply(f)
    _cause_precedes_effect(f)

    ranked = sorted((c for c in f.cands.values() if c.score > 0), key=lambda c: -c.score)
    rps = f.get("rps")
    traffic_up = bool(rps and rps.window_median is not None and rps.baseline
                      and rps.window_median / rps.baseline >= SURGE)
    top = ranked[0] if ranked else None
    bottleneck, confidence = _decide(f, ranked, traffic_up)
    deployed_at = f.shared.get("deployed_at")
    trigger = _trigger(bottleneck, rps, traffic_up, deployed_at if isinstance(deployed_at, float) else None)
    sentence = _sentence(service_name, bottleneck, top, f, traffic_up, rps)
    missing = {k: r for k, r in sets.missing.items() if k not in _WHEN_PRESENT}
    return Verdict(bottleneck=bottleneck, confidence=confidence, trigger=trigger, candidates=tuple(ranked),
                   levels=f.levels, missing=missing, anomaly=f.anomaly, sentence=sentence,
                   notes=tuple(f.notes), user_facing=f.user_facing, alone=dict(f.alone),
                   edges=edge_levels(sets, specs, sustain=sustain))


def _cause_precedes_effect(f: Facts) -> None:
    lat = f.get("latency_p95")
    if lat is None or lat.onset is None:
        return
    for key, cand in f.cands.items():
        if not cand.score:
            continue
        leader = cand.leader(f.levels)
        if leader is not None and leader.onset is not None:
            if leader.onset > lat.onset + LATE_AFTER_LATENCY:
                cand.scale(LATE_FACTOR)
                cand.add(leader, f"moved at {clock(leader.onset)}, after latency ({clock(lat.onset)})")
            elif leader.onset <= lat.onset:
                cand.add(leader, f"moved first, at {clock(leader.onset)} (latency at {clock(lat.onset)})")
        if leader is not None and key != "cpu_saturation":
            r = corr(lat.series, leader.series, f.w0 - CORRELATION_LOOKBACK, f.w1)
            if r is not None and r >= FOLLOWS_R:
                cand.add(leader, f"latency follows {leader.name} (r = {r:.2f} over the window and the "
                                 "15 minutes before)")


def _empty_baselines(f: Facts) -> list[str]:
    return [n for n in GOLDEN if n in f.levels and f.levels[n].baseline is None]


def _decide(f: Facts, ranked: Sequence[Candidate], traffic_up: bool) -> tuple[str, float]:
    top = ranked[0] if ranked else None
    empty = _empty_baselines(f)
    if empty:
        f.notes.append("the baseline (" + f.sets.baseline.start.strftime("%H:%M") + "–"
                       + f.sets.baseline.end.strftime("%H:%M") + ") has no data for " + ", ".join(empty)
                       + ": judged from the window alone")
    quiet = not f.anomaly and (top is None or top.score < STRONG_ALONE
                               or (top.bottleneck in LOADED_NOT_BROKEN and not f.user_facing))
    if quiet:
        return _nothing_wrong(f, top, empty)
    if top is None or top.score < MIN_SCORE:
        _blind_notes(f, traffic_up)
        if f.alone and top is None:
            f.notes.append("out of its normal range: " + "; ".join(f.alone.values()))
        return UNDECIDED, round(top.score if top else 0.0, 2)
    second = ranked[1].score if len(ranked) > 1 else 0.0
    margin = top.score - second
    return top.bottleneck, round(min(MAX_CONFIDENCE, top.score * min(1.0, MARGIN_BASE + margin)), 2)


def _nothing_wrong(f: Facts, top: Candidate | None, empty: Sequence[str]) -> tuple[str, float]:
    """`none` is a claim that latency and errors are normal: it needs both, each with a
    baseline, and neither may rest on a failed query."""
    judged = [n for n in GOLDEN if n in f.levels and n not in empty]
    failed = [n for n in GOLDEN if n not in f.levels and f.sets.missing.get(n, "").startswith("query failed")]
    absent = [n for n in GOLDEN if n not in f.levels and n not in failed]
    if top is not None:
        f.notes.append(f"{top.bottleneck} signals are elevated ({top.score:.2f}) but latency and errors "
                       "are within their normal range")
    if failed:
        f.notes.append("cannot say nothing is wrong: the " + " and ".join(failed) + " "
                       + ("query" if len(failed) == 1 else "queries") + " failed")
        return UNDECIDED, 0.0
    if not judged:
        f.notes.append("no latency or error signal to judge" + (" against a baseline" if empty else ""))
        return UNDECIDED, 0.0
    if absent or empty:
        blind = [*absent, *empty]
        f.notes.append("cannot say nothing is wrong without " + " and ".join(blind)
                       + (": the service may be failing fast" if "error_ratio" in blind else ""))
        return UNDECIDED, 0.0
    return NO_INCIDENT, round(min(0.95, 0.5 + 0.15 * (len(judged) + ("rps" in f.levels))
                                  - (0.1 if top is not None else 0.0)), 2)


def _blind_notes(f: Facts, traffic_up: bool) -> None:
    blind = [c for c in INCIDENT_CLASSES if not any(s in f.levels for s in DECIDING[c])]
    if blind:
        f.notes.append("cannot judge " + ", ".join(blind) + ": missing "
                       + ", ".join(sorted({s for c in blind for s in DECIDING[c] if s not in f.levels})))
    if traffic_up and f.get("cpu_usage_ratio") is not None and not f.score("cpu_saturation"):
        f.notes.append("high RPS with low CPU and high latency points at the database, but its signals are missing")


def _trigger(bottleneck: str, rps: Level | None, traffic_up: bool, deployed_at: float | None) -> str:
    if bottleneck == "external_dependency":
        return "dependency_failure"
    if deployed_at is not None and bottleneck != NO_INCIDENT:
        return "deploy"
    if traffic_up:
        return "traffic_surge"
    if rps is None:
        return "unknown"
    return "none"


def _sentence(service: str, bottleneck: str, top: Candidate | None, f: Facts, traffic_up: bool,
              rps: Level | None) -> str:
    if bottleneck == NO_INCIDENT:
        text = f"{service}: no incident — latency and errors are within their normal range"
    elif bottleneck == UNDECIDED:
        text = f"{service}: something is wrong but the signals present cannot tell what"
        if not f.anomaly:
            text = f"{service}: no anomaly seen, but the signals present cannot rule one out"
    else:
        parts = [ev["summary"] for ev in (top.evidence if top else [])[:2]]
        text = f"{service} {SAY[bottleneck]}: " + "; ".join(parts)
        cpu = f.get("cpu_usage_ratio")
        if bottleneck != "cpu_saturation" and cpu is not None and cpu.window is not None:
            text += f"; CPU {num(cpu.window, 'ratio')}"
        if not f.user_facing:
            seen = [n for n in GOLDEN if n in f.levels]
            text += ("; no latency or error impact seen" if seen
                     else "; no latency or error signal to tell the impact")
    if traffic_up and rps is not None and rps.window_median and rps.baseline:
        text += f"; traffic {times(rps.window_median / rps.baseline)} (trigger)"
    if bottleneck in (NO_INCIDENT, UNDECIDED) and f.notes:
        text += " (" + "; ".join(f.notes) + ")"
    return text


def status_of(verdict: Verdict, detect_status: Status) -> Status:
    """What `rca` exits with: unknown when it cannot decide, else what detection found."""
    if verdict.bottleneck == UNDECIDED:
        return Status.UNKNOWN
    if verdict.bottleneck == NO_INCIDENT:
        return detect_status if detect_status is Status.CRITICAL else Status.OK
    return detect_status if detect_status in (Status.WARNING, Status.CRITICAL) else Status.WARNING
