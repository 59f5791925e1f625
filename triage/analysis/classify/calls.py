"""How a caller's calls spread over its dependencies, as the fleet ranking estimates it, and what
a delay on a share of them does to the caller's outbound p95.

With no per-edge call rates, a dependency's requests are split among its callers by their own
baseline request rates: rough (a caller that makes many calls per request is undercounted), but
it only ever spares a suspect (`spared`), never blames one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# A 95th percentile rises once more than a twentieth of the calls slow; a caller whose outbound
# p95 stayed under half the delay another caller's calls show was spared that delay.
P95_TAIL = 0.05
STAYED_UNDER = 0.5


class CallShares:
    """The share of each caller's calls that goes to each of its dependencies (None: unknown)."""

    def __init__(self, levels: Mapping[str, Mapping[str, Any]], callers: Mapping[str, Sequence[str]],
                 deps: Mapping[str, Sequence[str]]) -> None:
        self.levels, self.callers, self.deps = levels, callers, deps
        self.outbound: dict[str, dict[str, float | None] | None] = {}

    def share(self, caller: str, dep: str) -> float | None:
        if caller not in self.outbound:
            found = {d: self._calls(caller, d) for d in self.deps.get(caller, ()) if d in self.deps}
            self.outbound[caller] = None if any(c is None for c in found.values()) else found
        calls = self.outbound[caller]
        if not calls or dep not in calls:
            return None
        total = sum(c for c in calls.values() if c is not None)
        mine = calls[dep]
        return mine / total if mine is not None and total > 0 else None

    def spared(self, other: str, caller: str, dep: str) -> bool:
        """`other` calls `dep` often enough (more than a twentieth of its calls) that the delay
        `caller`'s calls show would have put its p95 above what it read: it was not on `dep`."""
        share = self.share(other, dep)
        return share is not None and share > P95_TAIL and stayed_under(self.levels[other], self.levels[caller])

    def _calls(self, caller: str, dep: str) -> float | None:
        rates = [self.rate(c) for c in (dep, caller, *self.callers.get(dep, []))]
        if any(r is None for r in rates):
            return None
        theirs, mine, *callers = (r or 0.0 for r in rates)
        total = sum(callers)
        return theirs * mine / total if total > 0 else None

    def rate(self, name: str) -> float | None:
        rps = self.levels.get(name, {}).get("rps")
        return rps.baseline if rps is not None and rps.baseline is not None and rps.baseline >= 0 else None


def stayed_under(other: Mapping[str, Any], caller: Mapping[str, Any]) -> bool:
    """`other`'s outbound p95 in the window stayed under half the seconds `caller`'s rose by: had
    that delay been on more than a twentieth of its calls, its p95 would have been above it."""
    mine, theirs = other.get("dependency_latency_p95"), caller.get("dependency_latency_p95")
    if mine is None or theirs is None or mine.window is None or theirs.delta is None or theirs.delta <= 0:
        return False
    return mine.window < STAYED_UNDER * theirs.delta
