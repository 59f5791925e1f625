"""A process-wide interpreter setting held for as long as any caller needs it (issue 17).

Nestable and thread-safe (`serve`'s workers run passes side by side): the first to enter saves
what the setting was and changes it, the last to leave puts back what it was. `gcpause` (the
cyclic collector held off) and `sources.ahead` (quicker thread switching) are two of them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class HeldSetting:
    """`change()` when the first holder enters (it returns what the setting was); `restore(was)`
    when the last one leaves."""

    def __init__(self, change: Callable[[], Any], restore: Callable[[Any], None]) -> None:
        self._change, self._restore = change, restore
        self._lock = threading.Lock()
        self._depth = 0
        self._was: Any = None

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            if self._depth == 0:
                self._was = self._change()
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0:
                    self._restore(self._was)
