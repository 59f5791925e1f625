"""`triage health` over a 2,000-pod namespace (4,000 events, 200 deployments and HPAs, 20 nodes,
100 pods crash-looping) on the local API-server fixture. Target ≤ 1.5 s, start-up included.

Prints wall time (as a user runs it: a fresh process, the kubernetes client imported), max
RSS and the requests the API server saw per run: one paginated list per kind plus the logs
of at most 20 failing containers.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from bench._common import health_argv, machine, run_argv_timed, summary
from testing.k8s import FakeKubeAPI, kubeconfig
from testing.k8s.fleet import fleet


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=10)
    opts = parser.parse_args()
    print(f"machine: {machine()}")
    objects, logs = fleet(opts.pods)
    events = sum(1 for o in objects if o["kind"] == "Event")
    warnings = sum(1 for o in objects if o["kind"] == "Event" and o["type"] == "Warning")
    with tempfile.TemporaryDirectory() as tmp, FakeKubeAPI(objects, logs=logs) as api:
        config = Path(tmp) / "kubeconfig"
        config.write_text(kubeconfig(api.url, namespace="bench"))
        env = {**os.environ, "KUBECONFIG": str(config), "HOME": tmp}
        argv = health_argv() + ["--no-docker", "-o", "json"]
        run_argv_timed(argv, env=env, cwd=Path(tmp))  # warm the page cache
        api.reset_requests()
        elapsed, code, rss, out = run_argv_timed(argv, env=env, cwd=Path(tmp))
        per_run = len(api.paths())
        lists = sum(1 for p in api.paths() if not p.endswith("/log"))
        payload = json.loads(out)
        results = [run_argv_timed(argv, env=env, cwd=Path(tmp)) for _ in range(opts.runs)]
        print(f"health over {opts.pods} pods, {events} events ({warnings} Warning, the only ones fetched; "
              f"exit {code}, {len(payload['findings'])} findings): "
              f"{summary([r[0] for r in results])}, max RSS {max(r[2] for r in results) / 1024:.0f} MiB, "
              f"{per_run} HTTP requests per run ({lists} list pages, {per_run - lists} logs)")


if __name__ == "__main__":
    main()
