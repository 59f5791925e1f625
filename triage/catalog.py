"""The bundled content (queries, playbooks, templates), with the user's directories first.

Bundled files live top-level in the checkout and inside the wheel under
`triage/_bundled/`; both layouts are found the same way.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from importlib.machinery import SourceFileLoader, SourcelessFileLoader
from pathlib import Path
from typing import Any

from triage import __version__, usercache, yamlschema
from triage.errors import ConfigError
from triage.models import (
    EXTRA_SIGNALS,
    SIGNAL_NAMES,
    QueryAlternative,
    SignalSpec,
    Threshold,
)
from triage.models import signals as signals_module
from triage.yamlschema import AnyMapOf, Choice, Field, ListOf

KEY_LABELS = ("service", "container", "deployment", "horizontalpodautoscaler", "datname", "database")
AGGREGATES = ("max", "median", "last", "increase", "peak")


def bundled_dir(kind: str) -> Path:
    """`queries`, `playbooks` or `templates` as shipped: inside the wheel, else the checkout."""
    try:
        packaged = _package_files() / "_bundled" / kind
        if packaged.is_dir():
            return Path(str(packaged))
    except (ModuleNotFoundError, FileNotFoundError):
        pass
    return Path(__file__).resolve().parent.parent / kind


def _package_files() -> Any:
    """`importlib.resources.files("triage")`. For a package imported from files (a wheel installed,
    a checkout) that is the directory of its `__init__`, which is what importlib's own file reader
    answers; `importlib.resources` (tempfile, shutil, random, zipfile: ~6 ms of an `rca`'s start-up;
    issue 17) is imported only for another loader (a zip, a custom importer)."""
    import triage

    loader = getattr(triage.__spec__, "loader", None)
    if type(loader) in (SourceFileLoader, SourcelessFileLoader):
        return Path(loader.path).parent  # type: ignore[union-attr]
    from importlib import resources

    return resources.files("triage")


def search_dirs(kind: str, user_dirs: Iterable[Path] = ()) -> list[Path]:
    return [*user_dirs, bundled_dir(kind)]


def _check_signal(name: str) -> str | None:
    known = SIGNAL_NAMES + EXTRA_SIGNALS
    return None if name in known else f"unknown signal (known: {', '.join(known)})"


QUERY_SCHEMA = {
    "signals": Field(AnyMapOf({
        "unit": Field(str, required=True),
        "description": Field(str, required=True),
        "golden": Field(Choice("traffic", "errors", "latency", "saturation")),
        "aggregate": Field(Choice(*AGGREGATES)),
        "thresholds": Field({
            "warning": Field(float),
            "critical": Field(float),
            "direction": Field(Choice("above", "below")),
            "source": Field(str),
        }),
        "queries": Field(ListOf({
            "query": Field(str, required=True),
            "key": Field(Choice(*KEY_LABELS)),
            "family": Field(str),
            "description": Field(str),
        }), required=True),
    }, key_check=_check_signal), required=True),
}


@dataclass(frozen=True)
class Catalog:
    """The signals of the query catalog by name, and the file each came from (for messages)."""

    signals: Mapping[str, SignalSpec]
    origins: Mapping[str, Path]

    def spec(self, name: str) -> SignalSpec:
        return self.signals[name]


def load_catalog(user_dirs: Iterable[Path] = ()) -> Catalog:
    """Every signal of CONTRACT.md; a user directory's definition of a signal wins.

    The catalog validated from the same files (bundled and the user's, see `_files`) by the same
    triage and Python is kept in the user's cache (triage/usercache.py) and rebuilt from it, so a
    run whose files did not change parses no YAML, nor imports yaml (issue 17). Only a catalog that
    loaded is kept: a file with an error is parsed, and its error raised, on every run."""
    files = _files(user_dirs)
    key, newest = _key(files)
    if key is not None:
        cached = _from_plain(usercache.read(CACHE_FILE, key))
        if cached is not None:
            return cached
    catalog = _parse(files)
    if key is not None and usercache.settled(newest):
        usercache.write(CACHE_FILE, key, _to_plain(catalog))
    return catalog


CACHE_FILE = "catalog.marshal"
# the code that turns the files into a catalog: a checkout edited without a new version is a new key
_CODE = (__file__, signals_module.__file__, yamlschema.__file__)


def _files(user_dirs: Iterable[Path]) -> list[tuple[Path, list[Path]]]:
    """The directories to read, first wins, each with its `*.yaml` files in order (what
    `sorted(directory.glob("*.yaml"))` gives, in one listing that the cache's key also names)."""
    found: list[tuple[Path, list[Path]]] = []
    bundled = bundled_dir("queries")
    for directory in search_dirs("queries", user_dirs):
        if not directory.is_dir():
            if directory != bundled:
                raise ConfigError(f"{directory}: queries directory not found")
            continue
        try:
            with os.scandir(directory) as entries:
                names = sorted(e.name for e in entries if e.name.endswith(".yaml"))
        except PermissionError:  # as pathlib's glob: a directory that cannot be listed has no files
            names = []
        found.append((directory, [directory / name for name in names]))
    return found


def _key(files: list[tuple[Path, list[Path]]]) -> tuple[tuple[Any, ...] | None, int]:
    """What a kept catalog must have been made of (None when it cannot be told: no cache), and
    the newest mtime of the files it names."""
    try:
        code = tuple(usercache.stamp(path) for path in _CODE)
        dirs = tuple((str(directory), os.path.realpath(directory),
                      tuple((path.name, *usercache.stamp(str(path))) for path in paths))
                     for directory, paths in files)
    except (OSError, ValueError):
        return None, 0
    newest = max([stamp[2] for stamp in code] + [stamp[3] for _, _, stamps in dirs for stamp in stamps])
    return (__version__, sys.version, code, dirs), newest


def _parse(files: list[tuple[Path, list[Path]]]) -> Catalog:
    signals: dict[str, SignalSpec] = {}
    origins: dict[str, Path] = {}
    for _, paths in files:
        for path in paths:
            data, _ = yamlschema.load_file(path, QUERY_SCHEMA)
            for name, raw in data["signals"].items():
                if name in signals:
                    if origins[name].parent == path.parent:
                        raise ConfigError(f"{path}: signal '{name}' is also defined in {origins[name]}")
                    continue
                if not raw["queries"]:
                    raise ConfigError(f"{path}: signal '{name}' has no queries")
                th = raw.get("thresholds") or {}
                signals[name] = SignalSpec(
                    name=name,
                    unit=raw["unit"],
                    description=raw["description"],
                    golden=raw.get("golden"),
                    aggregate=raw.get("aggregate", "max"),
                    threshold=Threshold(
                        warning=th.get("warning"),
                        critical=th.get("critical"),
                        direction=th.get("direction", "above"),
                        source=th.get("source", ""),
                    ),
                    alternatives=tuple(
                        QueryAlternative(
                            query=" ".join(q["query"].split()),
                            key=q.get("key", "service"),
                            family=q.get("family", ""),
                            description=q.get("description", ""),
                        )
                        for q in raw["queries"]
                    ),
                )
                origins[name] = path
    missing = [n for n in SIGNAL_NAMES + EXTRA_SIGNALS if n not in signals]
    if missing:
        raise ConfigError(f"query catalog is missing signals: {', '.join(missing)}")
    ordered = {n: signals[n] for n in SIGNAL_NAMES + EXTRA_SIGNALS}
    ordered.update({n: s for n, s in signals.items() if n not in ordered})
    return Catalog(signals=ordered, origins=origins)


def _to_plain(catalog: Catalog) -> tuple[Any, ...]:
    """The catalog as plain data for marshal: a row per signal (in order), then the origins."""
    return (
        [(s.name, s.unit, s.description, s.golden, s.aggregate, s.threshold.warning, s.threshold.critical,
          s.threshold.direction, s.threshold.source,
          [(a.query, a.key, a.family, a.description) for a in s.alternatives])
         for s in catalog.signals.values()],
        [(name, str(path)) for name, path in catalog.origins.items()],
    )


def _from_plain(plain: object) -> Catalog | None:
    """The catalog `_to_plain` gave, each value's type checked first; None for anything else."""
    rows: Any
    origin_rows: Any
    try:
        rows, origin_rows = plain  # type: ignore[misc]
        if type(rows) is not list or type(origin_rows) is not list:
            return None
        signals: dict[str, SignalSpec] = {}
        for row in rows:
            name, unit, description, golden, aggregate, warning, critical, direction, source, alts = row
            if not (_all(str, name, unit, description, aggregate, direction, source)
                    and (golden is None or type(golden) is str)
                    and all(v is None or type(v) is float for v in (warning, critical))
                    and type(alts) is list and alts
                    and all(type(a) is tuple and len(a) == 4 and _all(str, *a) for a in alts)):
                return None
            signals[name] = SignalSpec(
                name=name, unit=unit, description=description, golden=golden, aggregate=aggregate,
                threshold=Threshold(warning=warning, critical=critical, direction=direction, source=source),
                alternatives=tuple(QueryAlternative(query=q, key=k, family=f, description=d) for q, k, f, d in alts))
        origins: dict[str, Path] = {}
        for name, path in origin_rows:
            if not _all(str, name, path) or name not in signals:
                return None
            origins[name] = Path(path)
    except (TypeError, ValueError):  # not a pair, a row of another length, a value not iterable
        return None
    if len(origins) != len(signals) or any(n not in signals for n in SIGNAL_NAMES + EXTRA_SIGNALS):
        return None
    return Catalog(signals=signals, origins=origins)


def _all(kind: type, *values: object) -> bool:
    return all(type(v) is kind for v in values)


RECORDED_FAMILY = "recorded"


def with_recorded(catalog: Catalog, records: Mapping[str, Mapping[str, str]]) -> Catalog:
    """The catalog with recorded series in place of the alternatives they were recorded from.

    `records` maps a signal to {key label: record name}. A record holds every built-in
    alternative of its signal that groups by that key (joined in catalog order, see
    triage/recording), so it takes the place of the first of them and the others go: a service
    absent from the record is absent from them too, and asking them again would cost the
    backend the whole raw pass for nothing. Alternatives of other keys keep their order."""
    signals: dict[str, SignalSpec] = {}
    for name, spec in catalog.signals.items():
        chosen = records.get(name)
        if not chosen:
            signals[name] = spec
            continue
        alternatives: list[QueryAlternative] = []
        placed: set[str] = set()
        for alt in spec.alternatives:
            record = chosen.get(alt.key)
            if record is None:
                alternatives.append(alt)
            elif alt.key not in placed:
                placed.add(alt.key)
                families = sorted({a.family for a in spec.alternatives if a.key == alt.key and a.family})
                alternatives.append(QueryAlternative(
                    query=record, key=alt.key, family=RECORDED_FAMILY,
                    description=f"recorded by `triage rules` from {', '.join(families) or 'the catalog'}"))
        signals[name] = replace(spec, alternatives=tuple(alternatives))
    return Catalog(signals=signals, origins=catalog.origins)
