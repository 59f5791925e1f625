"""The catalog's fleet queries as Prometheus recording rules (`triage rules`).

One rule per signal and key label: the signal's built-in alternatives that group by the same
label, joined with `or on (<key>)` in catalog order, so each service keeps the first alternative
that answers for it, as the fleet pass would pick. The rate interval is fixed in the rule and
named in the record (`service:triage_latency_p95:1m`, Prometheus' level:metric:operations).

Beside each record, an info series (`triage_recording_rule_info`, `vector(1)` with labels) in
the same group, evaluated right after it: it says which signal and key the record holds, and a
hash of the exact expression. The fleet pass reads those few series first and uses a record only
when its hash is the query this triage would send and the info series covers the whole pass;
`vector(1)` (not a query of the record) so that rule backfills (`promtool tsdb create-blocks-from
rules`, `vmalert -replay`) write it too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from triage import __version__
from triage.catalog import Catalog
from triage.errors import UsageError
from triage.models import SignalSpec
from triage.promql import render
from triage.timeutil import parse_duration

INFO_METRIC = "triage_recording_rule_info"
DEFAULT_PREFIX = "triage_"
DEFAULT_INTERVAL = "30s"
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_PREFIX = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
# Fleet placeholders: every service (the recorded series are read for the whole fleet only).
_FLEET = {"service_re": ".+", "container_re": ".+", "deployment_re": ".+", "hpa_re": ".+",
          "database_re": ".+", "namespace_re": ".+"}


@dataclass(frozen=True)
class Recorded:
    """One recording rule: what it records, for which signal and key label, from which query."""

    signal: str
    key: str
    record: str
    expr: str
    rate: str | None  # None: no alternative of the group uses the rate interval

    @property
    def query_hash(self) -> str:
        return expr_hash(self.expr)


def expr_hash(expr: str) -> str:
    import hashlib  # only when rules are written or read back (~4 ms of every rca's start-up otherwise)

    return hashlib.sha256(" ".join(expr.split()).encode()).hexdigest()[:16]


def prom_duration(text: str, *, what: str) -> str:
    """A duration as Prometheus writes it (`90s` → `1m30s`): rule files and range selectors take
    no decimals and no bare numbers."""
    seconds = parse_duration(text, what=what).total_seconds()
    millis = round(seconds * 1000)
    if millis % 1000:
        return f"{millis}ms"
    left = millis // 1000
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if left >= size:
            out += f"{left // size}{unit}"
            left %= size
    return out or "0s"


def _groups_by_key(spec: SignalSpec) -> dict[str, list[str]]:
    """The signal's alternatives by key label, in the order the catalog first names each key."""
    by_key: dict[str, list[str]] = {}
    for alt in spec.alternatives:
        by_key.setdefault(alt.key, []).append(alt.query)
    return by_key


def recorded_for(spec: SignalSpec, rate: str, prefix: str = DEFAULT_PREFIX) -> list[Recorded]:
    """The recording rules of one signal at rate interval `rate` (already a Prometheus duration)."""
    out = []
    for key, queries in _groups_by_key(spec).items():
        rendered = [render(q, {**_FLEET, "rate": rate}) for q in queries]
        expr = rendered[0] if len(rendered) == 1 else f" or on ({key}) ".join(f"({q})" for q in rendered)
        uses_rate = any("$rate" in q for q in queries)
        record = f"{key}:{prefix}{spec.name}" + (f":{rate}" if uses_rate else "")
        if not _NAME.fullmatch(record):
            raise UsageError(f"--prefix {prefix!r}: {record!r} is not a valid metric name")
        out.append(Recorded(signal=spec.name, key=key, record=record, expr=expr, rate=rate if uses_rate else None))
    return out


def choose_signals(catalog: Catalog, wanted: Sequence[str] | None) -> list[str]:
    names = list(catalog.signals)
    if not wanted:
        return names
    unknown = [w for w in wanted if w not in catalog.signals]
    if unknown:
        raise UsageError(f"--signal {unknown[0]}: no such signal (known: {', '.join(names)})")
    return [n for n in names if n in set(wanted)]


def _rules_of(items: Iterable[Recorded]) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for r in items:
        rules.append({"record": r.record, "expr": r.expr})
        labels = {"signal": r.signal, "key": r.key, "record": r.record, "query_hash": r.query_hash}
        if r.rate:
            labels["rate"] = r.rate
        rules.append({"record": INFO_METRIC, "expr": "vector(1)", "labels": labels})
    return rules


def rules_document(catalog: Catalog, *, rate: str, interval: str = DEFAULT_INTERVAL,
                   signals: Sequence[str] | None = None, prefix: str = DEFAULT_PREFIX,
                   per_signal: bool = False) -> dict[str, Any]:
    """`groups:` of a standard rule file. One group by default: a ruler evaluates a group's rules at
    one timestamp, so every signal is recorded at the same instants and which one moved first is
    what the raw series say; `per_signal` gives a group each, evaluated in parallel (each at its own
    offset within the interval) for a fleet whose rules take longer together than the interval."""
    if not _PREFIX.fullmatch(prefix):
        raise UsageError(f"--prefix {prefix!r}: letters, digits and _ only, not starting with a digit")
    rate_p = prom_duration(rate, what="--rate")
    interval_p = prom_duration(interval, what="--interval")
    chosen = choose_signals(catalog, signals)
    if not per_signal:
        rules = _rules_of(r for name in chosen for r in recorded_for(catalog.spec(name), rate_p, prefix))
        return {"groups": [{"name": "triage", "interval": interval_p, "rules": rules}]}
    return {"groups": [{"name": f"triage-{name}", "interval": interval_p,
                        "rules": _rules_of(recorded_for(catalog.spec(name), rate_p, prefix))} for name in chosen]}


def rules_text(document: Mapping[str, Any], *, rate: str, interval: str) -> str:
    count = sum(1 for g in document["groups"] for r in g["rules"] if r["record"] != INFO_METRIC)
    header = (
        f"# Recording rules for triage's fleet pass ({count} records, rate interval {prom_duration(rate, what='rate')},"
        f" every {prom_duration(interval, what='interval')}),\n"
        f"# written by `triage rules` (triage {__version__}) from its query catalog. A standard rule file:\n"
        "# Prometheus `rule_files:`, vmalert `-rule=`, the Thanos or Mimir ruler. `triage ... --all-services`\n"
        f"# reads a record once {INFO_METRIC} says it covers the pass and was made from the same query.\n"
    )
    import yaml  # only `triage rules` writes YAML; every other run that reads a record never needs it

    body = yaml.safe_dump(dict(document), sort_keys=False, width=math.inf, allow_unicode=False)  # type: ignore[arg-type]
    return header + body
