"""The on-disk queue between the receiver and the incidents: an accepted notification is a file
(written whole, fsynced, renamed, the directory fsynced) before the 200 goes out, and is removed
only once the incident it changed is saved. A crash at any point leaves either the file or its
effect on disk; applying a notification twice changes nothing the second time."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from triage.files import replace_file, sync_dir

# Spooled notifications not yet applied; past this the receiver answers 503 and Alertmanager
# retries later: a burst costs disk up to here, never memory.
MAX_SPOOLED = 10_000


class SpoolFull(Exception):
    """Too many notifications wait on disk; the sender should retry later."""


def write_json(path: Path, payload: Any) -> None:
    """Atomically (triage.files.replace_file), private to the user (0600: notifications and
    incident states are the receiver's own), raising the OSError itself, not WriteError: the
    receiver answers 503 to it (Alertmanager sends again) and a spooled entry stays for later."""
    replace_file(path, json.dumps(payload, sort_keys=True, separators=(",", ":")).encode(), mode=0o600)


def read_json(path: Path) -> Any:
    with open(path, "rb") as fh:
        return json.loads(fh.read())


class Spool:
    """Notification files named by arrival (nanoseconds, then a sequence number), read oldest first."""

    def __init__(self, directory: Path, *, limit: int = MAX_SPOOLED) -> None:
        self.directory = directory / "queue"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.limit = limit
        self._lock = threading.Lock()
        self._seq = 0
        self._count = len(self.pending())
        self._clean_temps()

    def _clean_temps(self) -> None:
        for entry in self.directory.iterdir():
            if entry.name.startswith("."):
                try:
                    entry.unlink()
                except OSError:
                    pass

    @property
    def depth(self) -> int:
        return self._count

    def put(self, payload: dict[str, Any]) -> Path:
        with self._lock:
            if self._count >= self.limit:
                raise SpoolFull()
            self._seq += 1
            name = f"{time.time_ns():020d}-{os.getpid()}-{self._seq:06d}.json"
            self._count += 1
        path = self.directory / name
        try:
            write_json(path, payload)
        except BaseException:
            with self._lock:
                self._count -= 1
            raise
        return path

    def pending(self) -> list[Path]:
        return sorted(p for p in self.directory.iterdir() if p.suffix == ".json" and not p.name.startswith("."))

    def entries(self) -> Iterator[tuple[Path, Any]]:
        for path in self.pending():
            try:
                yield path, read_json(path)
            except (OSError, ValueError):
                # Written atomically by us, so unreadable means damaged: keep it aside, do not loop on it.
                try:
                    path.rename(path.with_suffix(".bad"))
                except OSError:
                    pass

    def done(self, path: Path) -> None:
        try:
            path.unlink()
        except FileNotFoundError:
            return
        with self._lock:
            self._count = max(0, self._count - 1)
        sync_dir(self.directory)
