"""Robust summaries of a signal: medians and MADs, so one noisy scrape does not fire."""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Sequence
from statistics import median

SUSTAIN_SECONDS = 300.0


def finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if math.isfinite(v)]


def robust_level(values: Sequence[float]) -> float | None:
    clean = finite(values)
    return median(clean) if clean else None


def mad(values: Sequence[float]) -> float | None:
    clean = finite(values)
    if not clean:
        return None
    mid = median(clean)
    return median(abs(v - mid) for v in clean)


def sustained_peak(points: Sequence[tuple[float, float]], span: float = SUSTAIN_SECONDS) -> float | None:
    """The highest level held for `span` seconds: the max of rolling medians.

    This is what an alert with `for: 5m` sees: a single spike does not count, a plateau does.
    The window's values are kept sorted as it slides (one insert and one removal a step), and
    each median is taken from them as `statistics.median` takes it, so the result is the same.
    """
    clean = [(t, v) for t, v in points if math.isfinite(v)]
    if not clean:
        return None
    clean.sort()
    if clean[-1][0] - clean[0][0] <= span:
        return median(v for _, v in clean)
    best = -math.inf
    lo = 0
    window: list[float] = []
    first = clean[0][0]
    for t, v in clean:
        insort(window, v)
        while t - clean[lo][0] > span:
            del window[bisect_left(window, clean[lo][1])]
            lo += 1
        if t - first >= span:
            best = max(best, _middle(window))
    return best if math.isfinite(best) else median(v for _, v in clean)


def _middle(ordered: list[float]) -> float:
    """The median of values already in order (statistics.median's own arithmetic)."""
    n = len(ordered)
    if n % 2:
        return ordered[n // 2]
    return (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def increase(points: Sequence[tuple[float, float]]) -> float | None:
    """How much a counter grew; a drop is a reset (a restarted process, a replaced pod)."""
    clean = finite([v for _, v in points])
    if not clean:
        return None
    total = 0.0
    for prev, cur in zip(clean, clean[1:]):
        total += cur - prev if cur >= prev else cur
    return total


def last(points: Sequence[tuple[float, float]]) -> float | None:
    for _, v in reversed(points):
        if math.isfinite(v):
            return v
    return None


def peak(points: Sequence[tuple[float, float]]) -> float | None:
    """The highest finite point: for an event (an OOM kill), once counts however briefly it shows."""
    return max((v for _, v in points if math.isfinite(v)), default=None)


def slope_per_hour(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope in units per hour (coroot's memory-leak test)."""
    clean = [(t, v) for t, v in points if math.isfinite(v)]
    if len(clean) < 3:
        return None
    n = len(clean)
    mean_t = sum(t for t, _ in clean) / n
    mean_v = sum(v for _, v in clean) / n
    var = sum((t - mean_t) ** 2 for t, _ in clean)
    if var == 0:
        return None
    cov = sum((t - mean_t) * (v - mean_v) for t, v in clean)
    return cov / var * 3600.0
