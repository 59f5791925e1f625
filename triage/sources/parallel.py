"""A list of calls on a few threads of the source's own, the results in order: what
ThreadPoolExecutor.map gave, without concurrent.futures and the logging it imports."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any


def in_parallel(fn: Callable[[Any], Any], items: Sequence[Any], workers: int, name: str) -> list[Any]:
    """`[fn(item) for item in items]` on `workers` threads (`name_0`, `name_1`, …), each taking
    the next item not yet taken; what ThreadPoolExecutor.map gave, without concurrent.futures and
    the logging it imports (~5 ms of a one-service `rca`'s start-up; issue 17). The first item's
    exception in order is raised once all have ended. Ctrl-C (or anything else) in the caller
    while items are in flight: no item not yet taken is started, and nobody waits for the others."""
    results: list[Any] = [None] * len(items)
    failures: list[BaseException | None] = [None] * len(items)
    taken = iter(range(len(items)))
    lock = threading.Lock()
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            with lock:
                i = next(taken, None)
            if i is None:
                return
            try:
                results[i] = fn(items[i])
            except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread below
                failures[i] = exc

    threads = [threading.Thread(target=work, name=f"{name}_{k}") for k in range(max(1, workers))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    except BaseException:
        stop.set()
        raise
    for failure in failures:
        if failure is not None:
            raise failure
    return results


def each_in_parallel(fn: Callable[[Any], Any], items: Sequence[Any], workers: int,
                     name: str) -> Iterator[tuple[int, Any]]:
    """`in_parallel`'s results one by one as each ends, `(index, result)`, so the caller works on
    one while the others are still running (issue 17: a fleet's analysis overlaps its wave). The
    first item's exception in order is raised once all have ended, after the results of the
    others. The caller stopping early (an exception, Ctrl-C, the iterator closed): no item not
    yet taken is started, and nobody waits for the others."""
    failures: list[BaseException | None] = [None] * len(items)
    taken = iter(range(len(items)))
    lock = threading.Lock()
    stop = threading.Event()
    ended: deque[tuple[int, Any]] = deque()
    ready = threading.Semaphore(0)

    def work() -> None:
        while not stop.is_set():
            with lock:
                i = next(taken, None)
            if i is None:
                return
            try:
                ended.append((i, fn(items[i])))
            except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread below
                failures[i] = exc
                ended.append((i, None))
            ready.release()

    threads = [threading.Thread(target=work, name=f"{name}_{k}") for k in range(max(1, workers))]
    try:
        for thread in threads:
            thread.start()
        for _ in range(len(items)):
            ready.acquire()
            i, result = ended.popleft()
            if failures[i] is None:
                yield i, result
    finally:
        stop.set()
    for failure in failures:
        if failure is not None:
            raise failure
