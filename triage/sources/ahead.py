"""A call started now and its result taken later, in a thread of its own: a page of a list read
while the next one is asked for (issue 17), and the interpreter's thread switching made quicker
for as long as that overlap lasts.

A thread that reads a socket needs the interpreter lock again after each read; while another
thread is busy reading objects, it waits for the switch interval (5 ms by default) each time, and
the next page's answer is read late. With 1 ms the overlap of a 5,000-pod listing gains ~35 ms of
wall time instead of ~15 (the CPU is the same).

Nestable and thread-safe: the first to enter shortens the interval, the last to leave puts back
what it was.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from triage.heldsetting import HeldSetting

SWITCH_INTERVAL = 0.001


def _done() -> None:
    return None


class Ahead:
    """A call run in a thread of its own, its result (or exception) taken later."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self._call = call
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="triage-ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._call()
        except BaseException as exc:  # raised again where the result is taken
            self._error = exc
        finally:
            self._call = _done  # what it held (a page read) is freed here, not where the result is taken

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _quicken() -> float:
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, SWITCH_INTERVAL))
    return before


quick_switching = HeldSetting(_quicken, sys.setswitchinterval).held
