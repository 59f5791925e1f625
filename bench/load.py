"""Issue 8, "Load": `triage rca --all-services` and `triage detect --all-services` over 2,000
services and ~1,000,000 series in a real Prometheus and a real VictoriaMetrics.

Each service has 3 pods and ~536 series of the families the catalog reads: http_requests_total
(3 handlers x 200/500), http_request_duration_seconds (15 `le`), http_requests_inprogress,
db_query_duration_seconds (select/insert/update/connect x 15 `le`), the pool gauges and its wait
histogram, process_*, cAdvisor container_*, kube-state-metrics (restarts, deployment, HPA),
postgres_exporter (pg_stat_activity_count, pg_locks_count; pg_settings_max_connections per
namespace server) and an outbound http_client_request_duration_seconds histogram. Every tenth
service has seed 000's story from 14 minutes before --at: traffic x2.5, the pool 20/20 on every
pod, p95 0.12 -> 4 s, requests waiting 2.5 s (p95) for a connection while queries stay fast: `rca` must answer
db_pool_exhaustion for exactly those 200 and `none` for the 1,800 others.

Samples are 60 s apart (not 15 s) so that 1M series load in minutes, and triage reads them with
`rate_interval: 4m` (its config key): each rate() still sees 4 samples, as 15 s / 1m would, but
the backend decodes 4x fewer samples over the range than a real 15 s scrape would give it.

Prometheus: one OpenMetrics file backfilled with `promtool tsdb create-blocks-from openmetrics`.
VictoriaMetrics: JSON lines streamed to /api/v1/import. Triage runs as a user runs it (a fresh
process, GNU time for its peak RSS) against a small counting HTTP proxy on 127.0.0.1 in front
of the backend, which sees every request triage sends: the count per run and the most in flight
at once. The same proxy then answers 503 + Retry-After to show there is no retry storm.

    nice -n 19 .venv/bin/python -m bench.load                  # both backends, full size
    nice -n 19 .venv/bin/python -m bench.load --services 50 --backends vm   # a quick check
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import random
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from functools import cache
from http.server import BaseHTTPRequestHandler
from itertools import accumulate
from pathlib import Path

import requests

from bench._common import machine, run_timed, summary
from testing.backends import (
    PROMETHEUS_BIN,
    PROMTOOL_BIN,
    Backend,
    BackendError,
    start,
    victoria_metrics_from_import,
)
from testing.servers.base import LocalServer
from triage.config import DEFAULT_MAX_CONCURRENCY

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
        yield (f"{fam}_sum", labels, [round(v, 3) for v in counter([x * m for x, m in zip(inc, mean)], base * 0.05)],
               False)
        yield f"{fam}_count", labels, counter(inc, base), True

    for p, pod in enumerate(pods):
        app = (("namespace", ns), ("pod", pod), ("service", name))
        req = noisy([r * SCRAPE / PODS * podf[p] for r in rps])          # requests per scrape, this pod
        for handler, method, share in HANDLERS:
            lab = (("handler", handler), ("method", method), *app)
            yield ("http_requests_total", lab + (("status", "200"),),
                   counter([r * share * (1 - err) for r in req], 1e4), True)
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
        yield ("process_cpu_seconds_total", app,
               [round(v, 3) for v in counter([c * 0.97 * SCRAPE for c in pod_cpu], 5e3)], False)
        yield "process_resident_memory_bytes", app, noisy(flat(3.8e8 * podf[p]), 0.01), True
        cad = (("container", name), ("instance", f"node-{(i * PODS + p) % 50:02d}"), ("job", "kubelet"),
               ("namespace", ns), ("pod", pod))
        yield ("container_cpu_usage_seconds_total", cad,
               [round(v, 3) for v in counter([c * SCRAPE for c in pod_cpu], 5e3)], False)
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


# ------------------------------------------------------------------------------------------
# Backends
# ------------------------------------------------------------------------------------------

def series_at_backend(url: str) -> int:
    with requests.Session() as http:
        http.trust_env = False
        r = http.get(f"{url}/api/v1/query", params={"query": 'count({__name__=~".+"})', "time": str(AT_S)}, timeout=600)
        r.raise_for_status()
        result = r.json()["data"]["result"]
    return int(float(result[0]["value"][1])) if result else 0


def start_prometheus(n: int, work: Path) -> tuple[Backend, str, int]:
    wd = work / "prometheus"
    wd.mkdir()
    data = wd / "data.om"
    t0 = time.perf_counter()
    written = write_openmetrics(n, data)
    t1 = time.perf_counter()
    size = data.stat().st_size
    rss = wd / "promtool.rss"
    argv = ["/usr/bin/time", "-q", "-f", "%M", "-o", str(rss), PROMTOOL_BIN, "tsdb", "create-blocks-from",
            "openmetrics", "--quiet", str(data), str(wd / "tsdb")]
    with open(wd / "promtool.log", "wb") as log:
        rc = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL).returncode
    if rc != 0:
        raise BackendError(f"promtool exited {rc}: {(wd / 'promtool.log').read_text()[-2000:]}")
    data.unlink()
    t2 = time.perf_counter()
    tsdb = wd / "tsdb"

    def argv_for(port: int) -> list[str]:
        return [PROMETHEUS_BIN, "--config.file=/dev/null", f"--storage.tsdb.path={tsdb}",
                "--storage.tsdb.retention.time=100y", f"--web.listen-address=127.0.0.1:{port}"]

    backend = start("prometheus", argv_for, wd, "/-/ready", 600)
    try:
        real = series_at_backend(backend.url)
    except BaseException:
        backend.stop()
        raise
    t3 = time.perf_counter()
    blocks = sum(1 for _ in tsdb.glob("*/meta.json"))
    peak = rss.read_text().strip().splitlines()[-1] if rss.exists() else "?"
    du = sum(f.stat().st_size for f in tsdb.rglob("*") if f.is_file())
    return backend, (f"OpenMetrics {written:,} series x {K} samples ({size / 2**30:.1f} GiB) "
                     f"written in {t1 - t0:.0f} s; "
                     f"promtool backfill {t2 - t1:.0f} s (peak RSS {int(peak) / 2**20:.1f} GiB), {blocks} block, "
                     f"{du / 2**20:.0f} MiB on disk; Prometheus up and `count` answered in {t3 - t2:.0f} s; "
                     f"total {t3 - t0:.0f} s"), real


def start_victoria(n: int, work: Path, extra: tuple[str, ...]) -> tuple[Backend, str, int]:
    t0 = time.perf_counter()
    backend = victoria_metrics_from_import("", work, ready_timeout=120, extra_args=extra)
    try:
        written = import_victoria(n, backend.url)
        t1 = time.perf_counter()
        real = 0
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:        # rows become searchable shortly after the flush
            real = series_at_backend(backend.url)
            if real >= written:
                break
            time.sleep(2)
    except BaseException:
        backend.stop()
        raise
    t2 = time.perf_counter()
    return backend, (f"{written:,} series x {K} samples streamed to /api/v1/import in {t1 - t0:.0f} s (generation "
                     f"included); all searchable after {t2 - t0:.0f} s"), real


# ------------------------------------------------------------------------------------------
# The counting proxy (bench only)
# ------------------------------------------------------------------------------------------

class CountingProxy(LocalServer):
    """Forwards to `upstream`, counting requests and the most in flight at once.

    `fail(n)` decides per request (n counts from 1): True answers 503 + Retry-After instead.
    """

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization",
           "proxy-authenticate", "host", "content-length"}

    def __init__(self, upstream: str, retry_after: str = "1") -> None:
        self.upstream = upstream.split("://", 1)[1].rstrip("/")
        self.retry_after = retry_after
        self.fail: Callable[[int, str], bool] = lambda n, path: False
        self._lock = threading.Lock()
        self.requests = 0
        self.failed = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.times: list[float] = []
        self.slowest = 0.0
        self.largest = 0
        self._local = threading.local()
        super().__init__()

    def dispatch(self, h: BaseHTTPRequestHandler, method: str) -> None:
        self._handle(h)

    def reset(self, fail: Callable[[int, str], bool] | None = None) -> None:
        # Requests a run gave up on (its timeout) are still with the backend: let them finish,
        # or they would count as in flight in the next run and load the backend during it.
        deadline = time.monotonic() + 900
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.2)
        with self._lock:
            self.requests = self.failed = self.max_in_flight = self.largest = 0
            self.slowest = 0.0
            self.times = []
            self.fail = fail or (lambda n, path: False)

    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = http.client.HTTPConnection(self.upstream, timeout=600)
        return conn

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else None
        began = time.monotonic()
        with self._lock:
            self.requests += 1
            n = self.requests
            self.times.append(began)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            refuse = self.fail(n, h.path)
            if refuse:
                self.failed += 1
        try:
            if refuse:
                data = b'{"status":"error","errorType":"unavailable","error":"overloaded, try later"}'
                h.send_response(503)
                h.send_header("Content-Type", "application/json")
                h.send_header("Retry-After", self.retry_after)
                h.send_header("Content-Length", str(len(data)))
                h.end_headers()
                h.wfile.write(data)
                return
            headers = {k: v for k, v in h.headers.items() if k.lower() not in self.HOP}
            for attempt in range(2):
                conn = self._conn()
                try:
                    conn.request(h.command, h.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    break
                except (http.client.HTTPException, OSError):
                    conn.close()
                    self._local.conn = None
                    if attempt:
                        raise
            h.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in self.HOP:
                    h.send_header(k, v)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            with self._lock:
                self.slowest = max(self.slowest, time.monotonic() - began)
                self.largest = max(self.largest, len(data))
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with self._lock:
                self.in_flight -= 1


# ------------------------------------------------------------------------------------------
# Runs
# ------------------------------------------------------------------------------------------

def check(command: str, code: int, out: str, n: int) -> str:
    """Exit code and services reported against what the fleet holds."""
    want_bad = {service_name(i) for i in range(n) if degraded(i)}
    try:
        payload = json.loads(out)
    except ValueError:
        return f"exit {code}, no JSON ({out[:80]!r})"
    services = payload.get("services") or {}
    if command == "rca":
        verdicts = {name: s.get("bottleneck") for name, s in services.items()}
        found = {name for name, v in verdicts.items() if v == "db_pool_exhaustion"}
        others = {v for name, v in verdicts.items() if name not in want_bad}
        top = [r["service"] for r in payload.get("ranking", [])[:len(want_bad)]]
        ok = code == 2 and len(services) == n and found == want_bad and others <= {"none"} and set(top) == want_bad
        return (f"exit {code}, {len(services)} services reported, {len(found)}/{len(want_bad)} degraded found as "
                f"db_pool_exhaustion, others {sorted(others)}, degraded ranked first: {set(top) == want_bad} "
                f"[{'OK' if ok else 'WRONG'}]")
    statuses = {s.get("service"): s.get("status") for s in services}
    bad = {name for name, st in statuses.items() if st == "critical"}
    others = {st for name, st in statuses.items() if name not in want_bad}
    ok = code == 2 and len(services) == n and bad == want_bad and others <= {"ok"}
    return (f"exit {code}, {len(services)} services reported, {len(bad)}/{len(want_bad)} degraded critical, "
            f"others {sorted(others)} [{'OK' if ok else 'WRONG'}]")


def bench(command: str, proxy: CountingProxy, n: int, runs: int, work: Path, concurrency: int | None) -> None:
    args = [command, "--prometheus-url", proxy.url, "--all-services", "--at", AT, "-o", "json"]
    if concurrency is not None:
        args += ["--max-concurrency", str(concurrency)]
    results = []
    for _ in range(runs):
        proxy.reset()
        elapsed, code, rss, out = run_timed(args, cwd=work)
        results.append((elapsed, code, rss, proxy.requests, proxy.max_in_flight, proxy.slowest, proxy.largest))
        verdict = check(command, code, out, n)
        del out
    label = f"default ({DEFAULT_MAX_CONCURRENCY})" if concurrency is None else str(concurrency)
    print(f"  {command} --all-services, --max-concurrency {label}: {summary([r[0] for r in results])}, "
          f"peak RSS {max(r[2] for r in results) / 1024:.0f} MiB, "
          f"{'/'.join(str(r[3]) for r in results)} HTTP requests, "
          f"max in flight {max(r[4] for r in results)}, slowest request {max(r[5] for r in results):.1f} s, "
          f"largest response {max(r[6] for r in results) / 2**20:.1f} MiB (gzip); {verdict}", flush=True)


def storm(proxy: CountingProxy, n: int, work: Path) -> None:
    """Everything (or everything after discovery, or every third request) answered 503 + Retry-After: 1."""
    args = ["rca", "--prometheus-url", proxy.url, "--all-services", "--at", AT, "-o", "json"]
    cases = [
        ("every request 503", lambda k, path: True),
        ("503 from the 2nd request on (after discovery)", lambda k, path: k > 1),
        ("every 3rd request 503 (a flaky backend)", lambda k, path: k % 3 == 0),
    ]
    for label, fail in cases:
        proxy.reset(fail)
        elapsed, code, rss, out = run_timed(args, cwd=work)
        span = proxy.times[-1] - proxy.times[0] if proxy.times else 0.0
        try:
            payload = json.loads(out)
            what = f"{len(payload.get('services') or {})} services reported"
            if label.startswith("every 3rd"):
                what = check("rca", code, out, n)
        except ValueError:
            what = "no JSON (a one-line error)"
        print(f"  rca --all-services, {label}: exit {code}, {proxy.requests} requests sent "
              f"({proxy.failed} answered 503), max in flight {proxy.max_in_flight}, wall {elapsed:.1f} s "
              f"(requests spread over {span:.1f} s); {what}", flush=True)
    proxy.reset()


def run_backend(kind: str, backend: Backend, n: int, runs: int, work: Path, storms: bool, timed: bool = True) -> None:
    with CountingProxy(backend.url) as proxy:
        for command in ("rca", "detect") if timed else ():
            for concurrency in (None, 1):
                bench(command, proxy, n, runs, work, concurrency)
        # The same pass with prometheus.timeout left at its default (10 s).
        plain = work / "default-timeout"
        plain.mkdir(exist_ok=True)
        (plain / "triage.yaml").write_text("prometheus:\n  url: http://127.0.0.1:9\n"
                                           f"  rate_interval: {RATE_INTERVAL}\n")
        proxy.reset()
        elapsed, code, rss, out = run_timed(["rca", "--prometheus-url", proxy.url, "--all-services", "--at", AT,
                                             "-o", "json"], cwd=plain)
        print(f"  rca --all-services with the default timeout (10 s): {elapsed:.1f} s, {proxy.requests} requests, "
              f"slowest {proxy.slowest:.1f} s; {check('rca', code, out, n)}", flush=True)
        if storms:
            storm(proxy, n, work)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backends", default="prometheus,vm")
    parser.add_argument("--no-timed", action="store_true", help="only the default-timeout and 503 runs")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="prometheus.timeout for the timed runs (a fleet query over 1M series on 2 cores "
                             "takes longer than the default 10 s)")
    parser.add_argument("--vm-max-unique-timeseries", type=int, default=5_000_000,
                        help="VictoriaMetrics' -search.maxUniqueTimeseries (its default, 300000, refuses a fleet "
                             "query over 1M series); 0 keeps VictoriaMetrics' default")
    opts = parser.parse_args()
    n = opts.services
    print(f"machine: {machine()}")
    per = sum(1 for _ in service_series(NAMESPACES))     # one without the per-namespace pg_settings series
    print(f"fleet: {n} services x {PODS} pods, ~{per} series per service, samples every {SCRAPE} s over "
          f"{(TS[-1] - TS[0]) // 60} min; every {DEGRADED_EVERY}th service degraded; triage reads it with "
          f"rate_interval {RATE_INTERVAL} and timeout {opts.timeout:g} s, --at {AT}; through a counting proxy",
          flush=True)
    work = Path(tempfile.mkdtemp(prefix="triage-load-"))
    try:
        (work / "triage.yaml").write_text(  # the URL is --prometheus-url (the proxy)
            f"prometheus:\n  url: http://127.0.0.1:9\n  rate_interval: {RATE_INTERVAL}\n  timeout: {opts.timeout:g}\n")
        for kind in opts.backends.split(","):
            if kind == "prometheus":
                backend, how, real = start_prometheus(n, work)
                name = "Prometheus " + subprocess.run([PROMETHEUS_BIN, "--version"], capture_output=True,
                                                       text=True).stdout.split()[2]
            elif kind == "vm":
                extra = (f"-search.maxUniqueTimeseries={opts.vm_max_unique_timeseries}",) \
                    if opts.vm_max_unique_timeseries else ()
                backend, how, real = start_victoria(n, work, extra)
                name = "VictoriaMetrics 1.79" + (f" ({' '.join(extra)})" if extra else "")
            else:
                raise SystemExit(f"unknown backend {kind!r}")
            try:
                print(f"{name}: {real:,} series (count({{__name__=~\".+\"}}) at --at); load: {how}", flush=True)
                run_backend(kind, backend, n, opts.runs, work, storms=kind == opts.backends.split(",")[0],
                            timed=not opts.no_timed)
            finally:
                backend.stop()
                shutil.rmtree(backend.workdir, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
