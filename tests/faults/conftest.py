"""The fault suite's tools: a watchdog around the real entry point, the generic assertions
every cell of the matrix makes, and a real backend behind a fault proxy."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from testing.cli import Result, run_cli
from testing.servers.fault_proxy import FaultProxy

AT = "2026-11-10T20:01:00Z"
TIMEOUT = 2.0          # prometheus.timeout in every fault config
ATTEMPTS = 3           # the most attempts triage makes for one request (sources/prometheus.py)
SLACK = 3.0
LIMIT = TIMEOUT * ATTEMPTS + SLACK


TARGET = ["--service", "checkout", "--at", AT]


def commands(tmp_path: Path) -> dict[str, list[str]]:
    """The commands every backend fault is tried against."""
    return {
        "detect": ["detect", *TARGET, "-o", "json"],
        "rca": ["rca", *TARGET, "-o", "json"],
        "rca --all-services": ["rca", "--all-services", "--at", AT, "-o", "json"],
        "run": ["run", *TARGET, "--no-kubernetes", "--no-docker", "--out", str(tmp_path / "out")],
        "queries check": ["queries", "check", "--service", "checkout", "--at", AT, "-o", "json"],
    }


class Hung(AssertionError):
    pass


# A run that works is not hung: each CPU second this process spends while it runs adds this much to
# the bound (a machine shared with the suite's other workers gives it a fraction of a core), and so
# does each second the run was ready to run but waited for a core (the kernel's run-queue delay of
# its thread), up to HARD_LIMIT. A run waiting on a socket with no deadline spends neither, and
# fails at `limit`.
CPU_ALLOWANCE = 4.0
HARD_LIMIT = 120.0


def hang_bound(limit: float, cpu: float, waited: float = 0.0) -> float:
    """Seconds a run may take before it counts as hung, having spent `cpu` seconds of CPU and
    `waited` seconds ready to run but without a core so far."""
    return min(max(limit, HARD_LIMIT), limit + CPU_ALLOWANCE * cpu + waited)


def run_queue_delay(tid: int | None) -> float:
    """Seconds thread `tid` of this process has spent runnable but not running (Linux schedstat;
    0 where it cannot be read)."""
    try:
        with open(f"/proc/self/task/{tid}/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


def _watched(fn, *, limit: float, proxy: FaultProxy | None, name: str, hung: str) -> dict:
    """fn() on a daemon thread: {"value": ...} or {"raised": exc}; past `limit` (plus CPU_ALLOWANCE ×
    the CPU time spent meanwhile, so a loaded machine does not pass for a hang) the proxy lets go (so
    the run can end) and the test fails with `hung`. A hang bound, never a measure of speed."""
    box: dict = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - the caller judges it
            box["raised"] = exc

    thread = threading.Thread(target=target, daemon=True, name=name)
    start, cpu0 = time.monotonic(), time.process_time()
    thread.start()
    while True:
        bound = hang_bound(limit, time.process_time() - cpu0, run_queue_delay(thread.native_id))
        left = start + bound - time.monotonic()
        if left <= 0:
            break
        thread.join(min(left, 0.25))
        if not thread.is_alive():
            break
    if thread.is_alive():
        if proxy is not None:
            proxy.release()
        thread.join(60)
        raise Hung(hung)
    return box


def run_bounded(args: Sequence[str], *, limit: float = LIMIT, proxy: FaultProxy | None = None,
                env: dict | None = None, cwd: Path | None = None) -> Result:
    """run_cli on a watchdog thread: past `limit` the test fails (and the proxy lets go so the
    run can end); a run that returns in time is never judged on its wall time."""
    box = _watched(lambda: run_cli(list(args), env=env, cwd=cwd), limit=limit, proxy=proxy,
                   name="triage-under-test",
                   hung=f"`triage {' '.join(args)}` did not return within {limit:g}s "
                        f"(timeout {TIMEOUT:g}s x {ATTEMPTS} attempts + {SLACK:g}s; + {CPU_ALLOWANCE:g}s a CPU second)")
    if "raised" in box:
        # an escape from the error boundary is itself a finding
        raise AssertionError(f"an exception escaped the error boundary: {box['raised']!r}")
    return box["value"]


def call_bounded(fn, *, limit: float = LIMIT, proxy: FaultProxy | None = None):
    """fn() on a watchdog thread, for a source asked directly: (its value, or the exception it
    raised); past `limit` the test fails (a hang bound, never a measure of speed)."""
    box = _watched(fn, limit=limit, proxy=proxy, name="source-under-test",
                   hung=f"the source did not return within {limit:g}s (+ {CPU_ALLOWANCE:g}s a CPU second)")
    return box.get("value"), box.get("raised")


def check(result: Result, codes: Iterable[int], *, secrets: Sequence[str] = (), debug: bool = False,
          one_line: bool = True) -> None:
    """What every cell asserts: the exit code, no traceback, no crash line, at most two lines on
    stderr for a failure, and no planted secret anywhere."""
    codes = set(codes)
    both = result.stdout + result.stderr
    assert result.code in codes, f"exit {result.code}, expected {sorted(codes)}\n{result.stderr[-2000:]}"
    if not debug:
        # stdout may quote a log line that is a traceback (that is data); stderr never carries one
        assert "Traceback" not in result.stderr, result.stderr[-3000:]
        assert "internal error" not in result.stderr, result.stderr
        if one_line and result.code == 3 and not result.stdout.strip():
            lines = result.stderr.strip().splitlines()
            assert 1 <= len(lines) <= 2, f"{len(lines)} lines on stderr:\n{result.stderr}"
    for secret in secrets:
        assert secret not in both, f"secret {secret[:4]}… leaked"


def write_config(path: Path, url: str, extra: str = "") -> Path:
    path.write_text(f"prometheus:\n  url: {url}\n  timeout: {TIMEOUT:g}s\n{extra}")
    return path


@pytest.fixture(params=["prometheus"])
def proxied(request):
    """A fault proxy in front of the real Prometheus (or, parametrised indirectly, VictoriaMetrics);
    set `.fault` per test."""
    name = "prometheus_server" if request.param == "prometheus" else "victoria_metrics_server"
    backend = request.getfixturevalue(name)
    with FaultProxy(backend.url) as proxy:
        yield proxy


def cell(bugs: dict, *values, **kwargs):
    """A matrix cell as a pytest param, marked strict-xfail when it is a known triage BUG."""
    reason = bugs.get(values)
    marks = [pytest.mark.xfail(strict=True, reason=f"BUG: {reason}")] if reason else []
    return pytest.param(*values, marks=marks, **kwargs)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
