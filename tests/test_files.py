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


def test_replace_file_replaces_whole_and_follows_the_umask_or_the_mode(tmp_path):
    target = tmp_path / "state.json"
    target.write_text("old")
    old = os.umask(0o027)
    try:
        files.replace_file(target, '{"new": "é"}')
        assert target.read_text(encoding="utf-8") == '{"new": "é"}'
        assert target.stat().st_mode & 0o777 == 0o640
        files.replace_file(target, b"private", mode=0o600)
    finally:
        os.umask(old)
    assert target.read_bytes() == b"private" and target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temp file left


def test_replace_file_lets_the_oserror_through_where_write_files_says_one_line(tmp_path):
    """The spool answers 503 to the raw OSError; a command's writer says one line (WriteError)."""
    (tmp_path / "in-the-way").mkdir()
    for path, error in ((tmp_path / "in-the-way", IsADirectoryError), (tmp_path / "no" / "x", FileNotFoundError)):
        try:
            files.replace_file(path, b"data")
        except OSError as exc:
            assert isinstance(exc, error) and not isinstance(exc, files.WriteError)
        else:
            raise AssertionError(f"{path}: no OSError")
    assert [p.name for p in tmp_path.iterdir()] == ["in-the-way"]
    assert list((tmp_path / "in-the-way").iterdir()) == []
    try:
        files.write_files([(tmp_path / "in-the-way", "data")], force=True)
    except files.WriteError as exc:
        assert "is a directory" in exc.message
    else:
        raise AssertionError("write_files did not refuse a directory")
