"""Whether `triage rules`' recorded series can stand in for the raw queries of a fleet pass.

One request per pass: the info series of the rules (a few dozen series, one per record) over
the pass's own range and step. A record is used when its info series says it was made from the
very query this triage would send (same catalog, same rate interval) and was evaluated over the
whole pass, baseline included; anything else (no rules, a failed request, an older catalog,
rules started after the baseline began) leaves the raw queries in place.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Sequence

from triage.catalog import Catalog, with_recorded
from triage.errors import SourceError, UsageError
from triage.models import RangeQuery, Series
from triage.recording.rules import INFO_METRIC, prom_duration, recorded_for
from triage.sources.interface import MetricsSource

PROBE_QUERY = INFO_METRIC
# The info series' answer per source and range: `run` (detect, then rca on the same window)
# asks once. Weak keys: the answer goes with the source.
_ASKED: weakref.WeakKeyDictionary[object, dict[tuple[float, float, float], list[Series] | SourceError]] = \
    weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _covers(points: Sequence[tuple[float, float]], start: float, end: float, step: float) -> bool:
    """Evaluated at the pass's first and last step, with no step missing in between."""
    stamps = [t for t, v in points if math.isfinite(v)]
    if not stamps or stamps[0] > start + step / 2 or stamps[-1] < end - step * 1.5:
        return False
    return all(b - a <= step * 1.5 for a, b in zip(stamps, stamps[1:]))


def expected_hashes(catalog: Catalog, rate_interval: str) -> dict[tuple[str, str], str]:
    """(signal, key) → the hash of the rule this catalog would write at this rate interval."""
    try:
        rate = prom_duration(rate_interval, what="rate interval")
    except UsageError:
        return {}
    out = {}
    for name, spec in catalog.signals.items():
        for rec in recorded_for(spec, rate):
            out[(name, rec.key)] = rec.query_hash
    return out


def usable_records(answer: Sequence[Series], catalog: Catalog, rate_interval: str, start: float, end: float,
                   step: float) -> dict[str, dict[str, str]]:
    """signal → {key: record name} for the info series that pass the checks."""
    expected = expected_hashes(catalog, rate_interval)
    found: dict[str, dict[str, str]] = {}
    for item in sorted(answer, key=lambda s: s.labels.get("record", "")):
        labels = item.labels
        signal, key, record = labels.get("signal", ""), labels.get("key", ""), labels.get("record", "")
        if not record or expected.get((signal, key)) != labels.get("query_hash"):
            continue
        if key in found.get(signal, {}) or not _covers(item.points, start, end, step):
            continue
        found.setdefault(signal, {})[key] = record
    return found


def prefer_recorded(source: MetricsSource, catalog: Catalog, rate_interval: str, start: float, end: float,
                    step: float) -> Catalog:
    """The catalog a fleet pass should use: recorded series first where they hold the pass."""
    answer = _ask(source, start, end, step)
    if isinstance(answer, SourceError):
        return catalog
    records = usable_records(answer, catalog, rate_interval, start, end, step)
    return with_recorded(catalog, records) if records else catalog


def _ask(source: MetricsSource, start: float, end: float, step: float) -> list[Series] | SourceError:
    try:
        with _LOCK:
            cached = _ASKED.get(source, {}).get((start, end, step))
    except TypeError:  # a source that cannot be weakly referenced: ask every time
        cached = None
    if cached is not None:
        return cached
    answer = source.query_range_many([RangeQuery(PROBE_QUERY, start, end, step)])[0]
    try:
        with _LOCK:
            _ASKED.setdefault(source, {})[(start, end, step)] = answer
    except TypeError:
        pass
    return answer
