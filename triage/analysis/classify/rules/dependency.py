"""An outbound dependency is slow or failing: its latency rose past its bounds, or by most
of what the service's own p95 grew, or its calls fail."""

from __future__ import annotations

from triage.analysis.classify.evidence import num, times
from triage.analysis.classify.facts import Facts
from triage.analysis.classify.rules.base import Rule
from triage.models import OWN_RESOURCE_CLASSES

SLOW, SLOW_NEAR_CRITICAL, NEAR_CRITICAL_SHARE, RISE = 0.7, 0.85, 0.8, 2.0
# Below the absolute bounds: ×3 and grew by at least half of what the service's p95 grew.
EXPLAINS, EXPLAINS_RISE, EXPLAINS_SHARE = 0.65, 3.0, 0.5
SHARE_OF_P95, SHARE_BONUS = 0.5, 0.05
FAILING, FAILING_BONUS = 0.7, 0.1
IDLE_BONUS = 0.05
OWN = OWN_RESOURCE_CLASSES
SATURATED = 0.6


def saturated(f: Facts) -> list[str]:
    return [k for k in OWN if f.score(k) >= SATURATED]


def score(f: Facts) -> None:
    c = f.cands["external_dependency"]
    dlat, derr, lat = f.get("dependency_latency_p95"), f.get("dependency_error_ratio"), f.get("latency_p95")
    if dlat and dlat.window is not None:
        d_w, d_c = f.th("dependency_latency_p95")
        if d_w is not None and dlat.window >= d_w and dlat.rose(RISE):
            c.raise_to(SLOW_NEAR_CRITICAL if (d_c is not None and dlat.window >= d_c * NEAR_CRITICAL_SHARE) else SLOW)
            c.add(dlat, f"outbound p95 {num(dlat.window, 's')} (baseline {num(dlat.baseline, 's')})")
        elif (dlat.rose(EXPLAINS_RISE) and lat is not None and lat.window and lat.baseline is not None
              and dlat.delta is not None and dlat.delta >= EXPLAINS_SHARE * (lat.window - lat.baseline) > 0):
            c.raise_to(EXPLAINS)
            c.add(dlat, f"outbound p95 {num(dlat.window, 's')} (baseline {num(dlat.baseline, 's')}, "
                        f"{times(dlat.ratio)}) accounts for most of the p95 increase")
        if c.score and lat is not None and lat.window and dlat.window / lat.window >= SHARE_OF_P95:
            c.raise_to(c.score + SHARE_BONUS)
            c.add(dlat, f"the dependency accounts for {min(1.0, dlat.window / lat.window) * 100:.0f} % of the p95")
    if derr and derr.window is not None:
        e_w, _ = f.th("dependency_error_ratio")
        if e_w is not None and derr.window >= e_w and derr.window - (derr.baseline or 0) >= e_w:
            c.raise_to(max(c.score + FAILING_BONUS, FAILING))
            c.add(derr, f"{num(derr.window, 'ratio')} of outbound calls fail (timeouts, 5xx/504)")
    # Own resources idle strengthens a dependency verdict.
    if c.score and not saturated(f):
        c.raise_to(c.score + IDLE_BONUS)


RULES = (Rule("external_dependency", ("dependency_latency_p95", "dependency_error_ratio"),
              "is waiting on a slow or failing dependency", score),)
ADJUSTMENTS = ()
