"""Record what a metrics source answered, and replay it with no network.

The recorder wraps a live source; the replayer serves the same answers to the same
queries, so a replay runs exactly the analysis the live run ran.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from triage.errors import SourceError
from triage.models import Alert, RangeQuery, Series

# A batch as triage.signals sends it: `label_replace((Q0), "triage_q", "0", "", "") or ...`.
BATCH_LABEL = "triage_q"
_PART = re.compile(r'label_replace\(\((.*?)\), "' + BATCH_LABEL + r'", "(\d+)", "", ""\)(?: or |$)')


def batch_parts(query: str) -> list[tuple[str, str]] | None:
    """The (query, index) parts of a batched query, or None when it is not one."""
    parts, pos = [], 0
    for m in _PART.finditer(query):
        if m.start() != pos:
            return None
        parts.append((m.group(1), m.group(2)))
        pos = m.end()
    return parts if parts and pos == len(query) else None


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
            answer: list[Series] | SourceError
            if "error" in entry:
                answer = SourceError(str(entry["error"]), backend=self.backend, query=q.query,
                                     detail=entry.get("detail"))
            else:
                answer = series_from_json(entry.get("result"))
            self._answers[_key(q)] = answer
            self._remember_parts(q, answer)

    def _remember_parts(self, q: RangeQuery, answer: list[Series] | SourceError) -> None:
        """Each part of a recorded batch on its own, so a replay that batches the same queries
        another way (a newer catalog, another batch size) still finds them."""
        for part, n in batch_parts(q.query) or ():
            key = _key(RangeQuery(part, q.start, q.end, q.step))
            if isinstance(answer, SourceError):
                self._answers.setdefault(key, answer)
                continue
            mine = [Series(labels={k: v for k, v in s.labels.items() if k != BATCH_LABEL}, points=s.points)
                    for s in answer if s.labels.get(BATCH_LABEL) == n]
            self._answers.setdefault(key, mine)

    def _answer(self, q: RangeQuery) -> list[Series] | SourceError:
        answer = self._answers.get(_key(q))
        if answer is not None:
            return answer
        missing = SourceError(f"{self.name} holds no answer for this query", backend=self.backend, query=q.query)
        parts = batch_parts(q.query)
        if not parts:
            return missing
        found: list[Series] = []
        known = 0
        for part, n in parts:
            one = self._answers.get(_key(RangeQuery(part, q.start, q.end, q.step)))
            if isinstance(one, SourceError):
                return one
            if one is not None:
                known += 1
                found.extend(Series(labels={**s.labels, BATCH_LABEL: n}, points=s.points) for s in one)
        # A part the record never asked (a signal added since) answers no series; none known at all
        # is a query this record cannot answer.
        return found if known else missing

    def query_range_many(self, queries: Sequence[RangeQuery]) -> list[list[Series] | SourceError]:
        return [self._answer(q) for q in queries]

    def alerts(self) -> list[Alert]:
        return []
