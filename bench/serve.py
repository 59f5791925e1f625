"""`triage serve` on a real Prometheus holding a generated incident (checkout's pool exhaustion):
alerts per second accepted in a concurrent burst, the time from a notification to its record on
disk and to the message at a local Slack-shaped receiver, and the serve process's peak RSS under
a burst of 1,000 alerts. Each figure beside a floor measured in the same run on the same machine:
a bare starlette/uvicorn app answering 200 to the same posts (accepted/s, peak RSS), the same
`triage run` invoked directly (time to record, peak RSS), that run plus one post of a message to
the same receiver (time to message).

    python -m bench.serve [--burst 1000] [--trials 5] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from statistics import median
from typing import Any

import requests

from bench._common import run_timed
from testing.backends import free_port, prometheus_from_openmetrics
from testing.scenarios.library import WINDOW_END_S, default_fleet, export_dataset
from testing.serve import TOKEN, FakeSlack, alert, notification, start, write_config

AT = datetime.fromtimestamp(WINDOW_END_S, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
SERVICES = ("checkout", "cart", "payment", "orders", "inventory")  # in default_fleet()
DEADLINE = 300.0

# The floor for the HTTP stack: what `triage serve` runs on (starlette routes under uvicorn, the
# same uvicorn settings), reading the body and answering 200, with no parsing, spool or work; with
# a directory argument, each body also written durably first (the least a 200 that loses nothing costs).
BARE_APP = """
import os, sys, socket, tempfile, uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

SPOOL = sys.argv[2] if len(sys.argv) > 2 else None

def spool(body):
    # what a durable 200 costs at least: the body in a fsynced temp file, renamed, the directory fsynced
    fd, tmp = tempfile.mkstemp(prefix=".n.", suffix=".tmp", dir=SPOOL)
    with os.fdopen(fd, "wb") as fh:
        fh.write(body)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, tmp[:-4] + ".json")
    dfd = os.open(SPOOL, os.O_RDONLY)
    os.fsync(dfd)
    os.close(dfd)

async def receive(request):
    body = await request.body()
    if SPOOL:
        await run_in_threadpool(spool, body)
    return JSONResponse({"status": "accepted", "bytes": len(body)})

async def ready(request):
    return PlainTextResponse("ready\\n")

app = Starlette(routes=[Route("/v1/alertmanager", receive, methods=["POST"]), Route("/readyz", ready)])
sock = socket.socket(); sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", int(sys.argv[1]))); sock.listen(512)
uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, server_header=False)).run(sockets=[sock])
"""

def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def status_kib(pid: int, field: str) -> int:
    """VmHWM (peak resident set) or VmRSS of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def wait(predicate: Callable[[], Any], what: str, timeout: float = DEADLINE, every: float = 0.005) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise SystemExit(f"bench/serve: {what} not reached in {timeout:g}s")


def burst_bodies(n: int) -> list[bytes]:
    """N single-alert notifications in five groups (one per service): five incidents."""
    return [json.dumps(notification([alert(f"Burst{i % 5}", SERVICES[i % 5], WINDOW_END_S,
                                           fingerprint=f"b{i:015x}")],
                                    group_key=f'{{}}:{{service="{SERVICES[i % 5]}",burst="{i % 5}"}}')).encode()
            for i in range(n)]


def post_burst(url: str, bodies: Sequence[bytes], concurrency: int) -> tuple[float, list[int]]:
    """Every body posted by `concurrency` threads, a keep-alive connection each (http.client: the
    client's own cost kept low, it shares the cores): seconds for all but the first `concurrency`
    (which open the connections), and every status code."""
    local = threading.local()
    host, port = url.removeprefix("http://").rsplit(":", 1)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}

    def post(body: bytes) -> int:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        local.conn.request("POST", "/v1/alertmanager", body=body, headers=headers)
        reply = local.conn.getresponse()
        reply.read()
        return reply.status

    with ThreadPoolExecutor(concurrency) as pool:
        codes = list(pool.map(post, bodies[:concurrency]))
        started = time.perf_counter()
        codes += pool.map(post, bodies[concurrency:])
        return time.perf_counter() - started, codes


def bare_floor(bodies: Sequence[bytes], concurrency: int, spool: Path | None = None) -> tuple[float, int]:
    """Accepted/s and peak RSS (KiB) of the bare starlette/uvicorn app under the same burst."""
    port = free_port()
    extra = [str(spool)] if spool else []
    if spool:
        spool.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", BARE_APP, str(port), *extra], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        http = requests.Session()
        http.trust_env = False

        def up() -> bool:
            if proc.poll() is not None:
                raise SystemExit(f"bench/serve: the bare app exited {proc.returncode}")
            try:
                return http.get(url + "/readyz", timeout=1).status_code == 200
            except requests.RequestException:
                return False
        wait(up, "the bare app", timeout=30, every=0.1)
        seconds, codes = post_burst(url, bodies, concurrency)
        assert set(codes) == {200}, sorted(set(codes))
        return (len(bodies) - concurrency) / seconds, status_kib(proc.pid, "VmHWM")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def records(directory: Path) -> set[Path]:
    return set(directory.glob("*/incident.json")) if directory.is_dir() else set()


def metric(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


def serve_burst(server: Any, bodies: Sequence[bytes], concurrency: int) -> dict[str, float]:
    idle = status_kib(server.proc.pid, "VmRSS")
    seconds, codes = post_burst(server.url, bodies, concurrency)
    assert set(codes) == {200}, sorted(set(codes))

    def applied() -> bool:
        rows = server.incidents()
        return (metric(server.get("/metrics").text, "triage_serve_spool_depth") == 0 and len(rows) == len(SERVICES)
                and all(r["run"] in ("done", "failed") for r in rows))
    wait(applied, "the burst applied and triaged", every=0.2)
    page = server.get("/metrics").text
    return {"rate": (len(bodies) - concurrency) / seconds, "idle_kib": idle,
            "peak_kib": status_kib(server.proc.pid, "VmHWM"), "incidents": len(server.incidents()),
            "runs": metric(page, "triage_serve_runs_total"),
            "accepted": metric(page, 'triage_serve_notifications_total{result="accepted"}')}


def serve_latency(server: Any, slack: FakeSlack, records_dir: Path, trials: int) -> tuple[list[float], list[float]]:
    """Seconds from posting one firing notification (a new incident each) to its record on disk,
    and to its message at the Slack-shaped receiver."""
    to_record, to_message = [], []
    for i in range(trials):
        before, messages = records(records_dir), len(slack.received_at)
        body = notification([alert("CheckoutPoolExhausted", "checkout", WINDOW_END_S, fingerprint=f"l{i:015x}")],
                            group_key=f'{{}}:{{service="checkout",trial="{i}"}}')
        started = time.monotonic()
        assert server.post(body).status_code == 200
        wait(partial(lambda seen: records(records_dir) - seen, before), "the record")
        to_record.append(time.monotonic() - started)
        wait(partial(lambda seen: len(slack.received_at) > seen, messages), "the message")
        to_message.append(slack.received_at[messages] - started)
    return to_record, to_message


def run_floor(prometheus: str, work: Path, trials: int) -> tuple[list[float], int]:
    """The same incident through `triage run` invoked directly: wall seconds each, peak RSS (KiB)."""
    times, peak = [], 0
    for i in range(trials + 1):
        elapsed, code, rss, _ = run_timed(["run", "--prometheus-url", prometheus, "--service", "checkout",
                                           "--namespace", "shop", "--at", AT, "--window", "15m", "--baseline", "1h",
                                           "--no-kubernetes", "--no-docker", "--out", str(work / f"run-{i}")],
                                          cwd=work)
        assert code in (0, 1, 2), f"triage run exited {code}"  # 3 and up: it could not triage
        if i:  # the first one warms the page cache, as serve's process is warm
            times.append(elapsed)
            peak = max(peak, rss)
    return times, peak


def post_floor(slack: FakeSlack, message: dict[str, Any], trials: int) -> list[float]:
    """One post of the same message to the same receiver, from a fresh connection as the sink's."""
    times = []
    for _ in range(trials):
        started = time.monotonic()
        with requests.Session() as http:
            http.trust_env = False
            http.post(slack.url, json=message, timeout=30).raise_for_status()
        times.append(time.monotonic() - started)
    return times


def table(rows: Sequence[tuple[str, str, str, str]]) -> str:
    head = ("measure", "triage serve", "floor (same run)", "ratio")
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(4)]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(head), line(tuple("-" * w for w in widths)), *map(line, rows)])


def ms(x: float) -> str:
    return f"{x * 1000:.0f} ms"


def mib(kib: float) -> str:
    return f"{kib / 1024:.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    opts = parser.parse_args()
    print(f"machine: {platform.node()}, {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"load before: {load()}")
    bodies = burst_bodies(opts.burst)  # the first `concurrency` of them open the connections
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        work = Path(tmp)
        openmetrics, _ = export_dataset(default_fleet())
        with prometheus_from_openmetrics(openmetrics, work / "prom") as prom, FakeSlack() as slack:
            del openmetrics
            bare_rate, bare_peak = bare_floor(bodies, opts.concurrency)
            durable_rate, _ = bare_floor(bodies, opts.concurrency, work / "bare-spool")
            (work / "serve").mkdir()
            (work / "serve" / "slack").write_text(slack.url)
            config = write_config(work / "serve", prometheus=prom.url,
                                  sinks=[{"type": "slack", "name": "oncall", "url_file": "slack"}])
            server = start(config)
            try:
                burst = serve_burst(server, bodies, opts.concurrency)
                wait(lambda: len(slack.received_at) >= len(SERVICES), "the burst's messages", every=0.1)
                to_record, to_message = serve_latency(server, slack, work / "serve" / "records", opts.trials)
                message = slack.received[-1]
            finally:
                code = server.stop()
            run_times, run_peak = run_floor(prom.url, work, opts.trials)
            post_times = post_floor(slack, message, opts.trials)
    print(f"load after: {load()}")
    print(f"burst: {opts.burst} alerts ({opts.concurrency} concurrent posts) → {burst['accepted']:.0f} accepted, "
          f"{burst['incidents']} incidents, {burst['runs']:.0f} runs; serve exited {code} on SIGTERM")
    floor_message = median(run_times) + median(post_times)
    print(table([
        ("alerts accepted per second (burst)", f"{burst['rate']:.0f}/s", f"{bare_rate:.0f}/s bare starlette/uvicorn",
         f"{burst['rate'] / bare_rate:.2f}"),
        ("alerts accepted per second (burst)", f"{burst['rate']:.0f}/s",
         f"{durable_rate:.0f}/s the same + a fsynced write", f"{burst['rate'] / durable_rate:.2f}"),
        ("notification → record on disk (median)", ms(median(to_record)), f"{ms(median(run_times))} `triage run`",
         f"{median(to_record) / median(run_times):.2f}"),
        ("notification → Slack message (median)", ms(median(to_message)),
         f"{ms(floor_message)} `triage run` + one post", f"{median(to_message) / floor_message:.2f}"),
        (f"peak RSS, burst of {opts.burst}", mib(burst["peak_kib"]), f"{mib(bare_peak)} bare starlette/uvicorn",
         f"{burst['peak_kib'] / bare_peak:.2f}"),
        (f"peak RSS, burst of {opts.burst}", mib(burst["peak_kib"]), f"{mib(run_peak)} one `triage run`",
         f"{burst['peak_kib'] / run_peak:.2f}"),
    ]))
    print(f"serve RSS idle before the burst {mib(burst['idle_kib'])}; record times {[ms(t) for t in to_record]}, "
          f"`triage run` {[ms(t) for t in run_times]}")


if __name__ == "__main__":
    main()
