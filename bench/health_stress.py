"""Issue 13, "Load": `triage health` under stress on the local API-server fixture.

Scenarios (each a fresh process per run, start-up included):

- `fast`: 10,000 pods in one namespace (20,000 events of which 500 Warning, 1,000 deployments and
  HPAs, 100 nodes, 500 pods crash-looping), the API server answering at once;
- `slow`: the same cluster with the API server answering every request after 200 ms;
- `slow-A`: `-A` over 10,000 pods in 20 namespaces of 500, at 200 ms a request;
- `bomb`: the fast cluster with the pods list answered by a gzip bomb (3 MB, 3 GiB decoded) and
  one pod log by a 3 GiB body, at 200 ms a request.

Prints wall time, peak RSS, the requests the API server saw per run, the most it had in flight
at once, and whether the findings are the expected ones. The figures go to BENCHMARKS.md.

    nice -n 19 .venv/bin/python -m bench.health_stress [--pods 10000] [--runs 3] [--only slow]
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import os
import tempfile
from pathlib import Path

from bench._common import health_argv, machine, run_argv_timed, summary
from bench.health_load import CountingKubeAPI, verify
from testing.k8s import kubeconfig
from testing.k8s.fleet import fleet

DELAY = 0.2


class StressKubeAPI(CountingKubeAPI):
    """The counting fixture, plus optional answers of our own for some paths (bench only)."""

    answer = None

    def _route(self, h, path, query, user, rules) -> None:  # noqa: ANN001
        own = self.answer(path) if self.answer else None
        if own is None:
            return super()._route(h, path, query, user, rules)
        headers, body = own
        h.send_response(200)
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        try:
            for chunk in body():
                h.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        h.close_connection = True


def _bomb_answer(first_log: str):
    member = gzip.compress(b" " * (16 << 20), 9)
    bomb = gzip.compress(b'{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[') + member * 192 + \
        gzip.compress(b"]}")
    block = b"ERROR database gone\n" * 52428

    def answer(path: str):
        if path.endswith("/pods"):
            return {"Content-Type": "application/json", "Content-Encoding": "gzip",
                    "Content-Length": str(len(bomb))}, lambda: [bomb]
        if path == first_log:
            count = (3 << 30) // len(block)
            return {"Content-Type": "text/plain", "Content-Length": str(count * len(block))}, \
                lambda: (block for _ in range(count))
        return None
    return answer


def run(name: str, objects: list, logs: dict, argv_extra: list[str], runs: int, *, delay: float, answer=None,
        expect=None) -> None:
    kinds = collections.Counter(o["kind"] for o in objects)
    with tempfile.TemporaryDirectory() as tmp, StressKubeAPI(objects, logs=logs, delay=delay) as api:
        api.answer = answer
        config = Path(tmp) / "kubeconfig"
        config.write_text(kubeconfig(api.url, namespace="bench"))
        env = {**os.environ, "KUBECONFIG": str(config), "HOME": tmp}
        argv = health_argv() + ["--no-docker", "-o", "json", *argv_extra]
        results = []
        for _ in range(runs):
            api.reset_requests()
            elapsed, code, rss, out = run_argv_timed(argv, env=env, cwd=Path(tmp))
            paths = api.paths()
            payload = json.loads(out) if out.strip() else {"findings": [], "skipped": []}
            results.append((elapsed, code, rss, len(paths), sum(1 for p in paths if p.endswith("/log")),
                            api.max_in_flight, expect(code, payload) if expect else "",
                            [s["reason"] for s in payload["skipped"]]))
        lists = results[0][3] - results[0][4]
        print(f"{name}: {kinds['Pod']} pods, {kinds['Event']} events, {kinds['Deployment']} deployments, "
              f"{kinds['Node']} nodes, API delay {delay * 1000:.0f} ms, argv {' '.join(argv_extra) or '-n bench'}: "
              f"{summary([r[0] for r in results])}, peak RSS {max(r[2] for r in results) / 1024:.0f} MiB, "
              f"{'/'.join(map(str, sorted({r[3] for r in results})))} requests per run ({lists} list pages, "
              f"{results[0][4]} logs), max in flight {max(r[5] for r in results)}")
        if results[0][6]:
            print(f"  findings: {results[0][6]}")
        for reason in results[0][7]:
            print(f"  skipped: {reason}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=["fast", "slow", "slow-A", "bomb"], action="append")
    opts = parser.parse_args()
    only = set(opts.only or ["fast", "slow", "slow-A", "bomb"])
    print(f"machine: {machine()}")
    nodes = max(1, opts.pods // 100)
    crash_every = 20
    objects, logs = fleet(opts.pods, nodes=nodes, crash_every=crash_every)
    deployments = sum(1 for o in objects if o["kind"] == "Deployment")

    def expect(code: int, payload: dict) -> str:
        return verify(code, payload, opts.pods, crash_every, deployments, nodes)

    if "fast" in only:
        run("fast", objects, logs, ["-n", "bench"], opts.runs, delay=0.0, expect=expect)
    if "slow" in only:
        run("slow", objects, logs, ["-n", "bench"], opts.runs, delay=DELAY, expect=expect)
    if "slow-A" in only:
        spread: list = []
        spread_logs: dict = {}
        per = 500
        for k in range(max(1, opts.pods // per)):
            objs, lg = fleet(per, namespace=f"ns-{k:02d}", nodes=nodes, crash_every=crash_every)
            spread += [o for o in objs if o["kind"] != "Node"]
            spread_logs.update(lg)
        spread += [o for o in objects if o["kind"] == "Node"]
        run("slow-A", spread, spread_logs, ["-A"], opts.runs, delay=DELAY)
    if "bomb" in only:
        first = next(k for k in sorted(logs))
        run("bomb", objects, logs, ["-n", "bench"], opts.runs, delay=DELAY,
            answer=_bomb_answer(f"/api/v1/namespaces/{first[0]}/pods/{first[1]}/log"))


if __name__ == "__main__":
    main()
