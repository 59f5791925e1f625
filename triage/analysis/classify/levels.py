"""How far each signal is from its own normal: robust levels, scores and onsets.

Every verdict and the fleet ranking rest on these numbers, so they are built to survive
what real baselines look like:

- the baseline's centre is its median and its spread the MAD, with floors (a share of the
  level, and an absolute floor per unit) so a flat baseline does not turn noise into a
  thousand-sigma event, and earlier incidents inside the baseline (a minority of its points)
  move neither;
- the window's level is the highest level *held* for a sustain period that follows the
  window and the data's own resolution (BARO and RCAEval score the anomalous period against
  the normal one; an alert's `for:` does the same): a 2.5-minute fault in a 4-minute window
  counts, one stray scrape does not;
- the score is how many spreads the window level is out: the number the fleet ranking
  compares across services, signals and units.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import compress, islice, repeat
from operator import lt, ne, sub
from statistics import median

from triage.analysis import stats
from triage.models import Points, SignalSeries, SignalSet, SignalSpec, TimeRange

# A change smaller than this is never an anomaly, whatever the baseline's spread: 5 ms of
# latency, one percentage point of a ratio, half a request per second.
UNIT_FLOOR: Mapping[str, float] = {"s": 0.005, "ratio": 0.01, "req/s": 0.5}
# ...nor a change smaller than this share of the baseline's own level.
RELATIVE_FLOOR = 0.05
# The sustain period: a third of the window, at least two samples of the data's resolution,
# at most the five minutes a `for: 5m` alert waits.
SUSTAIN_SHARE = 1 / 3
SUSTAIN_SAMPLES = 2
SUSTAIN_MAX = stats.SUSTAIN_SECONDS
# Baseline points this many spreads from its median are earlier incidents, not its normal.
CLIP, CLIP_ROUNDS = 3.5, 3
# The resolution is read from this many series that change (they share one scrape interval).
RESOLUTION_SERIES = 5
# An onset is looked for in the last half hour of the baseline and in the window.
ONSET_LOOKBACK = 1800.0
EVENT_AGGREGATES = ("increase", "last", "peak")
EDGE_SIGNAL = "dependency_edge_latency_p95"
# A robust score z maps to z / (z + Z_HALF): 10 spreads out is 0.5, 90 is 0.9.
Z_HALF = 10.0


@dataclass(frozen=True)
class Level:
    """A signal judged against its own baseline.

    `baseline` is the baseline's median, `window` the level held for the sustain period
    (for events: the increase, the last or the peak value), `now` the last value of the
    window, `z` the robust score (window − baseline) / spread, `onset` when it left the
    baseline for good.
    """

    name: str
    unit: str
    query: str
    baseline: float | None
    window: float | None
    window_median: float | None
    ratio: float | None
    z: float | None
    onset: float | None
    series: SignalSeries
    now: float | None = None
    spread: float | None = None
    # slope_since's answers so far, by instant: a fleet's are worked out as each answer arrives
    # (triage.analysis.early), not in the rules once the last answer is in.
    _slopes: dict[float, float | None] | None = field(default=None, compare=False, repr=False)

    def slope_since(self, since: float) -> float | None:
        """`stats.slope_since` of this level's series from `since`, worked out once."""
        slopes = self._slopes
        if slopes is None:
            slopes = {}
            object.__setattr__(self, "_slopes", slopes)
        elif since in slopes:
            return slopes[since]
        got = slopes[since] = stats.slope_since(self.series.points, since)
        return got

    def rose(self, factor: float = 1.5, z: float = 3.0) -> bool:
        if self.window is None or self.baseline is None:
            return False
        if self.ratio is not None and self.ratio < factor:
            return False
        return self.z is None or self.z >= z

    @property
    def delta(self) -> float | None:
        if self.window is None or self.baseline is None:
            return None
        return self.window - self.baseline


def squash(z: float | None) -> float:
    """A robust score as a 0..1 strength (infinite: a signal that was exactly flat moved)."""
    if z is None or z <= 0:
        return 0.0
    return 1.0 if math.isinf(z) else z / (z + Z_HALF)


def floor_of(unit: str, centre: float) -> float:
    return max(UNIT_FLOOR.get(unit, 1e-9), RELATIVE_FLOOR * abs(centre))


def normal_of(values: Sequence[float], unit: str) -> tuple[float, float]:
    """The baseline's normal level and spread, with earlier incidents inside it set aside:
    median and MAD, then the points more than CLIP spreads out are dropped and both taken
    again (at most three rounds, never dropping half the baseline).

    The values are sorted once: the points kept by a round are a run of them (|v − centre|
    rises away from the centre), so each median after is read off in place, the same numbers
    `statistics.median` and `stats.mad` take."""
    vals = list(values)
    if not vals or not math.isfinite(sum(vals)):
        return _normal_of_any(vals, len(values), unit)
    vals.sort()
    centre = stats.middle(vals)
    spread = _spread(vals, centre, unit)
    for _ in range(CLIP_ROUNDS):
        lo, hi = _within(vals, centre, CLIP * spread)
        if hi - lo == len(vals) or hi - lo < max(3, len(values) / 2):
            break
        vals = vals[lo:hi]
        centre = stats.middle(vals)
        spread = _spread(vals, centre, unit)
    return centre, spread


def _spread(vals: list[float], centre: float, unit: str) -> float:
    """1.4826 MADs of finite `vals` about their median `centre` (`stats.mad`'s), or the floor."""
    return max(1.4826 * (stats.middle(sorted(map(abs, map(sub, vals, repeat(centre))))) or 0.0), floor_of(unit, centre))


def _within(ordered: list[float], centre: float, limit: float) -> tuple[int, int]:
    """Where the values with |v − centre| <= limit are in `ordered` (finite, sorted): one run of
    them, as |v − centre| falls towards the centre and rises after it (rounded subtraction keeps
    that order): from the first one below the centre that is close enough to the first one above
    it that is not."""
    lo = bisect_left(ordered, True, key=lambda v: v >= centre or abs(v - centre) <= limit)
    return lo, bisect_left(ordered, True, lo, key=lambda v: v > centre and abs(v - centre) > limit)


def _normal_of_any(vals: list[float], size: int, unit: str) -> tuple[float, float]:
    """`normal_of` of values that may hold NaNs or infinities (none, from `level`), as they come."""
    centre = median(vals)
    spread = max(1.4826 * (stats.mad(vals) or 0.0), floor_of(unit, centre))
    for _ in range(CLIP_ROUNDS):
        kept = [v for v in vals if abs(v - centre) <= CLIP * spread]
        if len(kept) == len(vals) or len(kept) < max(3, size / 2):
            break
        vals = kept
        centre = median(vals)
        spread = max(1.4826 * (stats.mad(vals) or 0.0), floor_of(unit, centre))
    return centre, spread


def resolution(sets: SignalSet) -> float:
    """The data's own resolution: how often its values change (a 60 s scrape read at a 15 s
    step repeats each value four times). Per series, the median time between two changes;
    for the service, the finest of them (a flat stretch says nothing about the scrape)."""
    per_series = []
    for series in sets.signals.values():
        points = series.points
        if isinstance(points, Points):
            ts, vs = points.columns()
            later = islice(ts, 1, None)
            if math.isfinite(sum(vs)):
                changes = list(compress(later, map(ne, islice(vs, 1, None), vs)))
            else:
                changes = [t for t, v, prev in zip(later, islice(vs, 1, None), vs) if math.isfinite(v) and v != prev]
        else:
            changes = [t for (t, v), (_, prev) in zip(points[1:], points) if math.isfinite(v) and v != prev]
        gaps = [b - a for a, b in zip(changes, changes[1:]) if b > a]
        if len(gaps) >= 3:
            per_series.append(median(gaps))
            if len(per_series) >= RESOLUTION_SERIES:
                break
    return min(per_series) if per_series else 0.0


def fixed_sustain(window: TimeRange) -> float | None:
    """The sustain period of every service in `window` when the data cannot change it: a third of
    a window of 15 minutes or more is already the most it can be, whatever the resolution (the
    resolution of 500 services is then not read); None when it depends on the data."""
    span = window.end.timestamp() - window.start.timestamp()
    return SUSTAIN_MAX if span * SUSTAIN_SHARE >= SUSTAIN_MAX else None


def sustain_for(sets: SignalSet) -> float:
    fixed = fixed_sustain(sets.window)
    if fixed is not None:
        return fixed
    window = sets.window.end.timestamp() - sets.window.start.timestamp()
    return min(SUSTAIN_MAX, max(window * SUSTAIN_SHARE, SUSTAIN_SAMPLES * resolution(sets)))


def level(series: SignalSeries, spec: SignalSpec, sets: SignalSet, sustain: float | None = None) -> Level:
    if sustain is None:
        sustain = sustain_for(sets)
    b0, b1 = sets.baseline.start.timestamp(), sets.baseline.end.timestamp()
    w0, w1 = sets.window.start.timestamp(), sets.window.end.timestamp()
    # The baseline ends where the window starts: that shared instant belongs to the window.
    cols = stats.columns(series.points)
    if cols is not None:    # timestamps that rise (every backend's): each range is two bisections
        bt, bvals = stats.between(*cols, b0, min(b1, w0), open_end=True)
        wt, wv = stats.between(*cols, w0, w1)
    else:
        base = [(t, v) for t, v in series.points if b0 <= t < min(b1, w0) and math.isfinite(v)]
        win = [(t, v) for t, v in series.points if w0 <= t <= w1 and math.isfinite(v)]
        bt, bvals = [t for t, _ in base], [v for _, v in base]
        wt, wv = [t for t, _ in win], [v for _, v in win]
    b, spread = normal_of(bvals, spec.unit) if bvals else (None, None)
    now = wv[-1] if wv else None
    if spec.aggregate == "increase":
        w = stats.increase_of(wv)
        b = stats.increase_of(bvals)
        wm = w
    elif spec.aggregate == "last":
        w = now
        wm = w
    elif spec.aggregate == "peak":
        w = max(wv, default=None)
        wm = w
    else:
        w = stats.rolling_peak(wt, wv, sustain) if cols is not None else \
            stats.sustained_peak(list(zip(wt, wv)), sustain)
        wm = median(wv) if wv else None
    ratio = None
    if b is not None and w is not None:
        ratio = w / b if abs(b) > 1e-12 else (math.inf if w > 1e-12 else 1.0)
    z = None
    onset = None
    if spec.aggregate in EVENT_AGGREGATES:
        spread = None
    if bvals and b is not None and spread is not None and w is not None and spec.aggregate not in EVENT_AGGREGATES:
        z = (w - b) / spread
        # Leaving the baseline means 3 spreads out and a quarter of the way to the window's
        # level: a quiet baseline (1 ms of pool wait) has a spread so small that noise would count.
        step = max(3 * spread, 0.25 * (w - b))
        earliest = b1 - ONSET_LOOKBACK
        ts, vs = bt + wt, bvals + wv
        if cols is not None:
            onset = _onset_rising(ts, vs, b, step, earliest)
        else:
            onset = _onset(zip(ts, vs), b, step, earliest)
    return Level(spec.name, spec.unit, series.query, b, w, wm, ratio, z, onset, series, now, spread)


def _onset_rising(ts: list[float], vs: list[float], base: float, step: float, earliest: float) -> float | None:
    """`_onset` of points whose timestamps rise: those before `earliest` are the first ones, and
    the first run of 3 points out is where three out in a row are first found."""
    first = bisect_left(ts, earliest)
    out = bytes(map(lt, repeat(step), map(sub, islice(vs, first, None), repeat(base))))
    at = out.find(b"\x01\x01\x01")
    return None if at < 0 else ts[first + at]


def _onset(points: Iterable[tuple[float, float]], base: float, step: float, earliest: float) -> float | None:
    """First time after `earliest` the signal rose more than `step` above its baseline and
    stayed there for 3 points."""
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


def corr(a: SignalSeries, b: SignalSeries, start: float, end: float) -> float | None:
    """Pearson correlation of two signals over the same steps (does latency follow it?)."""
    left = {t: v for t, v in a.points if start <= t <= end and math.isfinite(v)}
    pairs = [(left[t], v) for t, v in b.points if t in left and math.isfinite(v)]
    if len(pairs) < 8:
        return None
    xs, ys = zip(*pairs)
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    vx = sum((x - mx) ** 2 for x in xs)
    vy = sum((y - my) ** 2 for y in ys)
    if vx <= 0 or vy <= 0:
        return None
    return sum((x - mx) * (y - my) for x, y in pairs) / math.sqrt(vx * vy)


def edge_levels(sets: SignalSet, specs: Mapping[str, SignalSpec], name: str = EDGE_SIGNAL,
                sustain: float | None = None) -> dict[str, Level]:
    """Each call of an edge-labelled signal (one series per callee) judged on its own."""
    series = sets.signals.get(name)
    if series is None or not series.edges or name not in specs:
        return {}
    if sustain is None:
        sustain = sustain_for(sets)
    return {edge: level(replace(series, points=points, edges={}), specs[name], sets, sustain)
            for edge, points in series.edges.items()}


def levels_of(sets: SignalSet, specs: Mapping[str, SignalSpec], sustain: float | None = None) -> dict[str, Level]:
    if sustain is None:
        sustain = sustain_for(sets)
    return {name: level(series, specs[name], sets, sustain) for name, series in sets.signals.items() if name in specs}
