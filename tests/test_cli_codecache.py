"""The dataclass method cache of the process entry point (triage/cli/codecache.py, issue 17):
classes built through it are the same classes, the kept table is read back by the next process,
and a cache file that is odd in any way is a cold start, never an error."""

from __future__ import annotations

import builtins
import dataclasses
import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest

from triage import usercache
from triage.cli import codecache


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(codecache, "_table", {})
    monkeypatch.setattr(codecache, "_used", set())
    monkeypatch.setattr(codecache, "_added", False)
    monkeypatch.setattr(codecache, "_installed", False)
    # install() sets dataclasses.exec; starting from the builtin (the same behaviour) lets the undo remove it
    monkeypatch.setattr(dataclasses, "exec", builtins.exec, raising=False)
    return Path(codecache.cache_file())


def _make() -> type:
    @dataclasses.dataclass(frozen=True)
    class Probe:
        name: str
        value: float | None = None
        tags: tuple[str, ...] = ()

    return Probe


def test_a_class_built_through_the_table_is_the_same_class(fresh: Path) -> None:
    plain = _make()
    codecache.install()
    cached = _make()
    assert codecache._table, "the class's methods went through the table"
    a, b = plain("x", 1.0, ("t",)), cached("x", 1.0, ("t",))
    assert repr(a) == repr(b)
    assert cached("x", 1.0, ("t",)) == b and hash(cached("x", 1.0, ("t",))) == hash(b)
    assert cached("x") != cached("y")
    with pytest.raises(dataclasses.FrozenInstanceError):
        b.name = "y"  # type: ignore[misc]
    with pytest.raises(TypeError):
        cached()  # type: ignore[call-arg]


def test_the_table_is_kept_private_and_read_back(fresh: Path) -> None:
    codecache.install()
    _make()
    codecache.save()
    assert fresh.is_file()
    assert fresh.stat().st_mode & 0o777 == 0o600
    assert fresh.parent.stat().st_mode & 0o777 == 0o700
    again = codecache._read()
    assert set(again) == set(codecache._table)
    assert all(again[k].co_code == codecache._table[k].co_code for k in again)


def test_nothing_new_writes_nothing(fresh: Path) -> None:
    codecache.install()
    codecache.save()
    assert not fresh.exists()


@pytest.mark.parametrize("content", [
    b"", b"garbage", marshal.dumps((usercache.FORMAT, codecache._KEY, b"\x00\x01"))[:-3],
    marshal.dumps((usercache.FORMAT, codecache._KEY, [])),
    marshal.dumps((usercache.FORMAT, ("another interpreter",), {})),
    marshal.dumps((usercache.FORMAT, codecache._KEY, {1: "not code", "src": "not code"}))])
def test_an_odd_file_is_a_cold_start(fresh: Path, content: bytes) -> None:
    fresh.parent.mkdir(parents=True)
    fresh.write_bytes(content)
    assert codecache._read() == {}
    codecache.install()
    assert _make()("x").name == "x"


def test_a_file_others_can_write_is_not_read(fresh: Path) -> None:
    codecache.install()
    _make()
    codecache.save()
    assert codecache._read()
    fresh.chmod(0o622)
    assert codecache._read() == {}


def test_a_symlink_is_not_followed(fresh: Path, tmp_path: Path) -> None:
    codecache.install()
    _make()
    codecache.save()
    real = tmp_path / "elsewhere.marshal"
    fresh.rename(real)
    fresh.symlink_to(real)
    assert codecache._read() == {}


def test_an_unwritable_cache_is_silent(fresh: Path) -> None:
    fresh.parent.parent.mkdir(parents=True)
    fresh.parent.parent.joinpath("triage").write_text("a file where the directory would be")
    codecache.install()
    _make()
    codecache.save()  # no exception, nothing printed
    assert not fresh.exists()


def test_the_entry_point_keeps_the_table_and_the_next_run_says_the_same(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "HOME": str(tmp_path)}
    argv = [sys.executable, "-m", "triage", "queries", "list", "-o", "json"]
    first = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    kept = Path(tmp_path / "cache" / "triage" / f"dataclass-code-{sys.implementation.cache_tag}.marshal")
    assert kept.is_file(), first.stderr
    before = kept.stat().st_mtime_ns
    second = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert (second.returncode, second.stdout, second.stderr) == (first.returncode, first.stdout, first.stderr)
    assert first.returncode == 0 and first.stdout
    assert kept.stat().st_mtime_ns == before, "a warm run compiles nothing new and writes nothing"


def test_dataclasses_imports_inspect_and_copy_when_it_first_uses_them() -> None:
    """install() leaves `inspect` and `copy` to dataclasses' first use of them: a class with a
    docstring needs neither, one without gets the same signature doc, asdict the same deep copy."""
    code = (
        "import sys\nfrom triage.cli import codecache\ncodecache.install()\nimport dataclasses\n"
        "print('inspect' in sys.modules, 'copy' in sys.modules)\n"
        "@dataclasses.dataclass(frozen=True)\nclass Doc:\n    '''Said.'''\n    a: int\n    b: tuple = ()\n"
        "print(Doc.__doc__, 'inspect' in sys.modules)\n"
        "@dataclasses.dataclass\nclass Bare:\n    a: int\n    b: 'list[int]'\n"
        "print(Bare.__doc__, 'inspect' in sys.modules)\n"
        "x = Bare(1, [2])\ny = dataclasses.asdict(x)\nprint(y, y['b'] is not x.b, 'copy' in sys.modules)\n"
        "import inspect, copy\nprint(inspect.signature is not None, copy.deepcopy([1]) == [1])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.stdout.splitlines() == [
        "False False",
        "Said. False",
        "Bare(a: int, b: 'list[int]') True",
        "{'a': 1, 'b': [2]} True True",
        "True True",
    ], out.stderr


def test_the_methods_annotations_are_what_dataclasses_makes(fresh: Path) -> None:
    """Compiled here without this module's `from __future__ import annotations`: `__init__`'s
    annotations are the fields' types, not the names of dataclasses' locals ('_type_name')."""
    plain = _make()
    codecache.install()
    cached = _make()
    assert cached.__init__.__annotations__ == plain.__init__.__annotations__
    assert cached.__init__.__annotations__["return"] is None
