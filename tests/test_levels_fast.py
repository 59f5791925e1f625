"""The fast paths of the analysis (issue 17: bisected ranges over `Points`' arrays, one sort per
baseline, the rolling peak without re-sorting) answer exactly what the straightforward code they
replaced answers: the reference copies below, on random series with gaps, NaNs, infinities,
ties, repeated values, timestamps out of order and duplicated, as `Points` and as tuples."""

from __future__ import annotations

import math
import random
from array import array
from bisect import bisect_left, insort
from datetime import datetime, timedelta, timezone
from statistics import median

import pytest

from triage.analysis import stats
from triage.analysis.classify import levels as lv
from triage.analysis.detect import NOW_POINTS, judge_signal
from triage.catalog import load_catalog
from triage.models import Points, SignalSeries, SignalSet, Status, TimeRange

END = datetime(2026, 11, 23, 13, 0, tzinfo=timezone.utc)
SPECS = load_catalog().signals


# --- the reference: the code before the fast paths, verbatim but for names -------------------

def ref_mad(values):
    clean = [v for v in values if math.isfinite(v)]
    if not clean:
        return None
    mid = median(clean)
    return median(abs(v - mid) for v in clean)


def ref_normal_of(values, unit):
    vals = list(values)
    centre = median(vals)
    spread = max(1.4826 * (ref_mad(vals) or 0.0), lv.floor_of(unit, centre))
    for _ in range(lv.CLIP_ROUNDS):
        kept = [v for v in vals if abs(v - centre) <= lv.CLIP * spread]
        if len(kept) == len(vals) or len(kept) < max(3, len(values) / 2):
            break
        vals = kept
        centre = median(vals)
        spread = max(1.4826 * (ref_mad(vals) or 0.0), lv.floor_of(unit, centre))
    return centre, spread


def ref_sustained_peak(points, span):
    clean = [(t, v) for t, v in points if math.isfinite(v)]
    if not clean:
        return None
    clean.sort()
    if clean[-1][0] - clean[0][0] <= span:
        return median(v for _, v in clean)
    best = -math.inf
    lo = 0
    window = []
    first = clean[0][0]
    for t, v in clean:
        insort(window, v)
        while t - clean[lo][0] > span:
            del window[bisect_left(window, clean[lo][1])]
            lo += 1
        if t - first >= span:
            best = max(best, stats.middle(window))
    return best if math.isfinite(best) else median(v for _, v in clean)


def ref_increase(points):
    clean = [v for _, v in points if math.isfinite(v)]
    if not clean:
        return None
    total = 0.0
    for prev, cur in zip(clean, clean[1:]):
        total += cur - prev if cur >= prev else cur
    return total


def ref_last(points):
    for _, v in reversed(points):
        if math.isfinite(v):
            return v
    return None


def ref_peak(points):
    return max((v for _, v in points if math.isfinite(v)), default=None)


def ref_resolution(sets):
    per_series = []
    for series in sets.signals.values():
        changes = [t for (t, v), (_, prev) in zip(series.points[1:], series.points) if math.isfinite(v) and v != prev]
        gaps = [b - a for a, b in zip(changes, changes[1:]) if b > a]
        if len(gaps) >= 3:
            per_series.append(median(gaps))
            if len(per_series) >= lv.RESOLUTION_SERIES:
                break
    return min(per_series) if per_series else 0.0


def ref_onset(points, base, step, earliest):
    out = 0
    first = None
    for t, v in points:
        if t < earliest:
            continue
        if v - base > step:
            out += 1
            if first is None:
                first = t
            if out >= 3:
                return first
        else:
            out = 0
            first = None
    return None


def ref_level(series, spec, sets, sustain):
    b0, b1 = sets.baseline.start.timestamp(), sets.baseline.end.timestamp()
    w0, w1 = sets.window.start.timestamp(), sets.window.end.timestamp()
    base = [(t, v) for t, v in series.points if b0 <= t < min(b1, w0) and math.isfinite(v)]
    win = [(t, v) for t, v in series.points if w0 <= t <= w1 and math.isfinite(v)]
    bvals = [v for _, v in base]
    b, spread = ref_normal_of(bvals, spec.unit) if bvals else (None, None)
    now = ref_last(win)
    if spec.aggregate == "increase":
        w = ref_increase(win)
        b = ref_increase(base)
        wm = w
    elif spec.aggregate == "last":
        w = now
        wm = w
    elif spec.aggregate == "peak":
        w = ref_peak(win)
        wm = w
    else:
        w = ref_sustained_peak(win, sustain)
        wm = median(v for _, v in win) if win else None
    ratio = None
    if b is not None and w is not None:
        ratio = w / b if abs(b) > 1e-12 else (math.inf if w > 1e-12 else 1.0)
    z = None
    onset = None
    if spec.aggregate in lv.EVENT_AGGREGATES:
        spread = None
    if bvals and b is not None and spread is not None and w is not None and spec.aggregate not in lv.EVENT_AGGREGATES:
        z = (w - b) / spread
        step = max(3 * spread, 0.25 * (w - b))
        onset = ref_onset(base + win, b, step, b1 - lv.ONSET_LOOKBACK)
    return (b, w, wm, ratio, z, onset, now, spread)


def ref_aggregate(kind, points, *, baseline, sustain):
    if kind == "increase":
        return ref_increase(points)
    if kind == "last":
        return ref_last(points)
    if kind == "peak" and not baseline:
        return ref_peak(points)
    if baseline or kind == "median":
        clean = [v for _, v in points if math.isfinite(v)]
        return median(clean) if clean else None
    return ref_sustained_peak(points, sustain)


def ref_judge(spec, series, sets, sustain):
    b0, b1 = sets.baseline.start.timestamp(), sets.baseline.end.timestamp()
    w0, w1 = sets.window.start.timestamp(), sets.window.end.timestamp()
    base_points = [(t, v) for t, v in series.points if b0 <= t <= b1]
    win_points = [(t, v) for t, v in series.points if w0 <= t <= w1]
    baseline = ref_aggregate(spec.aggregate, base_points, baseline=True, sustain=sustain)
    window = ref_aggregate(spec.aggregate, win_points, baseline=False, sustain=sustain)
    if spec.aggregate in ("increase", "last", "peak"):
        now = window
    else:
        tail = [v for _, v in win_points if math.isfinite(v)][-NOW_POINTS:]
        now = median(tail) if tail else None
    return baseline, window, now


# --- random series -------------------------------------------------------------------------------

def _value(rng, level, kind):
    r = rng.random()
    if r < 0.04:
        return math.nan
    if r < 0.06:
        return rng.choice([math.inf, -math.inf])
    if kind == "flat":
        return level
    if kind == "steps":
        return round(level * rng.choice([1, 1, 1, 1.5, 4]), 1)
    return max(0.0, rng.gauss(level, level * rng.choice([0.01, 0.1, 0.5])))


def random_points(rng, baseline_s, window_s, *, clean=False):
    step = rng.choice([15.0, 30.0, 60.0])
    start = END.timestamp() - window_s - baseline_s - rng.choice([0, 0, 120, 600])
    stop = END.timestamp() + rng.choice([0, 0, 60, 300])
    kind = rng.choice(["flat", "steps", "noise", "noise"])
    level = rng.choice([0.0, 0.002, 0.3, 12.0, 250.0])
    fault_at = END.timestamp() - rng.uniform(0, window_s * 1.5)
    ts, vs = [], []
    t = start
    while t <= stop:
        if clean or rng.random() > 0.08:        # else a gap
            v = level if clean and kind == "flat" else _value(rng, level, kind)
            if clean and not math.isfinite(v):
                v = level
            if t >= fault_at:
                v = v * rng.choice([1.0, 3.0, 20.0])
            ts.append(t)
            vs.append(v)
        t += step
    return ts, vs


def _series(name, points):
    return SignalSeries(name, "svc", SPECS[name].unit, f"{name}-q", 0, points)


def _sets(window_s, baseline_s, signals):
    window = TimeRange(END - timedelta(seconds=window_s), END)
    baseline = TimeRange(window.start - timedelta(seconds=baseline_s), window.start)
    return SignalSet("svc", "default", window, baseline, signals, {})


SHAPES = ["points", "tuples", "shuffled", "duplicated", "nan-time", "points-shuffled"]


def shaped(rng, ts, vs, shape):
    if shape == "points":
        return Points(array("d", ts), array("d", vs))
    if shape == "points-shuffled":
        pairs = list(zip(ts, vs))
        rng.shuffle(pairs)
        return Points(array("d", [t for t, _ in pairs]), array("d", [v for _, v in pairs]))
    pairs = list(zip(ts, vs))
    if shape == "shuffled":
        rng.shuffle(pairs)
    elif shape == "duplicated" and pairs:
        k = rng.randrange(len(pairs))
        pairs.insert(k, (pairs[k][0], rng.random()))
    elif shape == "nan-time" and pairs:
        pairs[rng.randrange(len(pairs))] = (math.nan, 1.0)
    return tuple(pairs)


NAMES = ["latency_p95", "rps", "restarts", "oom_kills", "db_pool_size", "cpu_usage_ratio", "error_ratio"]
AGGREGATES = {name: SPECS[name].aggregate for name in NAMES}


def test_the_random_signals_cover_every_aggregate():
    assert {"increase", "median", "max"} <= set(AGGREGATES.values())


def _same(a, b):
    """Equal as the output would print them: NaN equal to NaN, -0.0 not equal to 0.0."""
    return repr(a) == repr(b)


@pytest.mark.parametrize("seed", range(60))
def test_level_and_judge_signal_match_the_reference(seed):
    rng = random.Random(seed)
    window_s = rng.choice([240.0, 900.0, 1800.0])
    baseline_s = rng.choice([600.0, 3600.0])
    shape = SHAPES[seed % len(SHAPES)]
    signals = {}
    for name in NAMES:
        ts, vs = random_points(rng, baseline_s, window_s, clean=rng.random() < 0.3)
        signals[name] = _series(name, shaped(rng, ts, vs, shape))
    sets = _sets(window_s, baseline_s, signals)
    assert _same(lv.resolution(sets), ref_resolution(sets))
    sustain = lv.sustain_for(sets)
    for name, series in signals.items():
        spec = SPECS[name]
        got = lv.level(series, spec, sets, sustain)
        assert _same((got.baseline, got.window, got.window_median, got.ratio, got.z, got.onset, got.now,
                      got.spread), ref_level(series, spec, sets, sustain)), (name, shape)
        want = ref_judge(spec, series, sets, sustain)
        verdict = judge_signal(spec, series, sets, None, sustain)
        assert _same((verdict.baseline, verdict.window, verdict.now), want)
        shared = judge_signal(spec, series, sets, None, sustain, got)     # a max signal's window from its level
        assert repr(shared) == repr(verdict)


@pytest.mark.parametrize("seed", range(60))
def test_sustained_peak_and_normal_of_match_the_reference(seed):
    rng = random.Random(1000 + seed)
    ts, vs = random_points(rng, 3600.0, 900.0, clean=seed % 2 == 0)
    span = rng.choice([30.0, 120.0, 300.0])
    for shape in SHAPES:
        points = shaped(rng, ts, vs, shape)
        assert _same(stats.sustained_peak(points, span), ref_sustained_peak(points, span)), shape
    finite = [v for v in vs if math.isfinite(v)]
    for values in (finite, vs, finite[: rng.randint(1, 6)], [finite[0]] * 7 if finite else [1.0]):
        if values:
            assert _same(lv.normal_of(values, "s"), ref_normal_of(values, "s"))


def test_a_window_with_a_plateau_reads_as_before():
    ts = [END.timestamp() - 3600 + 15 * k for k in range(241)]
    vs = [0.1 if t < END.timestamp() - 200 else 2.0 for t in ts]
    series = _series("latency_p95", Points(array("d", ts), array("d", vs)))
    sets = _sets(240.0, 3360.0, {"latency_p95": series})
    got = lv.level(series, SPECS["latency_p95"], sets)
    assert got.window == 2.0 and got.baseline == 0.1 and got.onset is not None
    assert judge_signal(SPECS["latency_p95"], series, sets, None).status is not Status.OK


@pytest.mark.parametrize("unit", ["s", "ratio", "req/s", "bytes"])
def test_normal_of_keeps_the_points_exactly_at_the_clip_limit_as_before(unit):
    # A flat baseline: the spread is the floor, and points exactly CLIP floors out are kept.
    for centre in (0.0, 1.0, 250.0, -3.0):
        limit = lv.CLIP * lv.floor_of(unit, centre)
        for extra in ([centre + limit, centre - limit], [centre + limit], [centre - limit] * 3,
                      [math.nextafter(centre + limit, math.inf), centre - limit]):
            values = [centre] * 10 + extra + [centre + 100 * limit] * 3
            random.Random(len(extra)).shuffle(values)
            assert _same(lv.normal_of(values, unit), ref_normal_of(values, unit)), (centre, extra)


@pytest.mark.parametrize("seed", range(40))
def test_the_clip_keeps_one_run_of_the_sorted_values(seed):
    # What normal_of's rounds keep, read as one run of the sorted baseline: the very points the
    # filter `abs(v - centre) <= limit` keeps, including those exactly at (or one ulp past) it.
    rng = random.Random(seed)
    centre = rng.choice([0.0, 1.0, -2.5, 0.1, 1e6, rng.gauss(0, 100)])
    limit = rng.choice([0.0175, 3.5 * 1.4826 * rng.random(), 1e-9])
    near = []
    for edge in (centre + limit, centre - limit):
        v = edge
        for _ in range(3):
            v = math.nextafter(v, -math.inf)
        for _ in range(7):
            near.append(v)
            v = math.nextafter(v, math.inf)
    values = sorted(near + [rng.gauss(centre, limit * rng.choice([0.1, 1, 3])) for _ in range(rng.randint(0, 40))]
                    + [centre] * rng.randint(0, 3))
    lo, hi = lv._within(values, centre, limit)
    assert values[lo:hi] == [v for v in values if abs(v - centre) <= limit]


def test_points_say_whether_their_timestamps_rise():
    from triage.sources.decode import matrix

    body = (b'{"status":"success","data":{"resultType":"matrix","result":['
            b'{"metric":{"service":"a"},"values":[[1,"1"],[2,"2"]]},'
            b'{"metric":{"service":"b"},"values":[[1,"3"],[2,"NaN"]]},'
            b'{"metric":{"service":"c"},"values":[[2,"3"],[1,"4"]]}]}}')
    a, b, c = (s.points for s in matrix(body, "q", "prometheus"))
    assert a.rising() and b.rising() and not c.rising()
    assert stats.columns(c) is None and stats.columns(a) == a.columns()
    assert Points(array("d", [1.0, 1.0]), array("d", [0.0, 0.0])).rising() is False


def ref_slope(points):
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


@pytest.mark.parametrize("seed", range(30))
def test_the_slope_since_an_instant_matches_the_reference(seed):
    rng = random.Random(2000 + seed)
    ts, vs = random_points(rng, 3600.0, 900.0, clean=seed % 3 == 0)
    for shape in SHAPES:
        points = shaped(rng, ts, vs, shape)
        for since in (END.timestamp() - 900.0, END.timestamp() - 7200.0, END.timestamp() - 30.0, END.timestamp()):
            assert _same(stats.slope_since(points, since), ref_slope([(t, v) for t, v in points if t >= since]))


@pytest.mark.parametrize("seed", range(30))
def test_the_sustain_of_a_long_window_is_the_formula_without_reading_the_data(seed):
    rng = random.Random(seed)
    window_s = rng.choice([240.0, 600.0, 899.0, 900.0, 901.0, 1800.0, 86400.0])
    signals = {}
    for name in NAMES:
        ts, vs = random_points(rng, 3600.0, window_s, clean=rng.random() < 0.5)
        signals[name] = _series(name, shaped(rng, ts, vs, SHAPES[seed % len(SHAPES)]))
    sets = _sets(window_s, 3600.0, signals)
    formula = min(lv.SUSTAIN_MAX, max(window_s * lv.SUSTAIN_SHARE, lv.SUSTAIN_SAMPLES * ref_resolution(sets)))
    assert _same(lv.sustain_for(sets), formula)
    assert lv.fixed_sustain(sets.window) == (lv.SUSTAIN_MAX if window_s >= 900.0 else None)
