"""The query catalog kept in the user's cache (issue 17): a warm run rebuilds the very catalog a
parse gives, without yaml; any change to a file read, and anything wrong with the cache, means
parsing again, with the same errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from triage import catalog as catalog_module
from triage import usercache
from triage.catalog import CACHE_FILE, load_catalog
from triage.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
OLD_NS = 1_600_000_000 * 10**9  # a file last changed long ago: settled, so what is made of it is kept

SIGNAL = """\
signals:
  latency_p95:
    unit: s
    description: {description}
    queries:
      - key: service
        query: 'histogram_quantile(0.95, sum by (service, le) (rate(svc_bucket{{service=~"$service_re"}}[$rate])))'
"""


@pytest.fixture
def parses(monkeypatch):
    """How many catalog files were parsed since the fixture started."""
    calls: list[Path] = []
    real = catalog_module.yamlschema.load_file

    def counting(path, schema):
        calls.append(path)
        return real(path, schema)

    monkeypatch.setattr(catalog_module.yamlschema, "load_file", counting)
    return calls


def _cache() -> Path:
    return Path(os.environ["XDG_CACHE_HOME"]) / "triage" / CACHE_FILE


def _user_file(directory: Path, name: str, description: str, mtime_ns: int = OLD_NS) -> Path:
    path = directory / name
    path.write_text(SIGNAL.format(description=description))
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def _same(a, b) -> None:
    assert a == b
    assert list(a.signals) == list(b.signals)
    assert list(a.origins) == list(b.origins)


def test_a_warm_cache_gives_the_catalog_a_parse_gives_and_parses_nothing(parses):
    cold = load_catalog()
    assert parses and _cache().is_file()
    assert _cache().stat().st_mode & 0o777 == 0o600
    assert _cache().parent.stat().st_mode & 0o777 == 0o700
    parses.clear()
    warm = load_catalog()
    assert parses == []
    _same(warm, cold)
    assert all(type(s.threshold.warning) in (float, type(None)) for s in warm.signals.values())


def test_a_user_directory_is_kept_too(tmp_path, parses):
    _user_file(tmp_path, "mine.yaml", "ours")
    cold = load_catalog([tmp_path])
    parses.clear()
    warm = load_catalog([tmp_path])
    assert parses == []
    _same(warm, cold)
    assert warm.spec("latency_p95").description == "ours"
    assert warm.origins["latency_p95"] == tmp_path / "mine.yaml"


def test_a_user_file_edited_to_the_same_size_is_seen(tmp_path):
    path = _user_file(tmp_path, "mine.yaml", "ours")
    assert load_catalog([tmp_path]).spec("latency_p95").description == "ours"
    _user_file(tmp_path, "mine.yaml", "mine", mtime_ns=OLD_NS + 10**9)
    assert path.stat().st_size == len(SIGNAL.format(description="ours"))
    assert load_catalog([tmp_path]).spec("latency_p95").description == "mine"


def test_a_file_just_written_is_not_kept(tmp_path, parses):
    """Two same-sized edits within one timestamp tick look alike: what a fresh file gave is not kept."""
    _user_file(tmp_path, "mine.yaml", "ours", mtime_ns=time.time_ns())
    load_catalog([tmp_path])
    parses.clear()
    load_catalog([tmp_path])
    assert parses


def test_a_file_added_or_removed_is_seen(tmp_path):
    load_catalog([tmp_path])
    _user_file(tmp_path, "mine.yaml", "ours")
    assert load_catalog([tmp_path]).spec("latency_p95").description == "ours"
    (tmp_path / "mine.yaml").unlink()
    assert load_catalog([tmp_path]).spec("latency_p95").description != "ours"


def test_a_broken_user_file_gives_the_same_error_warm_or_cold(tmp_path):
    path = _user_file(tmp_path, "mine.yaml", "ours")
    load_catalog([tmp_path])
    path.write_text(SIGNAL.format(description="ours").replace("    unit: s\n", "    unitt: s\n"))
    os.utime(path, ns=(OLD_NS + 10**9, OLD_NS + 10**9))
    with pytest.raises(ConfigError) as warm:
        load_catalog([tmp_path])
    _cache().unlink()
    with pytest.raises(ConfigError) as cold:
        load_catalog([tmp_path])
    assert warm.value.message == cold.value.message
    assert f"{path}:3: unknown key 'signals.latency_p95.unitt'" in cold.value.message


@pytest.mark.parametrize("content", [
    b"", b"\x00garbage", b"not marshal at all\n" * 50,
    b"truncated",  # replaced below by a real file cut short
    b"other",  # replaced below by another format's file
    b"wrong",  # replaced below by the right key holding the wrong types
])
def test_a_broken_cache_file_is_ignored(content, parses, capsys):
    expected = load_catalog()
    good = _cache().read_bytes()
    if content == b"truncated":
        content = good[: len(good) // 2]
    elif content == b"other":
        import marshal

        kept = marshal.loads(good)
        content = marshal.dumps((kept[0] + 1, kept[1], kept[2]))
    elif content == b"wrong":
        import marshal

        kept = marshal.loads(good)
        rows, origins = kept[2]
        content = marshal.dumps((kept[0], kept[1], ([(*rows[0][:5], 1, *rows[0][6:])] + rows[1:], origins)))
    _cache().write_bytes(content)
    parses.clear()
    _same(load_catalog(), expected)
    assert parses
    assert capsys.readouterr() == ("", "")


def test_a_directory_in_place_of_the_cache_file(parses, capsys):
    _cache().parent.mkdir(parents=True)
    _cache().mkdir()
    expected = load_catalog()
    assert parses and _cache().is_dir()
    parses.clear()
    _same(load_catalog(), expected)
    assert parses
    assert capsys.readouterr() == ("", "")


def test_an_unwritable_cache_dir_still_loads(tmp_path, monkeypatch, capsys):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))  # ~/.cache is a file: nothing can be made under it
    first = load_catalog()
    assert load_catalog() == first
    read_only = tmp_path / "ro"
    read_only.mkdir()
    read_only.chmod(0o500)
    monkeypatch.setenv("XDG_CACHE_HOME", str(read_only))
    assert load_catalog() == first
    assert capsys.readouterr() == ("", "")


def test_the_helpcache_and_the_catalog_share_one_directory(monkeypatch, tmp_path):
    from triage.cli import helpcache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert helpcache.cache_file("rca") == str(tmp_path / "triage" / "help-rca.txt")
    assert usercache.cache_dir() == str(tmp_path / "triage")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert helpcache.cache_file() == os.path.join(os.path.expanduser("~"), ".cache", "triage", "help.txt")


CHILD = """
import sys
from triage.catalog import load_catalog
from triage.config import load_settings
settings = load_settings()
catalog = load_catalog(settings.queries_dirs)
print(len(catalog.signals), 'yaml' in sys.modules)
"""


def test_a_warm_cache_and_no_config_import_no_yaml(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env["PYTHONPATH"] = str(ROOT)
    run = [sys.executable, "-c", CHILD]
    cold = subprocess.run(run, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60, check=True)
    warm = subprocess.run(run, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60, check=True)
    count = str(len(load_catalog().signals))
    assert cold.stdout.split() == [count, "True"]
    assert warm.stdout.split() == [count, "False"]
