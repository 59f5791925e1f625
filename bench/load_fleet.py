"""The load bench's fleet: N services of ~536 series each in the families the catalog reads,
every tenth with seed 000's pool-exhaustion story, written as OpenMetrics (Prometheus) or
streamed as JSON lines (VictoriaMetrics)."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from datetime import datetime, timezone
from functools import cache
from itertools import accumulate
from pathlib import Path

import requests

from testing.backends import (
    BackendError,
)

AT = "2026-11-10T19:55:00Z"          # window 19:40-19:55, baseline 18:40-19:40: one 2 h block (18:00-20:00)
AT_S = int(datetime(2026, 11, 10, 19, 55, tzinfo=timezone.utc).timestamp())
SCRAPE = 60
RATE_INTERVAL = "4m"
START_S = AT_S - (75 + 7) * 60       # baseline start, minus the rate interval, minus slack
TS = list(range(START_S, AT_S + 1, SCRAPE))
K = len(TS)
ONSET = AT_S - 14 * 60               # degraded services: ramp from here...
RAMPED = ONSET + 3 * 60              # ...to here

PODS = 3
HANDLERS = (("/api/items", "GET", 0.5), ("/api/orders", "POST", 0.3), ("/api/search", "GET", 0.2))
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
LES = tuple(f"{b:g}" for b in BUCKETS) + ("+Inf",)
DB_OPS = {"select": (2.0, 0.004, 0.012), "insert": (0.3, 0.005, 0.015), "update": (0.3, 0.005, 0.015),
          "connect": (0.01, 0.002, 0.005)}          # per request, p50, p95
LOCK_MODES = ("accesssharelock", "rowsharelock", "rowexclusivelock", "shareupdateexclusivelock", "sharelock",
              "sharerowexclusivelock", "exclusivelock", "accessexclusivelock")
NAMESPACES = 20
DEGRADED_EVERY = 10


def service_name(i: int) -> str:
    return f"svc-{i:04d}"


def degraded(i: int) -> bool:
    return i % DEGRADED_EVERY == 0


# ------------------------------------------------------------------------------------------
# The fleet: one service at a time, each series as (name, labels, values over TS)
# ------------------------------------------------------------------------------------------

_W = [min(1.0, max(0.0, (t - ONSET) / (RAMPED - ONSET))) for t in TS]


def _ramp(before: float, after: float) -> list[float]:
    return [before * (1 - w) + after * w for w in _W]


@cache
def _cdf1(p50: float, p95: float) -> tuple[tuple[float, ...], float]:
    """The share of observations <= each `le` (lognormal through p50 and p95), and the mean."""
    sigma = max(math.log(p95 / p50) / 1.6448536, 1e-3)
    shares = tuple(0.5 * (1 + math.erf((math.log(b) - math.log(p50)) / sigma / math.sqrt(2))) for b in BUCKETS)
    return shares + (1.0,), p50 * math.exp(sigma * sigma / 2)


def _cdf(p50: list[float], p95: list[float]) -> tuple[list[tuple[float, ...]], list[float]]:
    rows = [_cdf1(round(a, 6), round(b, 6)) for a, b in zip(p50, p95)]
    return [r[0] for r in rows], [r[1] for r in rows]


Series = tuple[str, tuple[tuple[str, str], ...], list, bool]   # name, labels, values, integer?


# Kept whole: one generator writing a service's families in the order the exporters list them; the
# file it feeds (and so the backends' answers) follows that order.
def service_series(i: int) -> Iterator[Series]:
    rng = random.Random(i)
    name = service_name(i)
    ns = f"team-{i % NAMESPACES:02d}"
    bad = degraded(i)
    pods = [f"{name}-7d9f8c6b5-{p}" for p in range(PODS)]
    podf = [1 + rng.uniform(-0.05, 0.05) for _ in range(PODS)]
    scale = 0.5 + 1.5 * ((i * 7919) % 1000) / 1000              # 25..100 req/s per service

    def noisy(values: list[float], sigma: float = 0.03) -> list[float]:
        return [v * (1 + rng.gauss(0, sigma)) for v in values]

    flat = lambda v: [v] * K  # noqa: E731
    rps = [50 * scale * x for x in (_ramp(1.0, 2.5) if bad else flat(1.0))]
    http_cdf, http_mean = _cdf(*((_ramp(0.04, 1.5), _ramp(0.12, 4.0)) if bad else (flat(0.04), flat(0.12))))
    wait_cdf, wait_mean = _cdf(*((_ramp(0.0003, 1.2), _ramp(0.002, 2.5)) if bad else (flat(0.0003), flat(0.002))))
    dep_cdf, dep_mean = _cdf(flat(0.05), flat(0.15))
    pool_used = _ramp(6.0, 20.0) if bad else flat(6.0)
    cpu = _ramp(0.30, 0.45) if bad else flat(0.30)
    err = 0.002

    def counter(increments: list[float], start: float) -> list[float]:
        return list(accumulate(increments, initial=start))[1:]

    def histogram(fam: str, labels: tuple, inc: list[float], cdf: list[tuple[float, ...]],
                  mean: list[float]) -> Iterator[Series]:
        base = rng.uniform(1e3, 1e5)
        for b, le in enumerate(LES):
            yield f"{fam}_bucket", labels + (("le", le),), counter([x * c[b] for x, c in zip(inc, cdf)], base), True
        sums = counter([x * m for x, m in zip(inc, mean)], base * 0.05)
        yield f"{fam}_sum", labels, [round(v, 3) for v in sums], False
        yield f"{fam}_count", labels, counter(inc, base), True

    for p, pod in enumerate(pods):
        app = (("namespace", ns), ("pod", pod), ("service", name))
        req = noisy([r * SCRAPE / PODS * podf[p] for r in rps])          # requests per scrape, this pod
        for handler, method, share in HANDLERS:
            lab = (("handler", handler), ("method", method), *app)
            ok = counter([r * share * (1 - err) for r in req], 1e4)
            yield "http_requests_total", lab + (("status", "200"),), ok, True
            yield "http_requests_total", lab + (("status", "500"),), counter([r * share * err for r in req], 10), True
            yield from histogram("http_request_duration_seconds", lab, [r * share for r in req], http_cdf, http_mean)
        yield "http_requests_inprogress", app, [r / SCRAPE * m for r, m in zip(req, http_mean)], True
        for op, (per_req, p50, p95) in DB_OPS.items():
            cdf, mean = _cdf(flat(p50), flat(p95))
            yield from histogram("db_query_duration_seconds", (*app, ("operation", op)), [r * per_req for r in req],
                                 cdf, mean)
        used = [min(20.0, round(u * podf[p])) for u in pool_used]
        yield "db_connection_pool_size", app, flat(20), True
        yield "db_connection_pool_used", app, used, True
        yield "db_connection_pool_available", app, [20 - u for u in used], True
        yield from histogram("db_connection_wait_duration_seconds", app, req, wait_cdf, wait_mean)
        client = (("http_response_status_code", "200"), *app, ("server_address", "payments.example.com"))
        yield from histogram("http_client_request_duration_seconds", client, [r * 0.2 for r in req], dep_cdf, dep_mean)
        pod_cpu = noisy([c * podf[p] for c in cpu], 0.02)
        process_cpu = counter([c * 0.97 * SCRAPE for c in pod_cpu], 5e3)
        yield "process_cpu_seconds_total", app, [round(v, 3) for v in process_cpu], False
        yield "process_resident_memory_bytes", app, noisy(flat(3.8e8 * podf[p]), 0.01), True
        cad = (("container", name), ("instance", f"node-{(i * PODS + p) % 50:02d}"), ("job", "kubelet"),
               ("namespace", ns), ("pod", pod))
        container_cpu = counter([c * SCRAPE for c in pod_cpu], 5e3)
        yield "container_cpu_usage_seconds_total", cad, [round(v, 3) for v in container_cpu], False
        yield "container_spec_cpu_quota", cad, flat(100000), True
        yield "container_spec_cpu_period", cad, flat(100000), True
        yield "container_cpu_cfs_throttled_periods_total", cad, flat(40), True
        yield "container_cpu_cfs_periods_total", cad, counter(flat(SCRAPE * 10), 1e6), True
        yield "container_memory_working_set_bytes", cad, noisy(flat(4e8 * podf[p]), 0.01), True
        yield "container_spec_memory_limit_bytes", cad, flat(1073741824), True
        ksm = (("container", name), ("job", "kube-state-metrics"), ("namespace", ns), ("pod", pod))
        yield "kube_pod_container_status_restarts_total", ksm, flat(0), True
    dep = (("deployment", name), ("job", "kube-state-metrics"), ("namespace", ns))
    yield "kube_deployment_status_replicas_available", dep, flat(PODS), True
    yield "kube_deployment_metadata_generation", dep, flat(7), True
    yield "kube_deployment_status_observed_generation", dep, flat(7), True
    hpa = (("horizontalpodautoscaler", name), ("job", "kube-state-metrics"), ("namespace", ns))
    yield "kube_horizontalpodautoscaler_status_current_replicas", hpa, flat(PODS), True
    yield "kube_horizontalpodautoscaler_spec_max_replicas", hpa, flat(10), True
    yield "kube_horizontalpodautoscaler_spec_min_replicas", hpa, flat(PODS), True
    server = f"postgres-{ns}:5432"
    pg = (("datname", name), ("instance", f"postgres-{ns}-exporter:9187"), ("job", "postgres-exporter"),
          ("server", server))
    for state, vals in (("active", [0.7 * u * PODS + 1 for u in pool_used]),
                        ("idle", [max(0.0, 20 * PODS - u * PODS) for u in pool_used]),
                        ("idle in transaction", [0.1 * u * PODS for u in pool_used])):
        yield "pg_stat_activity_count", pg + (("state", state),), vals, True
    for m, mode in enumerate(LOCK_MODES):
        yield "pg_locks_count", pg + (("mode", mode),), flat(m % 3), True
    if i < NAMESPACES:     # one Postgres server per namespace
        srv = (("instance", f"postgres-{ns}-exporter:9187"), ("job", "postgres-exporter"), ("server", server))
        yield "pg_settings_max_connections", srv, flat(2000), True


def fleet_series(n: int) -> Iterator[Series]:
    for i in range(n):
        yield from service_series(i)


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _values(values: list, integer: bool) -> list[str]:
    return [str(int(v)) for v in values] if integer else [repr(float(v)) for v in values]


def write_openmetrics(n: int, path: Path) -> int:
    """The fleet as OpenMetrics (seconds timestamps) for promtool; returns the series count."""
    ts = [f" {t}\n" for t in TS]
    count = 0
    with open(path, "w", buffering=8 << 20) as out:
        for name, labels, values, integer in fleet_series(n):
            prefix = name + "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels) + "} "
            out.write("".join([prefix + v + t for v, t in zip(_values(values, integer), ts)]))
            count += 1
        out.write("# EOF\n")
    return count


def import_victoria(n: int, url: str) -> int:
    """Stream the fleet to VictoriaMetrics' /api/v1/import (JSON lines, ms timestamps)."""
    stamps = json.dumps([t * 1000 for t in TS], separators=(",", ":"))
    count = 0

    def lines() -> Iterator[bytes]:
        nonlocal count
        buf: list[str] = []
        for name, labels, values, integer in fleet_series(n):
            metric = json.dumps({"__name__": name, **dict(labels)}, separators=(",", ":"))
            vals = "[" + ",".join(_values(values, integer)) + "]"
            buf.append(f'{{"metric":{metric},"values":{vals},"timestamps":{stamps}}}\n')
            count += 1
            if len(buf) >= 2000:
                yield "".join(buf).encode()
                buf.clear()
        if buf:
            yield "".join(buf).encode()

    with requests.Session() as http:
        http.trust_env = False
        r = http.post(f"{url}/api/v1/import", data=lines(), timeout=3600)
        if r.status_code not in (200, 204):
            raise BackendError(f"VictoriaMetrics import answered HTTP {r.status_code}: {r.text[:300]}")
        http.get(f"{url}/internal/force_flush", timeout=60)
    return count

