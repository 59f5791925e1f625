"""Issue 8, "Load": `triage health` over 5,000 pods on the local API-server fixture, with 10,000
events (250 Warning), 500 deployments and 500 HPAs, 50 nodes and every 20th pod (250)
crash-looping: `bench/health_k8s.py`'s namespace at 2.5x, nodes in proportion.

Prints wall time (a fresh process each run, start-up included), peak RSS, the requests the API
server saw per run, the most it had in flight at once, and whether every expected finding was
reported (250 CrashLoopBackOff, error logs for at most 20 of them, everything else ok).

Issue 17: also the floor, measured in the same run, interleaved with triage's runs: a fresh
`python -c pass`, and a fresh Python that sends the exact requests triage sent (recorded by the
fixture: path, query and Accept header) all at once from a thread pool and decodes the JSON
bodies (and the same with 8 in flight: this fixture, a Python server in the bench's process,
can answer 34 requests at once slower than 8 at a time). Prints triage's median as a ratio to
the faster floor's, in wall time and in CPU (user + system of the process; the fixture's own
CPU is in neither, so CPU is the ratio a loaded machine moves least).

    nice -n 19 .venv/bin/python -m bench.health_load [--pods 5000] [--runs 10]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench._common import health_argv, machine, run_argv_timed, summary, user_env
from testing.k8s import FakeKubeAPI, kubeconfig
from testing.k8s.fleet import fleet

LOG_CAP = 20          # triage fetches the logs of at most this many failing containers


class CountingKubeAPI(FakeKubeAPI):
    """The fixture, plus the most requests it had in flight at once (bench only)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # socketserver listens with a backlog of 5: more connections at once than that lose their
        # SYN and retry a second later (the floor's 34 at once did). A real API server does not.
        self.server.socket.listen(128)
        self._flight = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0

    def _handle(self, h) -> None:  # noqa: ANN001
        with self._flight:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            super()._handle(h)
        finally:
            with self._flight:
                self.in_flight -= 1

    def reset_requests(self) -> None:
        super().reset_requests()
        with self._flight:
            self.max_in_flight = 0


# The floor: the same requests at once, bodies decoded, in a fresh interpreter (stdlib only).
FLOOR = r"""
import json, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor
reqs = json.load(sys.stdin)
OPEN = urllib.request.build_opener(urllib.request.ProxyHandler({})).open
def one(r):
    with OPEN(urllib.request.Request(r[0], headers={"Accept": r[1]}), timeout=30) as resp:
        body = resp.read()
    return len(json.loads(body)["items"]) if "json" in r[1] else len(body)
with ThreadPoolExecutor(max_workers=int(sys.argv[1]) if len(sys.argv) > 1 else len(reqs)) as pool:
    print(sum(pool.map(one, reqs)))
"""


def recorded(api: FakeKubeAPI) -> list[tuple[str, str]]:
    """The requests the fixture saw, as (URL, Accept) to send again."""
    from urllib.parse import urlencode
    with api._lock:
        return [(f"{api.url}{path}" + (f"?{urlencode(query, doseq=True)}" if query else ""),
                 headers.get("Accept", "*/*")) for path, query, headers in api.requests]


def timed(argv: list[str], stdin: bytes = b"", *, env: dict | None = None,
          cwd: Path | None = None) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds (user + system), peak RSS in KiB, stdout of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=env, cwd=cwd)
    assert proc.stdin and proc.stdout
    proc.stdin.write(stdin)
    proc.stdin.close()
    out = proc.stdout.read().decode()
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, out


def verify(code: int, payload: dict, pods: int, crash_every: int, deployments: int, nodes: int) -> str:
    found = collections.Counter((f["kind"], f["status"], f["reason"]) for f in payload["findings"])
    crashing = pods // crash_every
    want = {("pod", "critical", "CrashLoopBackOff"): crashing, ("pod", "ok", None): pods - crashing,
            ("deployment", "ok", None): deployments, ("hpa", "ok", None): deployments, ("node", "ok", None): nodes}
    logs = found.pop(("pod", "warning", "ErrorLogs"), 0)
    ok = code == 2 and dict(found) == want and 0 < logs <= min(LOG_CAP, crashing)
    return (f"exit {code}; {found[('pod', 'critical', 'CrashLoopBackOff')]}/{crashing} CrashLoopBackOff, "
            f"{logs} ErrorLogs (logs read for at most {LOG_CAP}), {found[('pod', 'ok', None)]} pods, "
            f"{found[('deployment', 'ok', None)]} deployments, {found[('hpa', 'ok', None)]} HPAs, "
            f"{found[('node', 'ok', None)]} nodes ok [{'OK' if ok else 'WRONG: ' + str(dict(found))}]")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=10)
    opts = parser.parse_args()
    print(f"machine: {machine()}")
    nodes = max(1, opts.pods // 100)
    crash_every = 20
    objects, logs = fleet(opts.pods, nodes=nodes, crash_every=crash_every)
    kinds = collections.Counter(o["kind"] for o in objects)
    warnings = sum(1 for o in objects if o["kind"] == "Event" and o["type"] == "Warning")
    with tempfile.TemporaryDirectory() as tmp, CountingKubeAPI(objects, logs=logs) as api:
        config = Path(tmp) / "kubeconfig"
        config.write_text(kubeconfig(api.url, namespace="bench"))
        env = {**user_env(dict(os.environ)), "KUBECONFIG": str(config), "HOME": tmp}   # .pyc from the warm-up
        argv = health_argv() + ["--no-docker", "-o", "json"]
        run_argv_timed(argv, env=env, cwd=Path(tmp))  # warm the page cache
        results = []
        for _ in range(opts.runs):
            api.reset_requests()
            elapsed, code, rss, out = run_argv_timed(argv, env=env, cwd=Path(tmp))
            paths = api.paths()
            results.append((elapsed, code, rss, len(paths), sum(1 for p in paths if p.endswith("/log")),
                            api.max_in_flight, verify(code, json.loads(out), opts.pods, crash_every,
                                                      kinds["Deployment"], nodes)))
        # The floor, interleaved with triage's runs so both see the same load.
        wire = json.dumps(recorded(api)).encode()
        floor, floor_cpu, bare, floor_rss, again, again_cpu, bounded = [], [], [], 0, [], [], []
        tenv = {k: v for k, v in env.items() if not k.startswith("TRIAGE_")}
        tenv["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent) + os.pathsep + env.get("PYTHONPATH", "")
        for _ in range(opts.runs):
            bare.append(timed([sys.executable, "-c", "pass"])[0])
            elapsed, cpu, rss, out = timed([sys.executable, "-c", FLOOR], wire)
            floor.append(elapsed)
            floor_cpu.append(cpu)
            floor_rss = max(floor_rss, rss)
            # The fixture is a Python server in this process: 34 requests at once can be slower
            # than a few at a time, so the floor also sends them 8 at a time (triage's bound).
            bounded.append(timed([sys.executable, "-c", FLOOR, "8"], wire)[0])
            api.reset_requests()
            elapsed, cpu, _, out = timed(argv, env=tenv, cwd=Path(tmp))
            again.append(elapsed)
            again_cpu.append(cpu)
        counts = sorted({r[3] for r in results})
        lists = results[0][3] - results[0][4]
        print(f"health over {opts.pods} pods, {kinds['Event']} events ({warnings} Warning, the only ones fetched), "
              f"{kinds['Deployment']} deployments, {kinds['HorizontalPodAutoscaler']} HPAs, {nodes} nodes, "
              f"{opts.pods // crash_every} pods crash-looping: {summary([r[0] for r in results])}, "
              f"peak RSS {max(r[2] for r in results) / 1024:.0f} MiB, "
              f"{'/'.join(map(str, counts))} HTTP requests per run ({lists} list pages, {results[0][4]} logs), "
              f"max in flight at the server {max(r[5] for r in results)}")
        print(f"  findings: {results[0][6]}" + ("" if len({r[6] for r in results}) == 1 else
                                                 f" (differs between runs: {sorted({r[6] for r in results})})"))
        print(f"  python -c pass: {summary(bare)}")
        print(f"  floor (python + the same {results[0][3]} requests at once + JSON decode): {summary(floor)}, "
              f"peak RSS {floor_rss / 1024:.0f} MiB")
        print(f"  floor with 8 in flight: {summary(bounded)}")
        print(f"  triage, interleaved with the floor: {summary(again)}")
        print(f"  CPU (user + system), medians: triage {statistics.median(again_cpu) * 1000:.0f} ms, "
              f"floor {statistics.median(floor_cpu) * 1000:.0f} ms (the fixture's own CPU is in neither)")
        best = min(statistics.median(floor), statistics.median(bounded))
        print(f"  ratio triage / floor (medians, interleaved runs; the faster floor): "
              f"{statistics.median(again) / best:.2f}x wall, "
              f"{statistics.median(again_cpu) / statistics.median(floor_cpu):.2f}x CPU")


if __name__ == "__main__":
    main()
