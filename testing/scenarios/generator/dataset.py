"""Series and families as the exporters would expose them, rendered as OpenMetrics or Prometheus text."""

from __future__ import annotations

import contextlib
import gc
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from testing.scenarios.generator.vocabulary import DEFAULT_BUCKETS, FAMILY_META, STEP_SECONDS

# --------------------------------------------------------------------------------------
# Histograms
# --------------------------------------------------------------------------------------

_Z95 = 1.6448536269514722
_SQRT2 = math.sqrt(2.0)


def lognormal_params(p50: float, p95: float) -> tuple[float, float]:
    """(mu, sigma) of the lognormal with these median and 95th percentile."""
    p50 = max(p50, 1e-6)
    p95 = max(p95, p50 * 1.01)
    return math.log(p50), math.log(p95 / p50) / _Z95


def bucket_cdf(p50: float, p95: float, buckets: Sequence[float] = DEFAULT_BUCKETS,
               calibrate: bool = True) -> list[float]:
    """Cumulative fraction at each finite ``le`` plus 1.0 for +Inf.

    The fractions come from the lognormal with the given p50/p95.  With
    ``calibrate`` the two bucket bounds around the 0.95 point are nudged so that
    Prometheus' linear interpolation (``histogram_quantile(0.95, ...)``) returns
    ``p95`` itself rather than the lognormal seen through coarse buckets (which
    would overshoot by up to a bucket width, e.g. 4.6 s for a true 3.75 s).
    """
    mu, sigma = lognormal_params(p50, p95)
    p95 = math.exp(mu + sigma * _Z95)
    inv = 1.0 / (sigma * _SQRT2)
    erf, log = math.erf, math.log
    f = [0.5 * (1.0 + erf((log(le) - mu) * inv)) for le in buckets]
    f.append(1.0)
    if not calibrate:
        return f
    n = len(buckets)
    j = 0
    while j < n and f[j] < 0.95:
        j += 1
    if j >= n:          # beyond the last finite bucket: nothing Prometheus could show
        return f
    a = buckets[j - 1] if j > 0 else 0.0
    b = buckets[j]
    fa = f[j - 1] if j > 0 else 0.0
    q = min(max(p95, a + 1e-12), b)
    fb = fa + (0.95 - fa) * (b - a) / (q - a)
    if fb <= 1.0:
        f[j] = fb
        for k in range(j + 1, n):
            if f[k] < fb:
                f[k] = fb
    elif j > 0:
        fb = f[j]
        fa = ((b - a) * 0.95 - (q - a) * fb) / (b - q) if b > q else fa
        fa = max(0.0, min(fa, 0.95))
        f[j - 1] = fa
        for k in range(j - 1):
            if f[k] > fa:
                f[k] = fa
    return f


def lognormal_mean(p50: float, p95: float) -> float:
    mu, sigma = lognormal_params(p50, p95)
    return math.exp(mu + sigma * sigma / 2.0)


# --------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------

@contextlib.contextmanager
def _gc_paused():
    """Millions of small strings make the cyclic GC rescan the heap over and over;
    nothing built here has cycles, so pausing it halves the run time."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _esc(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    return ",".join(f'{k}="{_esc(str(v))}"' for k, v in pairs)


def _le(x: float) -> str:
    return "+Inf" if math.isinf(x) else repr(float(x))


@dataclass
class _Series:
    name: str                       # sample name (e.g. http_requests_total)
    labels: str                     # rendered label pairs
    values: list                    # per step: str or None (absent)


@dataclass
class _Family:
    name: str
    type: str
    help: str
    groups: list = field(default_factory=list)   # list[list[_Series]]: one metric (labelset) each
    keys: set = field(default_factory=set)


def _fmt_int(x: float) -> str:
    return str(int(x))


def _fmt_float(x: float) -> str:
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return format(x, ".10g")


def _fmt_gauge(x: float) -> str:
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return format(x, ".6g")


class _Carry:
    """Deterministic rounding of expected counts: the fractional part carries over."""
    __slots__ = ("acc",)

    def __init__(self, start: float = 0.0) -> None:
        self.acc = start

    def take(self, expected: float) -> int:
        self.acc += max(0.0, expected)
        n = int(self.acc)
        self.acc -= n
        return n


class Dataset:
    """Generated samples, ready to render."""

    def __init__(self, timestamps: Sequence[float]) -> None:
        self.timestamps = list(timestamps)
        self.families: dict[str, _Family] = {}

    # ---- building -------------------------------------------------------------------
    def family(self, name: str) -> _Family:
        fam = self.families.get(name)
        if fam is None:
            typ, hlp = FAMILY_META[name]
            fam = self.families[name] = _Family(name, typ, hlp)
        return fam

    def add(self, family: str, group: list[_Series]) -> None:
        fam = self.family(family)
        key = tuple((s.name, s.labels) for s in group)
        if key in fam.keys:
            raise ValueError(f"duplicate series in {family}: {key[0]}")
        fam.keys.add(key)
        fam.groups.append(group)

    # ---- stats ------------------------------------------------------------------------
    @property
    def series_count(self) -> int:
        return sum(len(g) for f in self.families.values() for g in f.groups)

    @property
    def sample_count(self) -> int:
        return sum(sum(v is not None for v in s.values)
                   for f in self.families.values() for g in f.groups for s in g)

    def metric_names(self) -> set[str]:
        return {s.name for f in self.families.values() for g in f.groups for s in g}

    # ---- rendering --------------------------------------------------------------------
    def openmetrics(self) -> str:
        """OpenMetrics text, as promtool's backfill wants it.

        One family at a time (TYPE first), one metric (labelset) at a time,
        timestamps ascending within it (promtool silently *drops* out-of-order and
        duplicate samples of a series), a histogram's buckets/_count/_sum together
        per timestamp, seconds timestamps, and ``# EOF`` as the very last line
        (promtool rejects anything after it, even an empty line).
        """
        with _gc_paused():
            return self._openmetrics()

    def _openmetrics(self) -> str:
        ts = [f" {_fmt_float(t)}\n" for t in self.timestamps]
        out: list[str] = []
        ap = out.append
        for fam in self.families.values():
            ap(f"# HELP {fam.name} {fam.help}\n# TYPE {fam.name} {fam.type}\n")
            for group in fam.groups:
                if len(group) == 1:
                    s = group[0]
                    prefix = f"{s.name}{{{s.labels}}} "
                    for v, t in zip(s.values, ts):
                        if v is not None:
                            ap(prefix + v + t)
                    continue
                prefixes = [f"{s.name}{{{s.labels}}} " for s in group]
                cols = [s.values for s in group]
                for k, t in enumerate(ts):
                    for prefix, col in zip(prefixes, cols):
                        v = col[k]
                        if v is not None:
                            ap(prefix + v + t)
        ap("# EOF\n")
        return "".join(out)

    def prometheus_text(self, millis: bool = True) -> str:
        """Prometheus exposition lines with timestamps (ms by default), one per sample,
        for VictoriaMetrics' ``/api/v1/import/prometheus``."""
        with _gc_paused():
            return self._prometheus_text(millis)

    def _prometheus_text(self, millis: bool) -> str:
        mul = 1000 if millis else 1
        ts = [f" {int(round(t * mul))}\n" for t in self.timestamps]
        out: list[str] = []
        ap = out.append
        for fam in self.families.values():
            ap(f"# TYPE {fam.name} {fam.type}\n")
            for group in fam.groups:
                for s in group:
                    prefix = f"{s.name}{{{s.labels}}} "
                    for v, t in zip(s.values, ts):
                        if v is not None:
                            ap(prefix + v + t)
        return "".join(out)


def timeline(start: float, end: float, step: float = STEP_SECONDS) -> list[float]:
    """Scrape times from ``start`` to ``end`` inclusive."""
    n = int(math.floor((end - start) / step + 1e-9)) + 1
    return [start + k * step for k in range(n)]


