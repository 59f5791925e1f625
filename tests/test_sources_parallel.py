"""The Prometheus source's waves on threads of its own (issue 17: no concurrent.futures, no
logging): answers in the order asked, at most `workers` at once, the first failure in order
raised after the others ended, and a one-service `rca` imports neither module."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from triage.sources.parallel import Wave, in_parallel

REPO = Path(__file__).resolve().parent.parent


def test_answers_come_in_the_order_asked_with_at_most_workers_at_once():
    lock = threading.Lock()
    running, peak, names = [0], [0], set()

    def fn(item: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            names.add(threading.current_thread().name)
        time.sleep(0.01 * (item % 3))
        with lock:
            running[0] -= 1
        return item * item

    assert in_parallel(fn, list(range(12)), 4, "triage-query") == [i * i for i in range(12)]
    assert peak[0] <= 4
    assert names <= {f"triage-query_{k}" for k in range(4)}


def test_the_first_failure_in_order_is_raised_once_every_item_ended():
    done = []

    def fn(item: int) -> int:
        if item in (2, 5):
            raise ValueError(f"item {item}")
        time.sleep(0.02)
        done.append(item)
        return item

    with pytest.raises(ValueError, match="item 2"):
        in_parallel(fn, list(range(8)), 3, "t")
    assert sorted(done) == [0, 1, 3, 4, 6, 7]


def _results(wave: Wave) -> list:
    out = []
    while (got := wave.take()) is not None:
        out.append(got)
    return out


def test_each_result_comes_as_it_ends_and_the_first_failure_after_the_others():
    order = []

    def fn(item: int) -> int:
        time.sleep(0.05 * (3 - item))      # 3 ends first, 0 last
        if item == 1:
            raise ValueError("item 1")
        return item * 10

    wave = Wave(fn, [0, 1, 2, 3], 4, "t")
    with pytest.raises(ValueError, match="item 1"):
        while (got := wave.take()) is not None:
            order.append(got)
    assert order == [(3, 30), (2, 20), (0, 0)]
    assert _results(Wave(fn, [], 2, "t")) == []


def test_items_added_while_it_runs_are_run_on_at_most_workers_threads():
    lock = threading.Lock()
    running, peak = [0], [0]

    def fn(item: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.01)
        with lock:
            running[0] -= 1
        return item

    wave = Wave(fn, [0, 1], 3, "t")
    got = [wave.take()]
    assert wave.add([2, 3, 4, 5]) == 2 and wave.size == 6
    got += _results(wave)
    time.sleep(0.05)                                # every worker gone: a later item starts a new one
    assert wave.add([6]) == 6 and _results(wave) == [(6, 6)]
    assert sorted(got) == [(i, i) for i in range(6)] and peak[0] <= 3


def test_a_stopped_wave_starts_nothing_more():
    started = []

    def fn(item: int) -> int:
        started.append(item)
        time.sleep(0.02)
        return item

    wave = Wave(fn, list(range(20)), 2, "t")
    assert wave.take()[1] in (0, 1)
    wave.stop()
    time.sleep(0.1)
    assert len(started) <= 4


def test_a_one_service_rca_imports_no_concurrent_futures_nor_logging():
    code = ("import sys\nfrom triage.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "sys.__stderr__.write('\\nMODULES ' + ' '.join(sorted(sys.modules)) + '\\n')")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-c", code, "rca", "--service", "checkout", "--namespace", "shop",
                           "--at", "now", "--prometheus-url", "http://127.0.0.1:9", "-o", "json"],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=60, stdin=subprocess.DEVNULL)
    modules = set([ln for ln in proc.stderr.splitlines() if ln.startswith("MODULES ")][-1].split()[1:])
    assert "triage.sources.prometheus" in modules
    assert not modules & {"concurrent.futures", "logging"}
