"""Application errors: errors rose without any resource saturating — a bad deploy, a bug,
a crash loop."""

from __future__ import annotations

import math

from triage.analysis.classify.evidence import Candidate, clock, num
from triage.analysis.classify.facts import Facts
from triage.analysis.classify.levels import Level
from triage.analysis.classify.rules.base import Rule
from triage.analysis.classify.rules.dependency import SATURATED, saturated
from triage.analysis.classify.rules.workload import PodStates, crash_words, observe, pull_words

DEPLOY_LOOKBACK = 900.0
SEEN, BLIND = 0.6, 0.35
DEPLOYED_BONUS, CRASH_LOOP_BONUS, CRASH_LOOP = 0.25, 0.1, 0.5
TIMEOUTS, TIMEOUTS_RISE = 0.6, 3.0
BEHIND_SATURATION = 0.4
RESOURCE_FAMILIES = ("cpu_usage_ratio", "memory_usage_ratio", "db_latency_p95", "db_pool_usage_ratio",
                     "dependency_latency_p95")
OWN_CONTAINER = ("cpu_usage_ratio", "memory_usage_ratio", "restarts", "oom_kills", "crash_looping")


def deploy_time(deploys: Level, start: float, end: float) -> float | None:
    prev = None
    for t, v in deploys.series.points:
        if not math.isfinite(v):
            continue
        if prev is not None and v > prev and start <= t <= end:
            return t
        prev = v
    return None


def score(f: Facts) -> None:
    c = f.cands["application_errors"]
    err, lat, restarts, deploys = (f.get(n) for n in ("error_ratio", "latency_p95", "restarts", "deploys"))
    deployed_at = deploy_time(deploys, f.w0 - DEPLOY_LOOKBACK, f.w1) if deploys else None
    f.shared["deployed_at"] = deployed_at
    restarted, oom_now = bool(f.shared.get("restarted")), bool(f.shared.get("oom_now"))
    pods = observe(f)
    busy = saturated(f)
    if f.err_bad and err is not None:
        families = sum(1 for k in RESOURCE_FAMILIES if k in f.levels)
        # "Nothing saturated" needs the service's own container to be visible: without CPU,
        # memory or restarts a crash or OOM could hide behind the errors.
        own = any(k in f.levels for k in OWN_CONTAINER)
        c.raise_to(SEEN if families >= 2 and own else BLIND)
        c.add(err, f"errors {num(err.window, 'ratio')} (baseline {num(err.baseline, 'ratio')})")
        if deployed_at is not None:
            c.raise_to(c.score + DEPLOYED_BONUS)
            c.add(deploys, f"a rollout at {clock(deployed_at)}, before the errors started at {clock(err.onset)}")
        if restarted and not oom_now and restarts is not None:
            c.raise_to(c.score + CRASH_LOOP_BONUS)
            c.add(restarts, f"{restarts.window:.0f} restarts without OOM kills: a crash loop")
        _pod_states(c, pods, oom_now, restarted)
        if deployed_at is None and not restarted and f.lat_bad and lat is not None and lat.rose(TIMEOUTS_RISE):
            # Latency far past critical with no deploy: errors are more likely timeouts of a
            # saturation we cannot see than a bug.
            c.scale(TIMEOUTS)
            c.add(lat, f"but latency {num(lat.window, 's')} suggests timeouts, not a bug")
        if busy or f.score("external_dependency") >= SATURATED:
            c.scale(BEHIND_SATURATION)
    elif restarted and not oom_now and restarts is not None and f.anomaly and not busy:
        c.raise_to(CRASH_LOOP)
        c.add(restarts, f"{restarts.window:.0f} restarts without OOM kills: a crash loop")
        _pod_states(c, pods, oom_now, restarted=True)
    elif (pods.crash_looping is not None and not oom_now or pods.image_pull is not None) and not busy:
        c.raise_to(CRASH_LOOP)
        _pod_states(c, pods, oom_now, restarted=False)


def _pod_states(c: Candidate, pods: PodStates, oom_now: bool, restarted: bool) -> None:
    """kube-state-metrics' word on the pods: a crash loop the restart counter may not show yet,
    a rollout whose new pods cannot pull their image (a bad deploy, seen before it serves)."""
    if pods.crash_looping is not None and not oom_now:
        if not restarted:
            c.raise_to(c.score + CRASH_LOOP_BONUS)
        c.add(pods.crash_looping, crash_words(pods.crash_looping))
    if pods.image_pull is not None:
        c.raise_to(c.score + DEPLOYED_BONUS / 2)
        c.add(pods.image_pull, pull_words(pods.image_pull) + ": the rollout cannot start its pods")


RULES = (Rule("application_errors", ("error_ratio",), "is failing without any resource saturating", score),)
ADJUSTMENTS = ()
