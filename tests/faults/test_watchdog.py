"""The fault suite's watchdog: a run waiting with no deadline fails at its bound; a run that is
working on a loaded machine (spending CPU, or waiting for a core) gets more time, up to a hard
limit."""

from __future__ import annotations

import threading
import time

import pytest

from tests.faults.conftest import CPU_ALLOWANCE, HARD_LIMIT, Hung, _watched, hang_bound, run_queue_delay


class Proxy:
    """What the watchdog asks of a fault proxy: let go of what it holds, so the run can end."""

    def __init__(self) -> None:
        self.released = threading.Event()

    def release(self) -> None:
        self.released.set()


def test_a_run_spending_no_cpu_is_hung_at_its_limit():
    proxy = Proxy()
    start = time.monotonic()
    with pytest.raises(Hung, match="waited"):
        _watched(lambda: proxy.released.wait(60), limit=0.5, proxy=proxy, name="waiter",  # type: ignore[arg-type]
                 hung="waited")
    assert proxy.released.is_set()
    assert time.monotonic() - start < 30, "the watchdog waited for the run instead of its bound"


def test_a_run_that_returns_in_time_gives_its_value():
    assert _watched(lambda: 42, limit=5, proxy=None, name="quick", hung="never") == {"value": 42}


def test_each_cpu_second_spent_extends_the_bound_up_to_the_hard_limit():
    assert hang_bound(9, 0) == 9
    assert hang_bound(9, 2) == 9 + 2 * CPU_ALLOWANCE
    assert hang_bound(9, 1000) == HARD_LIMIT
    assert hang_bound(HARD_LIMIT + 60, 1000) == HARD_LIMIT + 60   # a longer limit of a test's own stands


def test_time_spent_waiting_for_a_core_extends_the_bound():
    assert hang_bound(9, 0.5, 6.0) == 9 + 0.5 * CPU_ALLOWANCE + 6.0
    assert hang_bound(9, 0, 1000) == HARD_LIMIT


def test_the_run_queue_delay_of_a_thread_is_read_and_a_sleeping_one_accrues_none():
    done = threading.Event()
    sleeper = threading.Thread(target=done.wait, args=(5,))
    sleeper.start()
    try:
        time.sleep(0.3)
        before = run_queue_delay(sleeper.native_id)
        time.sleep(0.5)
        assert run_queue_delay(sleeper.native_id) - before < 0.05     # asleep: never waiting for a core
    finally:
        done.set()
        sleeper.join()
    assert run_queue_delay(threading.get_native_id()) >= 0.0
    assert run_queue_delay(None) == 0.0
