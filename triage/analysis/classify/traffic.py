"""Traffic, as the fleet ranking reads it: how much of its usual request rate a service kept.

Latency travels up a call graph (a slow dependency slows its callers); traffic travels down: a
caller that changed what it does (a code path that now fails or returns before its next call)
takes the calls it no longer makes out of its dependencies' request rates while its own holds;
and a service that served no requests in the window measured no latency in it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from triage.analysis.classify.levels import squash

# Request rate in the window against its baseline: at half or less it fell, at a twentieth or
# less it stopped; a caller at four fifths or more of its own kept its traffic.
DROP_SHARE, STOPPED_SHARE, HELD_SHARE = 0.5, 0.05, 0.8
# Signals that measure requests: with no requests in the window they measured nothing.
PER_REQUEST = ("latency_p95", "error_ratio", "dependency_latency_p95", "dependency_error_ratio")


def traffic_share(levels: Mapping[str, Any]) -> float | None:
    """The window's median request rate as a share of the baseline's (None: no traffic signal)."""
    rps = levels.get("rps")
    if rps is None or rps.baseline is None or rps.window_median is None or rps.baseline <= 0:
        return None
    return max(0.0, rps.window_median) / rps.baseline


def traffic_lost(levels: Mapping[str, Any]) -> float:
    """How clearly its request rate fell, 0..1: 1 when it stopped; a fall to half or less by how
    far out (spreads) and how much (a quarter of its traffic left counts fully)."""
    share = traffic_share(levels)
    if share is None or share > DROP_SHARE:
        return 0.0
    if share <= STOPPED_SHARE:
        return 1.0
    rps = levels["rps"]
    z = (rps.baseline - rps.window_median) / rps.spread if rps.spread else None
    return squash(z) * min(1.0, math.log2(1.0 / share))


def stopped(levels: Mapping[str, Any]) -> bool:
    """It served (almost) no requests in the window."""
    share = traffic_share(levels)
    return share is not None and share <= STOPPED_SHARE
