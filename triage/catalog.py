"""The bundled content (queries, playbooks, templates), with the user's directories first.

Bundled files live top-level in the checkout and inside the wheel under
`triage/_bundled/`; both layouts are found the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from triage.errors import ConfigError
from triage.models import (
    EXTRA_SIGNALS,
    SIGNAL_NAMES,
    QueryAlternative,
    SignalSpec,
    Threshold,
)
from triage.yamlschema import AnyMapOf, Choice, Field, ListOf, load_file

KEY_LABELS = ("service", "container", "deployment", "horizontalpodautoscaler", "datname", "database")
AGGREGATES = ("max", "median", "last", "increase", "peak")


def bundled_dir(kind: str) -> Path:
    """`queries`, `playbooks` or `templates` as shipped: inside the wheel, else the checkout."""
    try:
        packaged = resources.files("triage") / "_bundled" / kind
        if packaged.is_dir():
            return Path(str(packaged))
    except (ModuleNotFoundError, FileNotFoundError):
        pass
    return Path(__file__).resolve().parent.parent / kind


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
    signals: Mapping[str, SignalSpec]
    origins: Mapping[str, Path]

    def spec(self, name: str) -> SignalSpec:
        return self.signals[name]


def load_catalog(user_dirs: Iterable[Path] = ()) -> Catalog:
    """Every signal of CONTRACT.md; a user directory's definition of a signal wins."""
    signals: dict[str, SignalSpec] = {}
    origins: dict[str, Path] = {}
    for directory in search_dirs("queries", user_dirs):
        if not directory.is_dir():
            if directory != bundled_dir("queries"):
                raise ConfigError(f"{directory}: queries directory not found")
            continue
        for path in sorted(directory.glob("*.yaml")):
            data, _ = load_file(path, QUERY_SCHEMA)
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
