"""Issue 17, fleets: `triage rca|detect --all-services` at 50, 500, 2,000 (and 10,000) services on a
real Prometheus and a real VictoriaMetrics, each figure printed as a ratio to its floor measured
side by side in the same run.

The floor is the exact requests triage sent in its last run (recorded by a proxy on 127.0.0.1),
replayed all at once with a raw HTTP client (one connection each, gzip like triage), plus
`json.loads` of every answer: what any client needs to have the same answers in memory.
Triage runs as a user runs it (a fresh process; GNU time for its peak RSS) through the proxy;
the floor is replayed straight at the backend.

The fleet is bench/detect.py's: one pod per service, http + in-flight + cAdvisor families,
every tenth service's p95 0.12 -> 2 s two minutes into the window.

    nice -n 19 .venv/bin/python -m bench.fleet                          # both backends, 50/500/2000
    nice -n 19 .venv/bin/python -m bench.fleet --services 50,500,2000,10000 --backends vm
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from bench._common import machine, run_timed
from bench.detect import AT, fleet
from testing.backends import prometheus_from_openmetrics, victoria_metrics_from_import
from testing.scenarios.generator import generate
from testing.scenarios.library import WINDOW_END_S, at
from testing.servers.counting_proxy import CountingProxy


class RecordingProxy(CountingProxy):
    """The counting proxy, also keeping every request's path (with its query string)."""

    def __init__(self, upstream: str) -> None:
        self.paths: list[str] = []
        super().__init__(upstream)

    def reset(self, fail=None) -> None:  # type: ignore[no-untyped-def]
        super().reset(fail)
        self.paths = []

    def dispatch(self, h: BaseHTTPRequestHandler, method: str) -> None:
        with self._lock:
            self.paths.append(h.path)
        super().dispatch(h, method)


def replay(upstream: str, paths: list[str]) -> tuple[float, int]:
    """Every request at once, each on its own connection, then each answer decoded: wall seconds
    and the decoded bytes."""
    host = upstream.split("://", 1)[1].rstrip("/")
    bodies: list[bytes] = [b""] * len(paths)

    def one(i: int) -> None:
        conn = http.client.HTTPConnection(host, timeout=900)
        conn.request("GET", paths[i], headers={"Accept-Encoding": "gzip", "User-Agent": "floor"})
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise SystemExit(f"the floor's request {paths[i][:80]}… answered HTTP {resp.status}: {data[:200]!r}")
        if resp.getheader("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        bodies[i] = data
        conn.close()

    start = time.perf_counter()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(paths))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    size = 0
    for body in bodies:
        json.loads(body)
        size += len(body)
    return time.perf_counter() - start, size


def backend_for(kind: str, n: int, work: Path):  # type: ignore[no-untyped-def]
    ds = generate(fleet(n), at(18, 45), WINDOW_END_S, 60)
    series = ds.series_count
    if kind == "prometheus":
        text = ds.openmetrics()
        del ds
        return prometheus_from_openmetrics(text, work / f"prom-{n}", ready_timeout=600), series
    text = ds.prometheus_text()
    del ds
    return victoria_metrics_from_import(text, work / f"vm-{n}", ready_timeout=600,
                                        extra_args=("-search.maxUniqueTimeseries=5000000",
                                                    # the floor's requests all at once queue past the 10 s default
                                                    "-search.maxQueueDuration=600s")), series


def verdicts(command: str, out: str, n: int) -> str:
    """Statuses of the degraded tenth and of the others, so a faster pass is seen to answer the same."""
    want = {f"svc-{i:04d}" for i in range(n) if i % 10 == 0}
    try:
        doc = json.loads(out)
    except ValueError:
        return f"no JSON ({out[:60]!r})"
    services = doc.get("services") or {}
    pairs = [(k, s.get("status")) for k, s in services.items()] if command == "rca" else \
        [(s["service"], s.get("status")) for s in services]
    bad = Counter(st for k, st in pairs if k in want)
    rest = Counter(st for k, st in pairs if k not in want)
    return f"{len(pairs)} reported; degraded {dict(sorted(bad.items()))}, others {dict(sorted(rest.items()))}"


def bench(kind: str, n: int, runs: int, work: Path, commands: list[str]) -> None:
    began = time.perf_counter()
    backend, series = backend_for(kind, n, work)
    load = time.perf_counter() - began
    try:
        with RecordingProxy(backend.url) as proxy:
            print(f"{kind} {n} services ({series:,} series, loaded in {load:.0f} s)", flush=True)
            for command in commands:
                args = [command, "--prometheus-url", proxy.url, "--all-services", "--at", AT, "-o", "json"]
                run_timed(args, cwd=work)           # warm the backend's caches, as the floor will find them
                mine, floors, rss, codes = [], [], [], set()
                out = ""
                for _ in range(runs):
                    proxy.reset()
                    elapsed, code, peak, out = run_timed(args, cwd=work)
                    paths = list(proxy.paths)
                    mine.append(elapsed)
                    rss.append(peak)
                    codes.add(code)
                    floor, size = replay(backend.url, paths)
                    floors.append(floor)
                t, f = statistics.median(mine), statistics.median(floors)
                print(f"  {kind} {command} --all-services n={n}: triage {t:.2f} s, floor {f:.2f} s "
                      f"({len(paths)} requests, {size / 2**20:.1f} MiB decoded), ratio {t / f:.2f}x; "
                      f"peak RSS {max(rss) / 1024:.0f} MiB; exit {sorted(codes)}; {verdicts(command, out, n)}",
                      flush=True)
    finally:
        backend.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", default="50,500,2000")
    parser.add_argument("--backends", default="prometheus,vm")
    parser.add_argument("--commands", default="rca,detect")
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()
    print(f"machine: {machine()}; load: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "triage.yaml").write_text("prometheus:\n  url: http://127.0.0.1:9\n  timeout: 300\n")
        for kind in opts.backends.split(","):
            for n in (int(x) for x in opts.services.split(",")):
                bench(kind, n, opts.runs, work, opts.commands.split(","))


if __name__ == "__main__":
    main()
