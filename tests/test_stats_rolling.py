"""The rolling median of `sustained_peak` answers what a fresh `statistics.median` per window
answers, on random series with ties, gaps and non-finite points."""

from __future__ import annotations

import math
import random
from statistics import median

import pytest

from triage.analysis.stats import sustained_peak


def reference(points, span):
    clean = sorted((t, v) for t, v in points if math.isfinite(v))
    if not clean:
        return None
    if clean[-1][0] - clean[0][0] <= span:
        return median(v for _, v in clean)
    best, lo = -math.inf, 0
    for hi in range(len(clean)):
        while clean[hi][0] - clean[lo][0] > span:
            lo += 1
        if clean[hi][0] - clean[0][0] >= span:
            best = max(best, median(v for _, v in clean[lo:hi + 1]))
    return best if math.isfinite(best) else median(v for _, v in clean)


@pytest.mark.parametrize("seed", range(40))
def test_rolling_median_matches_a_median_per_window(seed):
    rng = random.Random(seed)
    step = rng.choice([15.0, 30.0, 60.0])
    points = []
    for k in range(rng.randint(1, 200)):
        if rng.random() < 0.1:
            continue                                   # a gap
        v = rng.choice([rng.random(), round(rng.random(), 1), math.nan, math.inf]) if rng.random() < 0.3 \
            else rng.gauss(1, 0.2)
        points.append((1e9 + k * step, v))
    rng.shuffle(points)
    span = rng.choice([60.0, 300.0, 900.0])
    assert sustained_peak(points, span) == reference(points, span)


def test_a_plateau_counts_and_a_spike_does_not():
    points = [(t * 15.0, 1.0) for t in range(60)]
    points[10] = (150.0, 50.0)
    for t in range(30, 52):
        points[t] = (t * 15.0, 4.0)
    assert sustained_peak(points, 300) == 4.0
