"""Robust summaries of a signal: medians and MADs, so one noisy scrape does not fire."""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from collections.abc import Sequence
from itertools import islice, repeat
from operator import lt, mul, sub
from statistics import median

from triage.models import Points

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


def columns(points: Sequence[tuple[float, float]]) -> tuple[Sequence[float], Sequence[float]] | None:
    """The timestamps and the values of `points` apart, when the timestamps strictly rise (as every
    backend answers them); None when they do not (the callers then read the pairs as they come).

    A fleet pass judges every signal of every service from slices of these: the range a window
    covers is two bisections, not a filter over every point (issue 17)."""
    ts: Sequence[float]
    vs: Sequence[float]
    if isinstance(points, Points):
        return points.columns() if points.rising() else None
    else:
        pairs = points if isinstance(points, (list, tuple)) else list(points)
        ts = [p[0] for p in pairs]
        vs = [p[1] for p in pairs]
    if len(ts) > 1 and not all(map(lt, ts, islice(ts, 1, None))):
        return None
    return ts, vs


def between(ts: Sequence[float], vs: Sequence[float], lo: float, hi: float, *,
            open_end: bool = False) -> tuple[list[float], list[float]]:
    """The finite points of rising `ts` with lo <= t <= hi (t < hi with `open_end`), as
    timestamps and values: what `[(t, v) for t, v in points if lo <= t <= hi and isfinite(v)]`
    holds, taken apart."""
    i = bisect_left(ts, lo)
    j = bisect_left(ts, hi) if open_end else bisect_right(ts, hi)
    if j <= i:
        return [], []
    return _finite(list(ts[i:j]), list(vs[i:j]))


def _finite(t: list[float], v: list[float]) -> tuple[list[float], list[float]]:
    if math.isfinite(sum(v)):        # a NaN or an infinity makes the sum one (so does an overflow)
        return t, v
    keep = [k for k, x in enumerate(v) if math.isfinite(x)]
    return [t[k] for k in keep], [v[k] for k in keep]


def sustained_peak(points: Sequence[tuple[float, float]], span: float = SUSTAIN_SECONDS) -> float | None:
    """The highest level held for `span` seconds: the max of rolling medians.

    This is what an alert with `for: 5m` sees: a single spike does not count, a plateau does.
    The window's values are kept sorted as it slides (one insert and one removal a step), and
    each median is taken from them as `statistics.median` takes it, so the result is the same.
    """
    cols = columns(points)
    if cols is not None:
        return rolling_peak(*_finite(list(cols[0]), list(cols[1])), span)
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
            best = max(best, middle(window))
    return best if math.isfinite(best) else median(v for _, v in clean)


def rolling_peak(ts: Sequence[float], vs: Sequence[float], span: float = SUSTAIN_SECONDS) -> float | None:
    """`sustained_peak` of finite points whose timestamps strictly rise, given apart.

    Until the first `span` has passed nothing leaves the window (each point is nearer the last one
    than the first is) and no median counts: that stretch is sorted at once, then slid."""
    if not ts:
        return None
    first = ts[0]
    if ts[-1] - first <= span:
        return median(vs)
    start = bisect_left(ts, True, key=lambda t: t - first >= span)
    window = sorted(vs[:start])
    best = -math.inf
    lo = 0
    for k in range(start, len(ts)):
        t = ts[k]
        insort(window, vs[k])
        while t - ts[lo] > span:
            del window[bisect_left(window, vs[lo])]
            lo += 1
        m = middle(window)
        if m > best:
            best = m
    return best if math.isfinite(best) else median(vs)


def middle(ordered: list[float]) -> float:
    """The median of values already in order (statistics.median's own arithmetic)."""
    n = len(ordered)
    if n % 2:
        return ordered[n // 2]
    return (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def increase(points: Sequence[tuple[float, float]]) -> float | None:
    """How much a counter grew; a drop is a reset (a restarted process, a replaced pod)."""
    return increase_of(finite([v for _, v in points]))


def increase_of(clean: Sequence[float]) -> float | None:
    """`increase` of a counter's finite values, in order."""
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


def slope_since(points: Sequence[tuple[float, float]], since: float) -> float | None:
    """`slope_per_hour` of the points at or after `since`."""
    cols = columns(points)
    if cols is None:
        return slope_per_hour([(t, v) for t, v in points if t >= since])
    ts, vs = cols
    i = bisect_left(ts, since)
    return slope_of(*_finite(list(ts[i:]), list(vs[i:])))


def slope_of(ts: Sequence[float], vs: Sequence[float]) -> float | None:
    """`slope_per_hour` of finite points given apart: the same sums, in the same order."""
    n = len(ts)
    if n < 3:
        return None
    mean_t = sum(ts) / n
    mean_v = sum(vs) / n
    dt = list(map(sub, ts, repeat(mean_t)))
    var = sum(map(pow, dt, repeat(2)))
    if var == 0:
        return None
    return sum(map(mul, dt, map(sub, vs, repeat(mean_v)))) / var * 3600.0


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
