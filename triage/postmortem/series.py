"""The record's time series, as the post-mortem reads them: the chart series it kept, and the
answers of the queries it recorded (a batch of queries is taken apart by its tag label)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from triage.signals import BATCH_LABEL

Points = list[tuple[float, float]]
_YEAR_10000 = 253402300800  # a point's time past what a date can show is not a point of this incident


def ts(text: Any) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def clock(t: float) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%H:%M:%S")


def stamp(t: float) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _clean(raw: Sequence[Any]) -> Points:
    out = []
    for p in raw:
        if not (isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], (int, float))
                and 0 <= p[0] < _YEAR_10000):
            continue
        try:
            value = float(p[1])
        except (TypeError, ValueError):
            continue
        if math.isfinite(value):
            out.append((float(p[0]), value))
    return out


def chart_points(record: Mapping[str, Any], service: str, signal: str) -> Points:
    raw = ((record.get("series") or {}).get(service) or {}).get(signal) or {}
    return _clean(raw.get("points") or []) if isinstance(raw, dict) else []


def _merge_max(series: Sequence[Points]) -> Points:
    merged: dict[float, float] = {}
    for pts in series:
        for t, v in pts:
            merged[t] = max(v, merged.get(t, v))
    return sorted(merged.items())


def _of_service(items: Sequence[Any], tag: str | None, service: str | None) -> Points:
    """The series of one query (its batch tag) and, in a fleet's query, of one service (a label
    value naming it: service, container or database), merged by their maximum."""
    mine = [item for item in items if isinstance(item, dict)
            and (tag is None or (item.get("metric") or {}).get(BATCH_LABEL) == tag)]
    if service is not None:
        mine = [item for item in mine if service in (item.get("metric") or {}).values()]
    return _merge_max([_clean(item.get("values") or []) for item in mine])


def query_points(record: Mapping[str, Any], query: str, service: str | None = None) -> Points:
    """The answer of `query` in the record's queries, alone or inside a batch (the fullest
    series at each step, as the analysis reads a per-service maximum). `service` picks its
    series out of a fleet's query."""
    tag_prefix = f'label_replace(({query}), "{BATCH_LABEL}", "'
    for q in record.get("queries") or []:
        if not isinstance(q, dict) or not isinstance(q.get("result"), list):
            continue
        text = str(q.get("query") or "")
        if text == query:
            return _of_service(q["result"], None, service)
        at = text.find(tag_prefix)
        if at >= 0:
            return _of_service(q["result"], text[at + len(tag_prefix):].split('"', 1)[0], service)
    return []


def signal_points(record: Mapping[str, Any], service: str, signal: str, query: str | None) -> Points:
    if not query:
        return chart_points(record, service, signal)
    fleet = service if record.get("fleet") else None
    return chart_points(record, service, signal) or query_points(record, query, fleet)


def alert_spans(record: Mapping[str, Any], service: str) -> list[tuple[str, float, float]]:
    """Each alert's (name, first, last) sample in the recorded ALERTS answers of the service."""
    spans: dict[str, tuple[float, float]] = {}
    for q in record.get("queries") or []:
        if not isinstance(q, dict) or not str(q.get("query") or "").startswith("ALERTS"):
            continue
        for item in q.get("result") or []:
            labels = (item or {}).get("metric") or {} if isinstance(item, dict) else {}
            if labels.get("service") not in (None, service) or labels.get("alertstate") != "firing":
                continue
            pts = _clean(item.get("values") or [])
            if pts and labels.get("alertname"):
                first, last = spans.get(labels["alertname"], (pts[0][0], pts[-1][0]))
                spans[labels["alertname"]] = (min(first, pts[0][0]), max(last, pts[-1][0]))
    return [(name, a, b) for name, (a, b) in spans.items()]


def query_end(record: Mapping[str, Any]) -> float | None:
    ends = [float(q["end"]) for q in record.get("queries") or []
            if isinstance(q, dict) and isinstance(q.get("end"), (int, float))]
    return max(ends) if ends else None
