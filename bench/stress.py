"""Issue 13, "Load": what a fleet pass holds under stress.

1. **fleet**: `triage rca --all-services` and `detect --all-services` over 10,000 services from a
   fake Prometheus on 127.0.0.1 (`FakeFleet`: every range query answers one series per service of
   the label its `by (...)` names, every point present; ALERTS empty) — answering at once, and
   again at 200 ms per answer.
2. **many**: 50 `triage` processes started at once against one real Prometheus holding the
   scenario library (the fault suite's data), behind a counting proxy (optionally adding 200 ms per
   answer): none may fail, none may run past its deadline, and the backend's request rate stays
   bounded (the most in flight is at most 50 x max_concurrency, and nothing is retried).

Figures printed; nothing asserted on wall time except "within its deadline" (the promise).

    nice -n 19 .venv/bin/python -m bench.stress                     # everything
    nice -n 19 .venv/bin/python -m bench.stress --only fleet --services 2000
    nice -n 19 .venv/bin/python -m bench.stress --only many --processes 20
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from bench._common import machine, run_timed, triage_argv
from testing.servers.base import LocalServer

AT = "2026-11-10T20:01:00Z"
TIMEOUT_S = 60.0
DEADLINE_FACTOR = 30  # triage.config.DEADLINE_TIMEOUTS


class FakeFleet(LocalServer):
    """A Prometheus HTTP API that knows `services` services and answers every range query with one
    series per service (values steady: every service healthy), after `latency` seconds."""

    protocol_version = "HTTP/1.1"

    def __init__(self, services: int, latency: float = 0.0) -> None:
        self.services = services
        self.latency = latency
        self.lock = threading.Lock()
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.largest = 0
        self.times: list[float] = []
        self._cache: dict = {}
        super().__init__()
        self.start()

    def dispatch(self, h: BaseHTTPRequestHandler, method: str) -> None:
        self.handle(h)

    def close(self) -> None:
        self.stop()

    def reset(self, latency: float) -> None:
        with self.lock:
            self.latency = latency
            self.requests = self.max_in_flight = self.largest = 0
            self.times = []

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        length = int(h.headers.get("Content-Length") or 0)
        if length:
            params.update({k: v[0] for k, v in parse_qs(h.rfile.read(length).decode()).items()})
        with self.lock:
            self.requests += 1
            self.times.append(time.monotonic())
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
            body = self.answer(parts.path, params)
            with self.lock:
                self.largest = max(self.largest, len(body))
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with self.lock:
                self.in_flight -= 1

    def answer(self, path: str, params: dict) -> bytes:
        query = params.get("query", "")
        if path.endswith("/alerts"):
            return b'{"status":"success","data":{"alerts":[]}}'
        if "ALERTS" in query or not path.endswith(("/query_range", "/query")):
            return b'{"status":"success","data":{"resultType":"matrix","result":[]}}'
        by = re.search(r"\bby\s*\(([^)]*)\)", query)
        labels = [x.strip() for x in (by.group(1).split(",") if by else ["service"]) if x.strip() and x.strip() != "le"]
        tags = re.findall(r'"triage_q",\s*"(\d+)"', query) or [None]
        instant = path.endswith("/query")
        key: tuple
        if instant:
            key = ("i", tuple(labels), tuple(tags))
        else:
            start, end, step = float(params["start"]), float(params["end"]), float(params["step"])
            key = ("r", tuple(labels), tuple(tags), start, end, step)
        with self.lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        if instant:
            points = f'"value":[{float(params.get("time", 0)):.3f},"1"]'
        else:
            n = int((end - start) // step) + 1
            points = '"values":[' + ",".join(f'[{start + i * step:g},"0.25"]' for i in range(n)) + "]"
        rows = []
        for tag in tags:
            for i in range(self.services):
                metric = {lab: ("shop" if lab == "namespace" else f"svc-{i:05d}") for lab in labels}
                if tag is not None:
                    metric["triage_q"] = tag
                rows.append('{"metric":' + json.dumps(metric, separators=(",", ":")) + "," + points + "}")
        body = ('{"status":"success","data":{"resultType":"' + ("vector" if instant else "matrix")
                + '","result":[' + ",".join(rows) + "]}}").encode()
        with self.lock:
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[key] = body
        return body


def peak_rate(times: list[float]) -> int:
    """The most requests that started within any one second."""
    times = sorted(times)
    best = lo = 0
    for hi, t in enumerate(times):
        while t - times[lo] > 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def fleet(services: int, latencies: list[float], work: Path) -> None:
    fake = FakeFleet(services)
    config = work / "fleet.yaml"
    config.write_text(f"prometheus:\n  url: {fake.url}\n  timeout: {TIMEOUT_S:g}s\n")
    deadline = DEADLINE_FACTOR * TIMEOUT_S
    print(f"\n## fleet: {services} services from a fake Prometheus (timeout {TIMEOUT_S:g}s, "
          f"deadline {deadline:g}s)\n")
    print("| command | latency per answer | exit | wall | peak RSS | requests | most in flight | largest answer |")
    print("|---|---|---|---|---|---|---|---|")
    try:
        for latency in latencies:
            for command in (["rca", "--all-services"], ["detect", "--all-services"]):
                fake.reset(latency)
                wall, code, rss, out = run_timed([*command, "--at", AT, "-o", "json", "--config", str(config)],
                                                 cwd=work)
                reported = 0
                try:
                    doc = json.loads(out)
                    reported = len(doc.get("services") or {})
                except ValueError:
                    pass
                flag = "" if code in (0, 1, 2) and wall < deadline else " **FAILED**"
                print(f"| {' '.join(command)} | {latency * 1000:.0f} ms | {code}{flag} | {wall:.1f} s | "
                      f"{rss / 1024:.0f} MiB | {fake.requests} | {fake.max_in_flight} | "
                      f"{fake.largest / 1e6:.1f} MB | ({reported} services reported)")
                sys.stdout.flush()
    finally:
        fake.close()


def many(processes: int, latencies: list[float], work: Path, timeout: float = 10.0) -> None:
    from testing.backends import prometheus_from_openmetrics
    from testing.scenarios.library import bottleneck_fleet, default_fleet, export_dataset
    from testing.servers.counting_proxy import CountingProxy

    class SlowProxy(CountingProxy):
        latency = 0.0
        quiet_errors = True     # a triage process that hangs up early is not news; keep the figures readable

        def _handle(self, h):  # type: ignore[override]
            if self.latency:
                time.sleep(self.latency)
            super()._handle(h)

    openmetrics, _ = export_dataset(default_fleet() + bottleneck_fleet())
    deadline = DEADLINE_FACTOR * timeout
    mix = [["rca", "--service", "checkout"], ["detect", "--service", "checkout"], ["rca", "--all-services"],
           ["detect", "--all-services"], ["queries", "check", "--service", "checkout"]]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    with prometheus_from_openmetrics(openmetrics, work / "prometheus") as backend, SlowProxy(backend.url) as proxy:
        config = work / "many.yaml"
        config.write_text(f"prometheus:\n  url: {proxy.url}\n  timeout: {timeout:g}s\n")
        print(f"\n## many: {processes} triage processes at once against one real Prometheus "
              f"(timeout {timeout:g}s, so each command's deadline is {deadline:g}s; commands: "
              f"{', '.join(' '.join(m) for m in mix)} in turn)\n")
        # What each command answers alone, unloaded: under load it must answer the same.
        alone: dict[str, int] = {}
        for m in mix:
            ran = subprocess.run([*triage_argv(), *m, "--at", AT, "-o", "json", "--config", str(config)], cwd=work,
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            alone[" ".join(m)] = ran.returncode
        print(f"alone: {', '.join(f'{k} exit {v}' for k, v in alone.items())}\n")
        print("| latency per answer | failed (exit or stderr not as alone) | past deadline | wall of the slowest "
              "| median | requests | peak requests/s | most in flight |")
        print("|---|---|---|---|---|---|---|---|")
        for latency in latencies:
            proxy.reset()
            proxy.latency = latency
            procs = []
            began = time.monotonic()
            for i in range(processes):
                m = mix[i % len(mix)]
                args = [*triage_argv(), *m, "--at", AT, "-o", "json", "--config", str(config)]
                procs.append((" ".join(m), time.monotonic(),
                              subprocess.Popen(args, cwd=work, env=env, stdout=subprocess.DEVNULL,
                                               stderr=subprocess.PIPE)))
            walls, failed, late, errors = [], 0, 0, []
            for name, started, proc in procs:
                try:
                    _, err = proc.communicate(timeout=deadline + 60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    _, err = proc.communicate()
                wall = time.monotonic() - started
                walls.append(wall)
                text = err.decode(errors="replace").strip()
                if proc.returncode != alone[name] or "error" in text:
                    failed += 1
                    errors.append(f"{name}: exit {proc.returncode}: {text[-200:]}")
                if wall > deadline:
                    late += 1
            walls.sort()
            print(f"| {latency * 1000:.0f} ms | {failed} | {late} | {walls[-1]:.1f} s | {walls[len(walls) // 2]:.1f} s "
                  f"| {proxy.requests} | {peak_rate(proxy.times)} | {proxy.max_in_flight} |")
            for e in errors[:5]:
                print(f"    failure: {e}")
            print(f"    (all {processes} done {time.monotonic() - began:.1f} s after the first start)")
            sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["fleet", "many"])
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="prometheus.timeout of the 50 processes (default 10, triage's default)")
    parser.add_argument("--latency", type=float, action="append",
                        help="seconds per answer (repeatable; default 0 and 0.2)")
    args = parser.parse_args()
    latencies = args.latency or [0.0, 0.2]
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="triage-stress-") as tmp:
        work = Path(tmp)
        if args.only in (None, "fleet"):
            fleet(args.services, latencies, work)
        if args.only in (None, "many"):
            many(args.processes, latencies, work, args.timeout)


if __name__ == "__main__":
    main()
