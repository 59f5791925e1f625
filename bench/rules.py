"""Issue 17, "Beyond one Prometheus": `rca --all-services` from raw series and from the recording
rules `triage rules` writes, side by side on the same fleet and backend.

The fleet is bench/load_fleet.py's (N services x ~536 series, every tenth degraded, samples every
60 s, read with rate_interval 4m). Raw pass first; then the rules' history is written by the
tools a user has (Prometheus: `promtool tsdb create-blocks-from rules` through the raw
Prometheus, then a Prometheus over raw + recorded blocks; VictoriaMetrics: `vmalert -replay`
writing back with -remoteWrite.url) and the same pass runs again. Triage runs as a user runs it
(a fresh process, GNU time for its peak RSS) through a counting proxy that also totals the bytes
answered and the time the backend spent answering (the sum over requests). The info-series
probe the recorded pass adds is timed alone too.

    nice -n 19 .venv/bin/python -m bench.rules --services 500 --backends prometheus,vm
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from bench._common import machine, run_timed, summary, triage_argv
from bench.load import check
from bench.load_fleet import AT, AT_S, RATE_INTERVAL, SCRAPE, TS, import_victoria, write_openmetrics
from testing.backends import PROMETHEUS_BIN, PROMTOOL_BIN, Backend, start, victoria_metrics_from_import
from testing.recording import VMALERT_BIN
from testing.servers.counting_proxy import CountingProxy
from triage.recording.present import PROBE_QUERY

START_S = TS[0]


class MeteredProxy(CountingProxy):
    """The counting proxy, also totalling the bytes it answers and the seconds requests took."""

    def reset(self, fail: Any = None) -> None:
        super().reset(fail)
        self.bytes = 0
        self.busy = 0.0

    def _handle(self, h: Any) -> None:
        inner, proxy = h.wfile, self

        class Counting:
            def write(self, data: bytes) -> int:
                with proxy._lock:
                    proxy.bytes += len(data)
                return inner.write(data)

            def __getattr__(self, name: str) -> Any:
                return getattr(inner, name)

        h.wfile = Counting()
        began = time.monotonic()
        try:
            super()._handle(h)
        finally:
            with self._lock:
                self.busy += time.monotonic() - began


def _triage(args: list[str], cwd: Path) -> None:
    subprocess.run(triage_argv() + args, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def passes(label: str, proxy: MeteredProxy, n: int, runs: int, work: Path) -> float:
    args = ["rca", "--prometheus-url", proxy.url, "--all-services", "--at", AT, "-o", "json"]
    rows = []
    verdict = ""
    for _ in range(runs):
        proxy.reset()
        elapsed, code, rss, out = run_timed(args, cwd=work)
        rows.append((elapsed, rss, proxy.requests, proxy.bytes, proxy.busy, proxy.slowest))
        verdict = check("rca", code, out, n)
    times = [r[0] for r in rows]
    print(f"  {label}: {summary(times)}, peak RSS {max(r[1] for r in rows) / 1024:.0f} MiB, "
          f"{'/'.join(str(r[2]) for r in rows)} requests, {rows[-1][3] / 2**20:.1f} MiB answered, "
          f"backend busy {rows[-1][4]:.2f} s (sum over requests), slowest request {max(r[5] for r in rows):.2f} s; "
          f"{verdict}", flush=True)
    return sorted(times)[len(times) // 2]


def probe(url: str, step: float = 30.0) -> str:
    start = AT_S - 75 * 60
    with requests.Session() as http:
        http.trust_env = False
        began = time.perf_counter()
        params: dict[str, str | float] = {"query": PROBE_QUERY, "start": start, "end": AT_S, "step": step}
        r = http.get(f"{url}/api/v1/query_range", params=params, timeout=60)
        took = time.perf_counter() - began
    series = len(r.json()["data"]["result"])
    return f"the info-series probe alone: {took * 1000:.0f} ms, {len(r.content) / 1024:.1f} KiB, {series} series"


def prometheus(n: int, runs: int, work: Path, rules: Path) -> None:
    wd = work / "prometheus"
    wd.mkdir()
    data, tsdb = wd / "data.om", wd / "tsdb"
    write_openmetrics(n, data)
    subprocess.run([PROMTOOL_BIN, "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(data), str(tsdb)],
                   check=True, stdout=subprocess.DEVNULL)
    data.unlink()

    def argv_for(port: int) -> list[str]:
        return [PROMETHEUS_BIN, "--config.file=/dev/null", f"--storage.tsdb.path={tsdb}",
                "--storage.tsdb.retention.time=100y", f"--web.listen-address=127.0.0.1:{port}"]

    backend: Backend = start("prometheus", argv_for, wd, "/-/ready", 600)
    try:
        with MeteredProxy(backend.url) as proxy:
            raw = passes("Prometheus, raw series", proxy, n, runs, work)
        began = time.perf_counter()
        out = wd / "recorded"
        subprocess.run([PROMTOOL_BIN, "tsdb", "create-blocks-from", "rules", "--quiet", f"--url={backend.url}",
                        f"--start={START_S}", f"--end={AT_S}", f"--output-dir={out}", str(rules)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(f"  promtool create-blocks-from rules over {(AT_S - START_S) // 60} min: "
              f"{time.perf_counter() - began:.0f} s", flush=True)
    finally:
        backend.stop()
    for block in out.iterdir():
        shutil.move(str(block), tsdb / block.name)
    with start("prometheus", argv_for, wd, "/-/ready", 600) as backend, MeteredProxy(backend.url) as proxy:
        time.sleep(20)  # let it merge the overlapping blocks (vertical compaction) before timing
        recorded = passes("Prometheus, recorded series", proxy, n, runs, work)
        print(f"  {probe(backend.url)}; recorded / raw wall time {recorded / raw:.2f}", flush=True)


def victoria(n: int, runs: int, work: Path, rules: Path, extra: tuple[str, ...]) -> None:
    with victoria_metrics_from_import("", work, ready_timeout=120, extra_args=extra) as vm:
        import_victoria(n, vm.url)
        time.sleep(5)
        with MeteredProxy(vm.url) as proxy:
            raw = passes("VictoriaMetrics, raw series", proxy, n, runs, work)
            began = time.perf_counter()
            subprocess.run([VMALERT_BIN, f"-rule={rules}", f"-datasource.url={vm.url}", f"-remoteWrite.url={vm.url}",
                            f"-replay.timeFrom={_iso(START_S)}", f"-replay.timeTo={_iso(AT_S)}",
                            "-replay.rulesDelay=0s", "-replay.disableProgressBar"],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            vm.http.get(vm.url + "/internal/force_flush", timeout=60)
            print(f"  vmalert -replay over {(AT_S - START_S) // 60} min: {time.perf_counter() - began:.0f} s",
                  flush=True)
            time.sleep(5)
            recorded = passes("VictoriaMetrics, recorded series", proxy, n, runs, work)
        print(f"  {probe(vm.url)}; recorded / raw wall time {recorded / raw:.2f}", flush=True)


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backends", default="prometheus,vm")
    opts = parser.parse_args()
    print(f"machine: {machine()}; load {Path('/proc/loadavg').read_text().split()[:3]}")
    print(f"fleet: {opts.services} services (bench/load_fleet.py), samples every {SCRAPE} s, "
          f"rate_interval {RATE_INTERVAL}, --at {AT}; rules every {SCRAPE} s", flush=True)
    work = Path(tempfile.mkdtemp(prefix="triage-rules-"))
    try:
        (work / "triage.yaml").write_text(f"prometheus:\n  url: http://127.0.0.1:9\n  rate_interval: {RATE_INTERVAL}\n"
                                          "  timeout: 300\n")
        rules = work / "triage.rules.yml"
        _triage(["rules", "--rate", RATE_INTERVAL, "--interval", f"{SCRAPE}s", "--out", str(rules)], work)
        if "prometheus" in opts.backends:
            prometheus(opts.services, opts.runs, work, rules)
        if "vm" in opts.backends:
            victoria(opts.services, opts.runs, work, rules, ("-search.maxUniqueTimeseries=5000000",))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
