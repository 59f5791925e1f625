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
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from bench._common import machine, run_timed, summary
from bench.load_fleet import (
    AT,
    AT_S,
    DEGRADED_EVERY,
    NAMESPACES,
    PODS,
    RATE_INTERVAL,
    SCRAPE,
    TS,
    K,
    degraded,
    import_victoria,
    service_name,
    service_series,
    write_openmetrics,
)
from testing.backends import (
    PROMETHEUS_BIN,
    PROMTOOL_BIN,
    Backend,
    BackendError,
    start,
    victoria_metrics_from_import,
)
from testing.servers.counting_proxy import CountingProxy
from triage.config import DEFAULT_MAX_CONCURRENCY

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
