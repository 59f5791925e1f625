"""A list of calls on a few threads of the source's own, the results in order: what
ThreadPoolExecutor.map gave, without concurrent.futures and the logging it imports."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
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


class Wave:
    """`fn` of each item on at most `workers` threads (`name_0`, …), each taking the next item not
    yet taken, the results one by one as each ends (`take`), and more items added while the
    others run (`add`): a fleet's analysis works on one answer while the others are still out, and
    asks the alternatives an answer shows it needs in the same wave (issue 17)."""

    def __init__(self, fn: Callable[[Any], Any], items: Sequence[Any], workers: int, name: str) -> None:
        self._fn, self._workers, self._name = fn, max(1, workers), name
        self._items: list[Any] = []
        self._next = self._running = self._taken = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ended: deque[tuple[int, Any]] = deque()
        self._ready = threading.Semaphore(0)
        self.failures: dict[int, BaseException] = {}
        self.add(items)

    @property
    def size(self) -> int:
        """How many items have been added."""
        return len(self._items)

    def add(self, items: Sequence[Any]) -> int:
        """Queue `items` (started as workers free up, or on new ones up to `workers`); the index of the first."""
        with self._lock:
            first = len(self._items)
            self._items.extend(items)
            start = max(0, min(self._workers - self._running, len(self._items) - self._next))
            names = [f"{self._name}_{k}" for k in range(self._running, self._running + start)]
            self._running += start
        for name in names:
            threading.Thread(target=self._work, name=name).start()
        return first

    def _work(self) -> None:
        while True:
            with self._lock:
                if self._stop.is_set() or self._next >= len(self._items):
                    self._running -= 1
                    return
                i = self._next
                self._next += 1
            try:
                self._ended.append((i, self._fn(self._items[i])))
            except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread by take
                self.failures[i] = exc
                self._ended.append((i, None))
            self._ready.release()

    def take(self) -> tuple[int, Any] | None:
        """The next result to end, `(index, result)`; None once every item added has ended (then
        the first failure in order, if any, is raised). An item that failed is not given."""
        while True:
            with self._lock:
                if self._taken >= len(self._items):
                    break
            self._ready.acquire()
            self._taken += 1
            i, result = self._ended.popleft()
            if i not in self.failures:
                return i, result
        if self.failures:
            raise self.failures[min(self.failures)]
        return None

    def stop(self) -> None:
        """No item not yet taken is started; nobody waits for those running."""
        self._stop.set()
