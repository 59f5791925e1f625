"""Record what a metrics source answered, and replay it with no network.

The recorder wraps a live source; the replayer serves the same answers to the same
queries, so a replay runs exactly the analysis the live run ran.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from triage.errors import SourceError
from triage.models import Alert, RangeQuery, Series


def _key(q: RangeQuery) -> tuple[str, float, float, float]:
    return (q.query, round(q.start, 3), round(q.end, 3), round(q.step, 3))


def _value(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(v)


def _parse(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def series_to_json(series: Iterable[Series]) -> list[dict[str, Any]]:
    return [{"metric": dict(s.labels), "values": [[t, _value(v)] for t, v in s.points]} for s in series]


def series_from_json(raw: Any) -> list[Series]:
    out = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        labels = {str(k): str(v) for k, v in (item.get("metric") or {}).items()}
        points = tuple((float(p[0]), _parse(p[1])) for p in item.get("values") or ()
                       if isinstance(p, (list, tuple)) and len(p) == 2)
        out.append(Series(labels=labels, points=points))
    return out


class RecordingSource:
    """Passes queries to a live source and keeps every question with its answer."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def query_range_many(self, queries: Sequence[RangeQuery]) -> list[list[Series] | SourceError]:
        answers = self.inner.query_range_many(queries)
        with self._lock:
            for q, answer in zip(queries, answers):
                entry: dict[str, Any] = {"query": q.query, "start": q.start, "end": q.end, "step": q.step}
                if isinstance(answer, SourceError):
                    entry["error"] = answer.message
                    entry["detail"] = answer.detail
                else:
                    entry["result"] = series_to_json(answer)
                self.entries.append(entry)
        return answers

    def alerts(self) -> list[Alert]:
        return self.inner.alerts()


class SnapshotSource:
    """Answers from a record; a query the record does not hold is a failed query, not a guess."""

    backend = "record"

    def __init__(self, entries: Sequence[dict[str, Any]], name: str = "incident record") -> None:
        self.name = name
        self._answers: dict[tuple[str, float, float, float], list[Series] | SourceError] = {}
        for entry in entries:
            q = RangeQuery(str(entry.get("query", "")), float(entry.get("start", 0)), float(entry.get("end", 0)),
                           float(entry.get("step", 0)))
            if "error" in entry:
                self._answers[_key(q)] = SourceError(str(entry["error"]), backend=self.backend, query=q.query,
                                                     detail=entry.get("detail"))
            else:
                self._answers[_key(q)] = series_from_json(entry.get("result"))

    def query_range_many(self, queries: Sequence[RangeQuery]) -> list[list[Series] | SourceError]:
        out: list[list[Series] | SourceError] = []
        for q in queries:
            answer = self._answers.get(_key(q))
            if answer is None:
                answer = SourceError(f"{self.name} holds no answer for this query", backend=self.backend,
                                     query=q.query)
            out.append(answer)
        return out

    def alerts(self) -> list[Alert]:
        return []
