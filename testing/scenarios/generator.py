"""Synthetic but realistic Prometheus data for the metric families triage understands.

A service is described by a :class:`ServiceSpec` whose quantities are *curves*,
plain functions of unix time in seconds, built from the small combinators below
(``const``, ``step``, ``ramp``, ``noisy``...).  :func:`generate` samples every
curve on a 15 s scrape grid and turns it into what the real exporters would
have exposed: cumulative counters per pod (monotonic, with optional resets),
cumulative histogram buckets filled from a lognormal fitted to the wanted
p50/p95, gauges, kube-state-metrics, cAdvisor, postgres_exporter, pgbouncer
exporter and the ``ALERTS`` series.

The result renders either as OpenMetrics (seconds timestamps, ``# EOF``) for
``promtool tsdb create-blocks-from openmetrics`` or as the Prometheus text format
with millisecond timestamps for VictoriaMetrics' ``/api/v1/import/prometheus``.

Everything is deterministic: the same specs give byte-identical output.  Noise
that depends on time is a hash of (seed, t), so it does not depend on the order
in which curves are evaluated; per-pod constants come from a ``random.Random``
seeded from the service's seed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import math
import random
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

Curve = Callable[[float], float]
CurveLike = float | int | Curve

STEP_SECONDS = 15

#: prometheus-fastapi-instrumentator's default buckets (also used for the DB,
#: pool-wait and client histograms, so one lookup table serves them all).
DEFAULT_BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
)

DB_OPERATIONS: tuple[str, ...] = ("select", "insert", "update", "delete", "connect")

#: postgres_exporter emits pg_locks_count for every mode, lowercase.
PG_LOCK_MODES: tuple[str, ...] = (
    "accesssharelock", "rowsharelock", "rowexclusivelock", "shareupdateexclusivelock",
    "sharelock", "sharerowexclusivelock", "exclusivelock", "accessexclusivelock",
)
PG_STATES: tuple[str, ...] = ("active", "idle", "idle in transaction")

#: Metric families that can be switched on/off per service (partial-signal variants).
FAMILIES: frozenset[str] = frozenset({
    "http",        # http_requests_total, http_request_duration_seconds
    "inflight",    # http_requests_inprogress
    "db",          # db_query_duration_seconds
    "pool",        # db_connection_pool_*, db_connection_wait_duration_seconds
    "process",     # process_cpu_seconds_total, process_resident_memory_bytes
    "client",      # http_client_request_duration_seconds (only when dependencies exist)
    "cadvisor",    # container_*
    "ksm",         # kube_pod_*, kube_deployment_*
    "hpa",         # kube_horizontalpodautoscaler_*
    "postgres",    # pg_stat_activity_count, pg_locks_count, pg_settings_max_connections
    "pgbouncer",   # pgbouncer_pools_*
    "alerts",      # ALERTS
})
DEFAULT_FAMILIES: frozenset[str] = FAMILIES - {"pgbouncer"}

_COUNTER, _GAUGE, _HISTOGRAM = "counter", "gauge", "histogram"

#: family name -> (type, help).  Counter families are named without ``_total``
#: (the OpenMetrics convention); their samples carry the suffix.
FAMILY_META: dict[str, tuple[str, str]] = {
    "http_requests": (_COUNTER, "Total number of requests by method, status and handler."),
    "http_request_duration_seconds": (_HISTOGRAM, "Latency with many buckets but no API specific labels."),
    "http_requests_inprogress": (_GAUGE, "Number of HTTP requests in progress."),
    "db_query_duration_seconds": (_HISTOGRAM, "Database query duration by operation."),
    "db_connection_pool_size": (_GAUGE, "Configured size of the DB connection pool."),
    "db_connection_pool_used": (_GAUGE, "DB connections checked out of the pool."),
    "db_connection_pool_available": (_GAUGE, "DB connections idle in the pool."),
    "db_connection_wait_duration_seconds": (_HISTOGRAM, "Time spent waiting for a pooled DB connection."),
    "process_cpu_seconds": (_COUNTER, "Total user and system CPU time spent in seconds."),
    "process_resident_memory_bytes": (_GAUGE, "Resident memory size in bytes."),
    "http_client_request_duration_seconds": (_HISTOGRAM, "Duration of HTTP client requests."),
    "container_cpu_usage_seconds": (_COUNTER, "Cumulative cpu time consumed in seconds."),
    "container_spec_cpu_quota": (_GAUGE, "CPU quota of the container."),
    "container_spec_cpu_period": (_GAUGE, "CPU period of the container."),
    "container_cpu_cfs_throttled_periods": (_COUNTER, "Number of throttled period intervals."),
    "container_cpu_cfs_periods": (_COUNTER, "Number of elapsed enforcement period intervals."),
    "container_memory_working_set_bytes": (_GAUGE, "Current working set in bytes."),
    "container_spec_memory_limit_bytes": (_GAUGE, "Memory limit for the container."),
    "kube_pod_container_status_restarts": (_COUNTER, "The number of container restarts per container."),
    "kube_pod_container_status_last_terminated_reason": (_GAUGE, "Describes the last reason the container was in "
                                                                 "terminated state."),
    "kube_deployment_status_replicas_available": (_GAUGE, "The number of available replicas per deployment."),
    "kube_deployment_spec_replicas": (_GAUGE, "Number of desired pods for a deployment."),
    "kube_deployment_metadata_generation": (_GAUGE, "Sequence number representing a specific generation of the "
                                                    "desired state."),
    "kube_deployment_status_observed_generation": (_GAUGE, "The generation observed by the deployment controller."),
    "kube_horizontalpodautoscaler_status_current_replicas": (_GAUGE, "Current number of replicas of pods managed by "
                                                                     "this autoscaler."),
    "kube_horizontalpodautoscaler_spec_max_replicas": (_GAUGE, "Upper limit for the number of pods that can be set by "
                                                               "the autoscaler."),
    "kube_horizontalpodautoscaler_spec_min_replicas": (_GAUGE, "Lower limit for the number of pods that can be set by "
                                                               "the autoscaler."),
    "pg_stat_activity_count": (_GAUGE, "number of connections in this state"),
    "pg_locks_count": (_GAUGE, "Number of locks"),
    "pg_settings_max_connections": (_GAUGE, "Sets the maximum number of concurrent connections."),
    "pgbouncer_pools_client_waiting_connections": (_GAUGE, "Client connections waiting on a server connection"),
    "pgbouncer_pools_client_active_connections": (_GAUGE, "Client connections linked to server connection and able to "
                                                          "process queries"),
    "pgbouncer_pools_server_active_connections": (_GAUGE, "Server connections linked to a client connection"),
    "ALERTS": (_GAUGE, "Alerts firing (as recorded by Prometheus' rule manager)."),
}


# --------------------------------------------------------------------------------------
# Curves
# --------------------------------------------------------------------------------------

def as_curve(v: CurveLike) -> Curve:
    """A number becomes a constant curve; a callable is returned as is."""
    if callable(v):
        return v
    x = float(v)
    return lambda t: x


def const(v: float) -> Curve:
    x = float(v)
    return lambda t: x


def step(before: CurveLike, after: CurveLike, at: float) -> Curve:
    """``before`` until ``at`` (exclusive), ``after`` from ``at`` on."""
    b, a = as_curve(before), as_curve(after)
    return lambda t: a(t) if t >= at else b(t)


def ramp(before: CurveLike, after: CurveLike, start: float, end: float) -> Curve:
    """``before`` until ``start``, linear to ``after`` at ``end``, ``after`` from then on."""
    b, a = as_curve(before), as_curve(after)
    span = float(end - start)

    def f(t: float) -> float:
        if t <= start:
            return b(t)
        if t >= end or span <= 0:
            return a(t)
        w = (t - start) / span
        return b(t) * (1.0 - w) + a(t) * w
    return f


def piecewise(points: Sequence[tuple[float, float]]) -> Curve:
    """Linear interpolation through (t, value) points, flat outside them."""
    pts = sorted((float(t), float(v)) for t, v in points)
    if not pts:
        raise ValueError("piecewise needs at least one point")

    def f(t: float) -> float:
        if t <= pts[0][0]:
            return pts[0][1]
        for (t0, v0), (t1, v1) in zip(pts, pts[1:]):
            if t <= t1:
                return v0 if t1 == t0 else v0 + (v1 - v0) * (t - t0) / (t1 - t0)
        return pts[-1][1]
    return f


def pulse(base: CurveLike, value: CurveLike, start: float, end: float | None = None) -> Curve:
    """``value`` during [start, end), ``base`` elsewhere (end None: until forever)."""
    b, v = as_curve(base), as_curve(value)
    stop = math.inf if end is None else end
    return lambda t: v(t) if start <= t < stop else b(t)


def combine(fn: Callable[..., float], *curves: CurveLike) -> Curve:
    cs = [as_curve(c) for c in curves]
    return lambda t: fn(*(c(t) for c in cs))


def mul(*curves: CurveLike) -> Curve:
    cs = [as_curve(c) for c in curves]

    def f(t: float) -> float:
        r = 1.0
        for c in cs:
            r *= c(t)
        return r
    return f


def add(*curves: CurveLike) -> Curve:
    cs = [as_curve(c) for c in curves]
    return lambda t: sum(c(t) for c in cs)


def clamp(curve: CurveLike, lo: float = -math.inf, hi: float = math.inf) -> Curve:
    c = as_curve(curve)
    return lambda t: min(hi, max(lo, c(t)))


_MASK64 = (1 << 64) - 1


def _mix64(x: int) -> int:
    """splitmix64 finaliser: a cheap, well-distributed integer hash."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def gauss_at(seed: int, t: float) -> float:
    """A standard normal draw that is a pure function of (seed, t), clipped to ±3."""
    h1 = _mix64((seed & _MASK64) ^ _mix64(int(round(t * 1000.0)) & _MASK64))
    h2 = _mix64(h1)
    u1 = ((h1 >> 11) + 1) / 9007199254740993.0  # (0, 1]
    u2 = (h2 >> 11) / 9007199254740992.0
    g = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
    return max(-3.0, min(3.0, g))


def noisy(curve: CurveLike, rel_sigma: float, seed: int | str = 0) -> Curve:
    """Multiplicative gaussian noise, deterministic in (seed, t); never below 0."""
    c = as_curve(curve)
    s = seed if isinstance(seed, int) else zlib.crc32(seed.encode())
    return lambda t: max(0.0, c(t) * (1.0 + rel_sigma * gauss_at(s, t)))


# --------------------------------------------------------------------------------------
# Specs
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Dependency:
    """An outbound HTTP dependency, seen from the caller's client instrumentation."""
    server_address: str                      # e.g. "bank-api.shop"
    calls_per_request: float = 1.0
    latency_p50: CurveLike = 0.03
    latency_p95: CurveLike = 0.08
    error_ratio: CurveLike = 0.0
    error_status: str = "504"
    ok_status: str = "200"


@dataclass(frozen=True)
class Alert:
    alertname: str
    severity: str
    start: float
    end: float | None = None              # None: still firing at the end of the data


@dataclass(frozen=True)
class Restart:
    at: float
    pod: int = 0                             # pod index
    reason: str = "Error"                    # e.g. "OOMKilled", "Error", "Completed"


_DEFAULT_DB_OPS = {"select": 3.0, "insert": 0.5, "update": 0.5, "delete": 0.05, "connect": 0.001}
_DEFAULT_DB_P50 = {"select": 0.002, "insert": 0.003, "update": 0.003, "delete": 0.003, "connect": 0.004}
_DEFAULT_DB_P95 = {"select": 0.008, "insert": 0.012, "update": 0.012, "delete": 0.01, "connect": 0.015}
_DEFAULT_LOCKS = {"accesssharelock": 12.0, "rowexclusivelock": 3.0, "rowsharelock": 1.0}


@dataclass(frozen=True)
class ServiceSpec:
    """One service and everything its exporters would show, as curves over unix time.

    Per-service quantities (``rps``, ``error_ratio``, latencies, pg_*) are for the
    whole service; per-pod quantities (``cpu_usage_cores``, ``memory_working_set_bytes``,
    ``pool_used``, ``inflight``) are for the average pod (each pod gets a small fixed
    offset).  ``pool_used`` is the *demand*: it is clamped to ``pool_size``, so a
    demand above the size shows as a pool exactly full on every pod.
    """

    name: str
    namespace: str = "default"
    database: str | None = None           # postgres datname; None: the service name
    pg_server: str | None = None          # postgres host:port; None: "postgres.<ns>:5432"
    pg_max_connections: int = 100
    pods: int = 2                            # most pods ever running; pod i exists while i < replicas(t)
    replicas: CurveLike | None = None     # None: always ``pods``
    spec_replicas: CurveLike | None = None  # None: same as replicas
    cpu_limit_cores: float = 1.0
    memory_limit_bytes: int = 512 * 1024 * 1024
    pool_size: int = 10
    families: frozenset[str] = DEFAULT_FAMILIES
    tier: int = 3                            # config metadata only (not emitted)
    depends_on: tuple[str, ...] = ()         # config metadata only (not emitted)

    handlers: tuple[tuple[str, str, float], ...] = ()  # (handler, method, weight); () -> one default
    error_statuses: Mapping[str, float] = field(default_factory=lambda: {"500": 1.0})

    rps: CurveLike = 50.0
    error_ratio: CurveLike = 0.002
    latency_p50: CurveLike = 0.04
    latency_p95: CurveLike = 0.12
    inflight: CurveLike | None = None     # per pod; None: Little's law

    db_ops: Mapping[str, float] = field(default_factory=dict)            # per request; missing -> defaults
    db_latency_p50: Mapping[str, CurveLike] = field(default_factory=dict)
    db_latency_p95: Mapping[str, CurveLike] = field(default_factory=dict)

    pool_used: CurveLike = 3.0
    pool_wait_p50: CurveLike = 0.0002
    pool_wait_p95: CurveLike = 0.002

    cpu_usage_cores: CurveLike = 0.2
    cpu_throttle_ratio: CurveLike | None = None   # None: derived from usage / limit
    memory_working_set_bytes: CurveLike | None = None  # None: 40 % of the limit

    restarts: tuple[Restart, ...] = ()
    counter_resets: tuple[tuple[float, int], ...] = ()   # (t, pod index): its counters start again at 0
    deploys: tuple[float, ...] = ()
    rollout_seconds: float | None = 15.0          # observed_generation lag; None: never observed
    generation_base: int = 7
    hpa_min: int | None = None                    # None: pods
    hpa_max: int | None = None                    # None: 2 * pods

    pg_active: CurveLike | None = None            # None: from pool use
    pg_idle: CurveLike | None = None
    pg_idle_in_transaction: CurveLike | None = None
    locks: Mapping[str, CurveLike] = field(default_factory=dict)     # mode -> count; missing -> defaults

    pgbouncer_client_waiting: CurveLike = 0.0
    pgbouncer_client_active: CurveLike | None = None   # None: pool connections in use
    pgbouncer_server_active: CurveLike | None = None   # None: pg active

    dependencies: tuple[Dependency, ...] = ()
    alerts: tuple[Alert, ...] = ()

    noise: float = 0.03                      # relative sigma applied to every quantity
    seed: int | None = None               # None: crc32 of the name

    @property
    def db_name(self) -> str:
        return self.database or self.name

    @property
    def server(self) -> str:
        return self.pg_server or f"postgres.{self.namespace}:5432"

    def without(self, *families: str) -> ServiceSpec:
        unknown = set(families) - FAMILIES
        if unknown:
            raise ValueError(f"unknown families: {sorted(unknown)}")
        return dataclasses.replace(self, families=self.families - set(families))

    def with_families(self, *families: str) -> ServiceSpec:
        unknown = set(families) - FAMILIES
        if unknown:
            raise ValueError(f"unknown families: {sorted(unknown)}")
        return dataclasses.replace(self, families=self.families | set(families))

    def pod_names(self) -> list[str]:
        """Deterministic Kubernetes-looking pod names: <deployment>-<rs hash>-<suffix>."""
        rng = random.Random(self._seed() ^ 0x5EED)
        alphabet = "bcdfghjklmnpqrstvwxz2456789"   # what Kubernetes uses for generated names
        rs = "".join(rng.choice(alphabet) for _ in range(10))
        return [f"{self.name}-{rs}-" + "".join(rng.choice(alphabet) for _ in range(5))
                for _ in range(self.pods)]

    def _seed(self) -> int:
        return self.seed if self.seed is not None else zlib.crc32(self.name.encode())


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


def generate(specs: Sequence[ServiceSpec], start: float, end: float,
             step: float = STEP_SECONDS) -> Dataset:
    """Sample every spec on the scrape grid [start, end] and build the dataset."""
    with _gc_paused():
        return _generate(specs, start, end, step)


def _generate(specs: Sequence[ServiceSpec], start: float, end: float, step: float) -> Dataset:
    ds = Dataset(timeline(start, end, step))
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate service names: {names}")
    servers: dict[str, int] = {}
    for spec in specs:
        unknown = set(spec.families) - FAMILIES
        if unknown:
            raise ValueError(f"{spec.name}: unknown families {sorted(unknown)}")
        _ServiceGen(spec, ds, step).run()
        if "postgres" in spec.families:
            prev = servers.setdefault(spec.server, spec.pg_max_connections)
            if prev != spec.pg_max_connections:
                raise ValueError(f"{spec.server}: conflicting max_connections {prev} and "
                                 f"{spec.pg_max_connections}")
    for server, maxc in servers.items():
        host = server.split(":")[0]
        labels = _labels([("instance", f"{host}-exporter:9187"), ("job", "postgres-exporter"),
                          ("server", server)])
        ds.add("pg_settings_max_connections",
               [_Series("pg_settings_max_connections", labels, [str(maxc)] * len(ds.timestamps))])
    return ds


def to_openmetrics(specs: Sequence[ServiceSpec], start: float, end: float,
                   step: float = STEP_SECONDS) -> str:
    return generate(specs, start, end, step).openmetrics()


def to_vm_import(specs: Sequence[ServiceSpec], start: float, end: float,
                 step: float = STEP_SECONDS) -> str:
    return generate(specs, start, end, step).prometheus_text(millis=True)


class _ServiceGen:
    def __init__(self, spec: ServiceSpec, ds: Dataset, step: float) -> None:
        self.spec = spec
        self.ds = ds
        self.ts = ds.timestamps
        self.n = len(self.ts)
        self.step = step
        self.seed = spec._seed()
        self.rng = random.Random(self.seed)
        self.fam = spec.families
        self.pods = spec.pod_names()

    # ---- curve sampling -------------------------------------------------------------
    def sample(self, curve: CurveLike, quantity: str, sigma: float | None = None,
               lo: float = 0.0) -> list[float]:
        c = as_curve(curve)
        sig = self.spec.noise if sigma is None else sigma
        if sig <= 0:
            return [max(lo, c(t)) for t in self.ts]
        s = zlib.crc32(f"{self.seed}:{quantity}".encode())
        return [max(lo, c(t) * (1.0 + sig * gauss_at(s, t))) for t in self.ts]

    def add(self, family: str, name: str, labels: list[tuple[str, str]], values: list) -> None:
        self.ds.add(family, [_Series(name, _labels(labels), values)])

    # ---- main -------------------------------------------------------------------------
    # Each family's emitter, in the order the dataset has always been written in; "client" and
    # "alerts" emit only when the spec has dependencies or alerts to write.
    _EMITTERS = (("http", "emit_http"), ("inflight", "emit_inflight"), ("db", "emit_db"), ("pool", "emit_pool"),
                 ("process", "emit_process"), ("client", "emit_client"), ("cadvisor", "emit_cadvisor"),
                 ("ksm", "emit_ksm"), ("hpa", "emit_hpa"), ("postgres", "emit_postgres"),
                 ("pgbouncer", "emit_pgbouncer"), ("alerts", "emit_alerts"))

    def run(self) -> None:
        # The phases draw from self.rng in this order (pods, then requests): reordering them
        # would change every generated series and so every figure measured on them.
        self._pods()
        self._service_quantities()
        self._requests()
        self._resources()
        sp = self.spec
        for family, emitter in self._EMITTERS:
            if family not in self.fam:
                continue
            if (family == "client" and not sp.dependencies) or (family == "alerts" and not sp.alerts):
                continue
            getattr(self, emitter)()

    def _pods(self) -> None:
        sp, n, ts = self.spec, self.n, self.ts
        npods = sp.pods
        rep_curve = as_curve(sp.replicas) if sp.replicas is not None else const(npods)
        self.active = [max(0, min(npods, int(round(rep_curve(t))))) for t in ts]
        spec_rep = (as_curve(sp.spec_replicas) if sp.spec_replicas is not None else rep_curve)
        self.spec_active = [max(0, int(round(spec_rep(t)))) for t in ts]

        # fixed per-pod offsets (load share, cpu, memory)
        self.share = [max(0.5, 1.0 + 0.03 * self.rng.gauss(0, 1)) for _ in range(npods)]
        self.podf = [max(0.8, 1.0 + 0.02 * self.rng.gauss(0, 1)) for _ in range(npods)]
        self.uptime = [self.rng.randint(400, 6000) for _ in range(npods)]  # steps before data start

        # presence and reset steps per pod
        self.present = [[i < self.active[k] for k in range(n)] for i in range(npods)]
        self.resets: list[set[int]] = [set() for _ in range(npods)]
        events = [(t, p) for t, p in sp.counter_resets] + [(r.at, r.pod) for r in sp.restarts]
        for t, p in events:
            if 0 <= p < npods:
                k = self._step_at(t)
                if k is not None:
                    self.resets[p].add(k)
        for i in range(npods):
            for k in range(1, n):
                if self.present[i][k] and not self.present[i][k - 1]:
                    self.resets[i].add(k)     # a pod that comes (back) starts from zero

    def _service_quantities(self) -> None:
        sp = self.spec
        self.rps = self.sample(sp.rps, "rps")
        self.err = [min(1.0, x) for x in self.sample(sp.error_ratio, "error_ratio", sigma=sp.noise * 3)]
        self.lat50 = self.sample(sp.latency_p50, "latency_p50")
        self.lat95 = self.sample(sp.latency_p95, "latency_p95")
        self.lat_mean = [lognormal_mean(a, b) for a, b in zip(self.lat50, self.lat95)]

    def _requests(self) -> None:
        """Per pod request counts per handler and status."""
        sp = self.spec
        self.handlers = sp.handlers or ((f"/api/{sp.name}", "GET", 1.0),)
        self.req: list[list[int]] = []          # per pod, per step: all requests
        self.req_h: list[list[list[int]]] = []  # per pod, per handler, per step
        self.req_hs: list[list[dict[str, list[int]]]] = []
        for i in range(sp.pods):
            tot, per_h, per_hs = self._pod_requests(i)
            self.req.append(tot)
            self.req_h.append(per_h)
            self.req_hs.append(per_hs)

    def _pod_requests(self, i: int) -> tuple[list[int], list[list[int]], list[dict[str, list[int]]]]:
        n, step, handlers = self.n, self.step, self.handlers
        hw = sum(h[2] for h in handlers)
        st_w = dict(self.spec.error_statuses)
        sw = sum(st_w.values()) or 1.0
        carry_h = [_Carry(self.rng.random()) for _ in handlers]
        carry_s = [{s: _Carry(self.rng.random()) for s in st_w} for _ in handlers]
        tot = [0] * n
        per_h = [[0] * n for _ in handlers]
        per_hs = [{s: [0] * n for s in ["200", *st_w]} for _ in handlers]
        for k in range(n):
            if not self.present[i][k]:
                continue
            wsum = sum(self.share[j] for j in range(self.active[k]))
            exp = self.rps[k] * self.share[i] / wsum * step
            for h, (_, _, w) in enumerate(handlers):
                nh = carry_h[h].take(exp * w / hw)
                per_h[h][k] = nh
                tot[k] += nh
                errs = 0
                for s, ws in st_w.items():
                    e = carry_s[h][s].take(nh * self.err[k] * ws / sw)
                    e = min(e, nh - errs)
                    per_hs[h][s][k] = e
                    errs += e
                per_hs[h]["200"][k] = nh - errs
        return tot, per_h, per_hs

    def _resources(self) -> None:
        sp, n, npods = self.spec, self.n, self.spec.pods
        self.cpu = self.sample(sp.cpu_usage_cores, "cpu")
        mem_curve = (sp.memory_working_set_bytes if sp.memory_working_set_bytes is not None
                     else 0.4 * sp.memory_limit_bytes)
        self.mem = self.sample(mem_curve, "memory", sigma=sp.noise / 6)
        self.pool_demand = self.sample(sp.pool_used, "pool_used")
        # pool use per pod, clamped to the pool size
        self.pool_used = [[min(sp.pool_size, int(round(self.pool_demand[k] * self.podf[i])))
                           if self.present[i][k] else 0 for k in range(n)] for i in range(npods)]
        self.pool_total = [sum(self.pool_used[i][k] for i in range(npods)) for k in range(n)]

    def _step_at(self, t: float) -> int | None:
        """First step at or after ``t``."""
        for k, tk in enumerate(self.ts):
            if tk >= t:
                return k
        return None

    def app_labels(self, i: int) -> list[tuple[str, str]]:
        sp = self.spec
        return [("instance", f"{self.pods[i]}:8000"), ("job", sp.name),
                ("namespace", sp.namespace), ("pod", self.pods[i]), ("service", sp.name)]

    # ---- cumulative helpers -----------------------------------------------------------
    def counter(self, i: int, incs: Sequence[float], integer: bool) -> list:
        """Cumulative values of one pod's counter (None while the pod is absent)."""
        pres, resets = self.present[i], self.resets[i]
        first = next((x for x, p in zip(incs, pres) if p), 0.0)
        acc = first * self.uptime[i]
        if integer:
            acc = float(int(acc))
        out: list = []
        fmt = _fmt_int if integer else _fmt_float
        for k in range(self.n):
            if not pres[k]:
                out.append(None)
                continue
            if k in resets:
                acc = 0.0
            acc += incs[k]
            out.append(fmt(acc))
        return out

    def histogram(self, family: str, i: int, labels: list[tuple[str, str]], counts: Sequence[int],
                  cdfs: Sequence[Sequence[float]], means: Sequence[float]) -> None:
        """Emit one pod's histogram (buckets, _count, _sum) from per-step counts and CDFs."""
        pres, resets = self.present[i], self.resets[i]
        nb = len(DEFAULT_BUCKETS) + 1
        k0 = next((k for k in range(self.n) if pres[k]), None)
        base = float(self.uptime[i])
        if k0 is not None:
            c0 = counts[k0]
            accb = [int(c0 * base) * f for f in cdfs[k0]]
            accc = float(int(c0 * base))
            accs = accc * means[k0]
        else:
            accb, accc, accs = [0.0] * nb, 0.0, 0.0
        cols: list[list] = [[] for _ in range(nb)]
        colc: list = []
        cols_sum: list = []
        for k in range(self.n):
            if not pres[k]:
                for col in cols:
                    col.append(None)
                colc.append(None)
                cols_sum.append(None)
                continue
            if k in resets:
                accb = [0.0] * nb
                accc = accs = 0.0
            c = counts[k]
            if c:
                row = cdfs[k]
                for j in range(nb):
                    accb[j] += c * row[j]
                accc += c
                accs += c * means[k]
            ic = int(accc)
            for j in range(nb - 1):
                cols[j].append(str(min(ic, int(accb[j] + 1e-7))))
            cols[nb - 1].append(str(ic))
            colc.append(str(ic))
            cols_sum.append(_fmt_float(accs))
        name = family
        les = [_le(b) for b in DEFAULT_BUCKETS] + ["+Inf"]
        group = [_Series(f"{name}_bucket", _labels(labels + [("le", le)]), col)
                 for le, col in zip(les, cols)]
        group.append(_Series(f"{name}_count", _labels(labels), colc))
        group.append(_Series(f"{name}_sum", _labels(labels), cols_sum))
        self.ds.add(family, group)

    def cdf_rows(self, p50: Sequence[float], p95: Sequence[float]) -> list[list[float]]:
        return [bucket_cdf(a, b) for a, b in zip(p50, p95)]

    # ---- families ---------------------------------------------------------------------
    def emit_http(self) -> None:
        sp = self.spec
        cdfs = self.cdf_rows(self.lat50, self.lat95)
        statuses = ["200", *sp.error_statuses]
        for i in range(sp.pods):
            base = self.app_labels(i)
            for h, (handler, method, _) in enumerate(self.handlers):
                for s in statuses:
                    self.add("http_requests", "http_requests_total",
                             [("handler", handler), *base, ("method", method), ("status", s)],
                             self.counter(i, self.req_hs[i][h][s], integer=True))
                self.histogram("http_request_duration_seconds", i,
                               [("handler", handler), *base], self.req_h[i][h], cdfs, self.lat_mean)

    def emit_inflight(self) -> None:
        sp = self.spec
        over = self.sample(sp.inflight, "inflight") if sp.inflight is not None else None
        for i in range(sp.pods):
            vals: list = []
            for k in range(self.n):
                if not self.present[i][k]:
                    vals.append(None)
                elif over is not None:
                    vals.append(str(int(round(over[k] * self.podf[i]))))
                else:
                    rps_pod = self.req[i][k] / self.step
                    vals.append(str(int(round(rps_pod * self.lat_mean[k]))))
            self.add("http_requests_inprogress", "http_requests_inprogress", self.app_labels(i), vals)

    def emit_db(self) -> None:
        sp = self.spec
        ops = dict(_DEFAULT_DB_OPS)
        ops.update(sp.db_ops)
        for op in DB_OPERATIONS:
            per_req = ops.get(op, 0.0)
            p50 = self.sample(sp.db_latency_p50.get(op, _DEFAULT_DB_P50[op]), f"db50:{op}")
            p95 = self.sample(sp.db_latency_p95.get(op, _DEFAULT_DB_P95[op]), f"db95:{op}")
            cdfs = self.cdf_rows(p50, p95)
            means = [lognormal_mean(a, b) for a, b in zip(p50, p95)]
            for i in range(sp.pods):
                carry = _Carry(self.rng.random())
                counts = [carry.take(r * per_req) for r in self.req[i]]
                self.histogram("db_query_duration_seconds", i,
                               [*self.app_labels(i), ("operation", op)], counts, cdfs, means)

    def emit_pool(self) -> None:
        sp = self.spec
        p50 = self.sample(sp.pool_wait_p50, "pool_wait_p50")
        p95 = self.sample(sp.pool_wait_p95, "pool_wait_p95")
        cdfs = self.cdf_rows(p50, p95)
        means = [lognormal_mean(a, b) for a, b in zip(p50, p95)]
        size = str(sp.pool_size)
        for i in range(sp.pods):
            lab = self.app_labels(i)
            pres = self.present[i]
            used = self.pool_used[i]
            self.add("db_connection_pool_size", "db_connection_pool_size", lab,
                     [size if p else None for p in pres])
            self.add("db_connection_pool_used", "db_connection_pool_used", lab,
                     [str(u) if p else None for u, p in zip(used, pres)])
            self.add("db_connection_pool_available", "db_connection_pool_available", lab,
                     [str(sp.pool_size - u) if p else None for u, p in zip(used, pres)])
            self.histogram("db_connection_wait_duration_seconds", i, lab, self.req[i], cdfs, means)

    def _cpu_pod(self, i: int) -> list[float]:
        lim = self.spec.cpu_limit_cores
        return [min(lim, c * self.podf[i]) for c in self.cpu]

    def emit_process(self) -> None:
        sp = self.spec
        for i in range(sp.pods):
            lab = self.app_labels(i)
            cpu = self._cpu_pod(i)
            self.add("process_cpu_seconds", "process_cpu_seconds_total", lab,
                     self.counter(i, [c * 0.97 * self.step for c in cpu], integer=False))
            self.add("process_resident_memory_bytes", "process_resident_memory_bytes", lab,
                     [str(int(min(m * self.podf[i], sp.memory_limit_bytes) * 0.92)) if p else None
                      for m, p in zip(self.mem, self.present[i])])

    def emit_client(self) -> None:
        sp = self.spec
        for d in sp.dependencies:
            q = f"dep:{d.server_address}"
            p50 = self.sample(d.latency_p50, q + ":p50")
            p95 = self.sample(d.latency_p95, q + ":p95")
            err = [min(1.0, x) for x in self.sample(d.error_ratio, q + ":err", sigma=sp.noise * 3)]
            cdfs = self.cdf_rows(p50, p95)
            means = [lognormal_mean(a, b) for a, b in zip(p50, p95)]
            for i in range(sp.pods):
                c_calls, c_err = _Carry(self.rng.random()), _Carry(self.rng.random())
                ok: list[int] = []
                bad: list[int] = []
                for k in range(self.n):
                    calls = c_calls.take(self.req[i][k] * d.calls_per_request)
                    e = min(calls, c_err.take(calls * err[k]))
                    ok.append(calls - e)
                    bad.append(e)
                base = self.app_labels(i)
                for status, counts in ((d.ok_status, ok), (d.error_status, bad)):
                    labels = [("http_response_status_code", status), *base,
                              ("server_address", d.server_address)]
                    self.histogram("http_client_request_duration_seconds", i, labels, counts,
                                   cdfs, means)

    def emit_cadvisor(self) -> None:
        sp = self.spec
        lim = sp.cpu_limit_cores
        periods_per_step = self.step / 0.1
        thr = (self.sample(sp.cpu_throttle_ratio, "throttle")
               if sp.cpu_throttle_ratio is not None else None)
        for i in range(sp.pods):
            node = f"node-{(zlib.crc32(self.pods[i].encode()) % 5) + 1}"
            lab = [("container", sp.name), ("instance", node), ("job", "kubelet"),
                   ("namespace", sp.namespace), ("pod", self.pods[i])]
            pres = self.present[i]
            cpu = self._cpu_pod(i)
            self.add("container_cpu_usage_seconds", "container_cpu_usage_seconds_total", lab,
                     self.counter(i, [c * self.step for c in cpu], integer=False))
            self.add("container_spec_cpu_quota", "container_spec_cpu_quota", lab,
                     [str(int(lim * 100000)) if p else None for p in pres])
            self.add("container_spec_cpu_period", "container_spec_cpu_period", lab,
                     ["100000" if p else None for p in pres])
            fracs = []
            for k in range(self.n):
                if thr is not None:
                    fr = thr[k]
                else:
                    r = cpu[k] / lim if lim > 0 else 0.0
                    fr = 0.0 if r < 0.6 else 0.8 * min(1.0, ((r - 0.6) / 0.4)) ** 2
                fracs.append(min(1.0, max(0.0, fr)))
            carry = _Carry(self.rng.random())
            throttled = [float(carry.take(periods_per_step * f)) for f in fracs]
            self.add("container_cpu_cfs_throttled_periods", "container_cpu_cfs_throttled_periods_total",
                     lab, self.counter(i, throttled, integer=True))
            self.add("container_cpu_cfs_periods", "container_cpu_cfs_periods_total", lab,
                     self.counter(i, [periods_per_step] * self.n, integer=True))
            self.add("container_memory_working_set_bytes", "container_memory_working_set_bytes", lab,
                     [str(int(min(m * self.podf[i], sp.memory_limit_bytes))) if p else None
                      for m, p in zip(self.mem, pres)])
            self.add("container_spec_memory_limit_bytes", "container_spec_memory_limit_bytes", lab,
                     [str(int(sp.memory_limit_bytes)) if p else None for p in pres])

    def _ksm(self) -> list[tuple[str, str]]:
        return [("instance", "kube-state-metrics.kube-system:8080"), ("job", "kube-state-metrics"),
                ("namespace", self.spec.namespace)]

    def emit_ksm(self) -> None:
        sp = self.spec
        ksm = self._ksm()
        for i in range(sp.pods):
            pres = self.present[i]
            mine = sorted((r for r in sp.restarts if r.pod == i), key=lambda r: r.at)
            counts: list = []
            for k, t in enumerate(self.ts):
                counts.append(str(sum(1 for r in mine if r.at <= t)) if pres[k] else None)
            lab = [("container", sp.name), *ksm, ("pod", self.pods[i]),
                   ("uid", f"{zlib.crc32(self.pods[i].encode()):08x}-0000-4000-8000-000000000000")]
            self.add("kube_pod_container_status_restarts", "kube_pod_container_status_restarts_total",
                     lab, counts)
            reasons = sorted({r.reason for r in mine})
            for reason in reasons:
                vals: list = []
                for k, t in enumerate(self.ts):
                    last = None
                    for r in mine:
                        if r.at <= t:
                            last = r.reason
                    vals.append("1" if pres[k] and last == reason else None)
                if any(v is not None for v in vals):
                    self.add("kube_pod_container_status_last_terminated_reason",
                             "kube_pod_container_status_last_terminated_reason",
                             [*lab, ("reason", reason)], vals)
        dep = [("deployment", sp.name), *ksm]
        self.add("kube_deployment_status_replicas_available", "kube_deployment_status_replicas_available",
                 dep, [str(a) for a in self.active])
        self.add("kube_deployment_spec_replicas", "kube_deployment_spec_replicas", dep,
                 [str(a) for a in self.spec_active])
        gen, obs = [], []
        for t in self.ts:
            g = sp.generation_base + sum(1 for d in sp.deploys if d <= t)
            if sp.rollout_seconds is None:     # the controller never catches up
                o = sp.generation_base
            else:
                o = sp.generation_base + sum(1 for d in sp.deploys if d + sp.rollout_seconds <= t)
            gen.append(str(g))
            obs.append(str(o))
        self.add("kube_deployment_metadata_generation", "kube_deployment_metadata_generation", dep, gen)
        self.add("kube_deployment_status_observed_generation",
                 "kube_deployment_status_observed_generation", dep, obs)

    def emit_hpa(self) -> None:
        sp = self.spec
        lab = [("horizontalpodautoscaler", sp.name), *self._ksm()]
        lo = sp.hpa_min if sp.hpa_min is not None else sp.pods
        hi = sp.hpa_max if sp.hpa_max is not None else 2 * sp.pods
        self.add("kube_horizontalpodautoscaler_status_current_replicas",
                 "kube_horizontalpodautoscaler_status_current_replicas", lab, [str(a) for a in self.active])
        self.add("kube_horizontalpodautoscaler_spec_max_replicas",
                 "kube_horizontalpodautoscaler_spec_max_replicas", lab, [str(hi)] * self.n)
        self.add("kube_horizontalpodautoscaler_spec_min_replicas",
                 "kube_horizontalpodautoscaler_spec_min_replicas", lab, [str(lo)] * self.n)

    def _pg_labels(self) -> list[tuple[str, str]]:
        host = self.spec.server.split(":")[0]
        return [("datname", self.spec.db_name), ("instance", f"{host}-exporter:9187"),
                ("job", "postgres-exporter"), ("server", self.spec.server)]

    def _pg_active(self) -> list[float]:
        sp = self.spec
        if sp.pg_active is not None:
            return self.sample(sp.pg_active, "pg_active")
        return [0.7 * u + 1 for u in self.pool_total]

    def emit_postgres(self) -> None:
        sp = self.spec
        active = self._pg_active()
        if sp.pg_idle is not None:
            idle = self.sample(sp.pg_idle, "pg_idle")
        else:
            idle = [max(0, sp.pool_size * a - u) for a, u in zip(self.active, self.pool_total)]
        if sp.pg_idle_in_transaction is not None:
            iit = self.sample(sp.pg_idle_in_transaction, "pg_iit")
        else:
            iit = [0.1 * u for u in self.pool_total]
        lab = self._pg_labels()
        for state, vals in (("active", active), ("idle", idle), ("idle in transaction", iit)):
            self.add("pg_stat_activity_count", "pg_stat_activity_count", [*lab, ("state", state)],
                     [str(int(round(v))) for v in vals])
        for mode in PG_LOCK_MODES:
            curve = sp.locks.get(mode, _DEFAULT_LOCKS.get(mode, 0.0))
            vals = self.sample(curve, f"lock:{mode}")
            self.add("pg_locks_count", "pg_locks_count", [*lab, ("mode", mode)],
                     [str(int(round(v))) for v in vals])

    def emit_pgbouncer(self) -> None:
        sp = self.spec
        lab = [("database", sp.db_name), ("instance", f"pgbouncer.{sp.namespace}:9127"),
               ("job", "pgbouncer-exporter"), ("user", sp.name)]
        waiting = self.sample(sp.pgbouncer_client_waiting, "pgb_wait")
        c_act = (self.sample(sp.pgbouncer_client_active, "pgb_cact")
                 if sp.pgbouncer_client_active is not None else [float(u) for u in self.pool_total])
        s_act = (self.sample(sp.pgbouncer_server_active, "pgb_sact")
                 if sp.pgbouncer_server_active is not None else self._pg_active())
        for fam, vals in (("pgbouncer_pools_client_waiting_connections", waiting),
                          ("pgbouncer_pools_client_active_connections", c_act),
                          ("pgbouncer_pools_server_active_connections", s_act)):
            self.add(fam, fam, lab, [str(int(round(v))) for v in vals])

    def emit_alerts(self) -> None:
        sp = self.spec
        by_key: dict[tuple[str, str], list] = {}
        for a in sp.alerts:
            end = math.inf if a.end is None else a.end
            vals = by_key.setdefault((a.alertname, a.severity), [None] * self.n)
            for k, t in enumerate(self.ts):
                if a.start <= t < end:
                    vals[k] = "1"
        for (alertname, severity), vals in by_key.items():
            if any(v is not None for v in vals):
                self.add("ALERTS", "ALERTS", [("alertname", alertname), ("alertstate", "firing"),
                                              ("service", sp.name), ("severity", severity)], vals)
