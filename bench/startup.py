"""Start-up against its floor, measured side by side in one run (issue 17's first two rows).

- `triage --help` and `triage rca --help` against `python -c pass` (goal ≤ 3×);
- a one-service `triage rca` against a real local Prometheus, against its floor: `python -c pass`
  plus the very requests triage sent (recorded through a pass-through proxy on 127.0.0.1), all
  at once with `curl --parallel` (goal ≤ 2×).

Runs are paired (A B A B …) and each figure is the median of the pair-by-pair ratios, so a
machine whose speed drifts (2 shared cores) moves both sides of a pair together. CPU is the
process's own user+sys (wait4); wall is quoted too. Also prints which heavy modules `--help`
and `rca -o json` import (none of the SDKs; no rich for JSON on a pipe).
"""

from __future__ import annotations

import argparse
import http.server
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from bench._common import ROOT, machine, triage_argv, user_env

AT = "2026-11-10T20:01:00Z"
HEAVY = ("kubernetes", "docker", "prometheus_api_client", "jinja2", "rich", "pydantic", "yaml")


def _env() -> dict[str, str]:
    env = user_env(dict(os.environ))
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_once(argvs: Sequence[Sequence[str]], cwd: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds (user+sys, the processes' own) of the commands run one after the
    other, and the last one's exit code."""
    wall = cpu = 0.0
    code = 0
    for argv in argvs:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd,
                                env=_env())
        _, status, usage = os.wait4(proc.pid, 0)
        wall += time.perf_counter() - start
        cpu += usage.ru_utime + usage.ru_stime
        code = os.waitstatus_to_exitcode(status)
    return wall, cpu, code


def paired(a: Sequence[Sequence[str]], b: Sequence[Sequence[str]], runs: int, cwd: Path) -> dict[str, float]:
    """A and B in turn after a warm-up; medians of each side and of the pair-by-pair ratios."""
    run_once(a, cwd)
    run_once(b, cwd)
    rows = []
    for _ in range(runs):
        wa, ca, code = run_once(a, cwd)
        wb, cb, _ = run_once(b, cwd)
        rows.append((wa, ca, wb, cb, code))
    med = statistics.median
    return {"a_wall": med(r[0] for r in rows), "a_cpu": med(r[1] for r in rows),
            "b_wall": med(r[2] for r in rows), "b_cpu": med(r[3] for r in rows),
            "wall_ratio": med(r[0] / r[2] for r in rows), "cpu_ratio": med(r[1] / max(r[3], 1e-3) for r in rows),
            "code": rows[-1][4]}


def show(name: str, floor: str, goal: float, r: dict[str, float]) -> None:
    print(f"{name}: {r['a_wall'] * 1000:.0f} ms wall, {r['a_cpu'] * 1000:.0f} ms cpu (exit {r['code']:.0f}) | "
          f"floor ({floor}): {r['b_wall'] * 1000:.0f} ms wall, {r['b_cpu'] * 1000:.0f} ms cpu | "
          f"ratio wall {r['wall_ratio']:.2f}x, cpu {r['cpu_ratio']:.2f}x (goal <= {goal:g}x)")


@contextmanager
def recording_proxy(upstream: str) -> Iterator[tuple[str, list[str]]]:
    """A pass-through HTTP proxy on 127.0.0.1 that remembers each GET's path and query."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            seen.append(self.path)
            with urllib.request.urlopen(upstream + self.path, timeout=30) as resp:  # noqa: S310 - 127.0.0.1
                body = resp.read()
                self.send_response(resp.status)
                self.send_header("Content-Type", resp.headers.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def curl_all(base: str, paths: Sequence[str]) -> list[str]:
    """One curl sending every request at once (HTTP/1.1, one connection each)."""
    argv = ["curl", "-s", "--parallel", "--parallel-immediate", "--parallel-max", str(max(1, len(paths)))]
    for i, path in enumerate(paths):
        argv += (["--next"] if i else []) + ["-o", "/dev/null", base + path]
    return argv


def imported(args: Sequence[str], cwd: Path) -> list[str]:
    """The heavy top-level modules a run of `triage ARGS` imports (it runs in-process, stdout a pipe)."""
    code = ("import sys\nfrom triage.cli import app, main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            f"sys.__stderr__.write(repr(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r})))")
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd, env=_env())
    return [proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "?"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--no-rca", action="store_true", help="only --help (no Prometheus needed)")
    opts = parser.parse_args()
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    print(f"machine: {machine()}, load {' '.join(load)}")
    floor = [[sys.executable, "-c", "pass"]]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        show("triage --help", "python -c pass", 3, paired([triage_argv() + ["--help"]], floor, opts.runs, work))
        print(f"  heavy modules imported by --help: {imported(['--help'], work)[0]}")
        show("triage rca --help", "python -c pass", 3,
             paired([triage_argv() + ["rca", "--help"]], floor, opts.runs, work))
        if opts.no_rca:
            return
        _rca(work, opts.runs, floor)


def _rca(work: Path, runs: int, floor: list[list[str]]) -> None:
    from testing.backends import prometheus_from_openmetrics
    from testing.scenarios.library import default_fleet, export_dataset

    om, _ = export_dataset(default_fleet())
    with prometheus_from_openmetrics(om, work / "one") as prom:
        args = ["rca", "--service", "checkout", "--namespace", "shop", "--at", AT, "-o", "json"]
        with recording_proxy(prom.url) as (proxy, seen):
            subprocess.run(triage_argv() + args + ["--prometheus-url", proxy], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, cwd=work, env=_env(), timeout=120)
        paths = list(seen)
        result = paired([triage_argv() + args + ["--prometheus-url", prom.url]],
                        floor + [curl_all(prom.url, paths)], runs, work)
        show(f"triage rca, one service ({len(paths)} requests)", "python -c pass + curl --parallel", 2, result)
        print(f"  heavy modules imported by rca -o json: "
              f"{imported(args + ['--prometheus-url', prom.url], work)[0]}")


if __name__ == "__main__":
    main()
