"""The receiver's spool writes with triage/files.py's atomic writer: private files, and the
OSError of a full disk reaches the receiver itself (it answers 503) with nothing left behind."""

from __future__ import annotations

import errno
import os

import pytest

import triage.files as files
from triage.serve.spool import Spool, write_json


def test_a_spooled_notification_is_whole_and_private(tmp_path):
    spool = Spool(tmp_path)
    path = spool.put({"received": 1.0, "notification": {"alerts": []}})
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p for p, _ in spool.entries()] == [path] and spool.depth == 1
    assert [p.name for p in spool.directory.iterdir()] == [path.name]


def test_a_full_disk_is_the_raw_oserror_and_leaves_no_file(tmp_path, monkeypatch):
    spool = Spool(tmp_path)
    spool.put({"n": 1})

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    with pytest.raises(OSError) as caught:
        spool.put({"n": 2})
    assert caught.value.errno == errno.ENOSPC
    assert spool.depth == 1 and len(os.listdir(spool.directory)) == 1  # no temp file, no count leaked
    with pytest.raises(OSError) as caught:  # an incident's state, a directory sink: the same writer
        write_json(tmp_path / "state.json", {"x": 1})
    assert caught.value.errno == errno.ENOSPC
    assert sorted(p.name for p in tmp_path.iterdir()) == ["queue"]
