"""triage/files.py: the writer of files a user keeps (the rest of its cells are in
tests/test_incident.py and tests/faults/test_write_race_faults.py)."""

from __future__ import annotations

import os
from pathlib import Path

import triage.files as files


def test_a_directory_another_writer_makes_between_two_looks_is_used(tmp_path, monkeypatch):
    """Two `triage run`s creating the same --out directory: the one that finds it made a moment
    after it looked uses it (it used to say "exists and is not a directory")."""
    target = tmp_path / "out"
    real_isdir = os.path.isdir
    looked: list[str] = []

    def isdir(path: object) -> bool:
        if Path(str(path)) == target and not looked:
            looked.append(str(path))
            os.mkdir(target)  # the other writer, between this writer's two looks
            return False
        return real_isdir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(files.os.path, "isdir", isdir)
    assert files.make_dirs(target) == []
    assert looked and target.is_dir()


def test_a_file_in_the_way_is_still_refused(tmp_path):
    (tmp_path / "out").write_text("mine")
    try:
        files.make_dirs(tmp_path / "out" / "sub")
    except files.WriteError as exc:
        assert "exists and is not a directory" in exc.message
    else:
        raise AssertionError("a file in the way was not refused")
