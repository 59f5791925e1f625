"""`triage health` against a real Docker Engine with 50 containers (target ≤ 2 s, start-up
included): 40 running with memory limits (10 of them with a passing HEALTHCHECK), 5 exited
non-zero, 5 in a restart loop. Starts its own dockerd (testing/docker_engine.py) as root.

Docker answers a one-shot stats call at its stats collector's next tick (~1 s), so the run
cannot be much faster than that; all stats calls are sent at once to share one tick.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench._common import health_argv, machine, run_argv_timed, summary
from testing.docker_engine import healthcheck, start_engine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--containers", type=int, default=50)
    parser.add_argument("--runs", type=int, default=10)
    opts = parser.parse_args()
    print(f"machine: {machine()}")
    n = opts.containers
    with start_engine() as engine, tempfile.TemporaryDirectory() as tmp:
        engine.import_busybox()

        def create(i: int) -> None:
            name = f"svc-{i:03d}"
            if i % 10 == 8:
                engine.run(name, f"echo 'Traceback (most recent call last):'; echo 'ValueError: {i}'; exit 1")
            elif i % 10 == 9:
                engine.run(name, "echo 'panic: boom'; exit 2", restart_policy={"Name": "always"})
            elif i % 4 == 0:
                engine.run(name, "exec sleep 86400", mem_limit="64m", healthcheck=healthcheck("true", interval=5))
            else:
                engine.run(name, "exec sleep 86400", mem_limit="64m")

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(create, range(n)))
        engine.wait_for(lambda: all(
            (c.attrs["State"].get("Health") or {}).get("Status", "healthy") == "healthy"
            or c.attrs["State"]["Status"] != "running"
            for c in engine.client.containers.list(all=True)), "health checks to pass", timeout=60)
        env = {**os.environ, "DOCKER_HOST": engine.host, "HOME": tmp}
        argv = health_argv() + ["--no-kubernetes", "-o", "json"]
        _, code, _, out = run_argv_timed(argv, env=env, cwd=Path(tmp))
        payload = json.loads(out)
        containers = len({f["name"] for f in payload["findings"]})
        results = [run_argv_timed(argv, env=env, cwd=Path(tmp)) for _ in range(opts.runs)]
        print(f"health over {containers} containers (exit {code}, {len(payload['findings'])} findings): "
              f"{summary([r[0] for r in results])}, max RSS {max(r[2] for r in results) / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
