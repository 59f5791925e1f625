"""Faults switched without a restart: a JSON control file each process polls.

The runner (or a person: ``python -m lab fault ...``) rewrites the file atomically; the
service and the bank stub notice the new mtime within a quarter of a second. A file is
used rather than an admin endpoint so that a worker whose event loop is starved (the CPU
fault) or whose pool is empty still picks the change up, and nothing new listens on a port.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# The service's knobs and their healthy values.
SERVICE_DEFAULTS: dict[str, Any] = {
    "version": "1.4.2",
    "pool_max": 10,                   # psycopg_pool max_size (min_size follows)
    "pool_timeout": 5.0,              # seconds a request may wait for a pooled connection
    "pooling": True,                  # False: a new connection per request (connection churn)
    "query_sleep": 0.0,               # pg_sleep seconds in the event lookup of /book and /status
    "hot_lock_hold": 0.0,             # seconds the booking holds SELECT ... FOR UPDATE on the event row
    "payment_in_transaction": False,  # call the bank while the booking transaction is open
    "naive_booking": False,           # seed 001's check-then-act booking (race: overselling)
    "cpu_burn_ms": 0.0,               # CPU milliseconds burnt per request (ticket rendering)
    "leak_kb": 0,                     # kilobytes kept forever per booking (a cache that never evicts)
    "bug_promo_code": False,          # release 2.0.0's bug: bookings without a promo code fail (500)
    "bank_timeout": 2.0,              # seconds before the payment call gives up
    "pool_max_lifetime": 0.0,         # lab.app_mysql: recycle a pooled connection older than this (0: never)
}

BANK_DEFAULTS: dict[str, Any] = {
    "latency_ms": 150.0,              # median response time
    "latency_sigma": 0.3,             # log-normal spread
    "error_rate": 0.0,                # share answered 503
}


def write(path: Path, values: Mapping[str, Any]) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".control-", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        json.dump(dict(values), f, indent=1, sort_keys=True)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def update(path: Path, **changes: Any) -> dict[str, Any]:
    current = read(path, {})
    current.update(changes)
    write(path, current)
    return current


def read(path: Path, defaults: Mapping[str, Any]) -> dict[str, Any]:
    values = dict(defaults)
    try:
        values.update(json.loads(Path(path).read_text()))
    except (OSError, ValueError):
        pass
    return values


class Watcher:
    """The current settings of one process, refreshed from the file by a background task."""

    def __init__(self, path: str | None, defaults: Mapping[str, Any]) -> None:
        self.path = Path(path) if path else None
        self.defaults = dict(defaults)
        self.values = read(self.path, defaults) if self.path else dict(defaults)
        self._mtime = self._stat()
        self.listeners: list = []

    def _stat(self) -> float:
        try:
            return self.path.stat().st_mtime_ns if self.path else 0
        except OSError:
            return 0

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    async def run(self) -> None:
        if self.path is None:
            return
        while True:
            await asyncio.sleep(0.25)
            mtime = self._stat()
            if mtime != self._mtime:
                self._mtime = mtime
                old, self.values = self.values, read(self.path, self.defaults)
                for listener in self.listeners:
                    await listener(old, self.values)
