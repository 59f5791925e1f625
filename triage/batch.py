"""Several range queries per request, each tagged with a label and joined with `or`: fewer
requests where a backend answers them faster together (one service), one query a request
where it answers them faster apart (a fleet pass on Prometheus)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from triage.errors import SourceError
from triage.models import RangeQuery, Series
from triage.sources.interface import MetricsSource

if TYPE_CHECKING:
    from triage.signals import Windows

BATCH_SIZE = 6
# A built-in query answers one series per service: six of them over 2,000 services make one
# response of 1.8 M points (a ~300 MB decoded JSON tree in triage, six fleet queries' work on
# the backend against a single request timeout). Batch only as many as keep a response near
# BATCH_SERVICES series; one service and fleets up to 500 still get six queries a request.
BATCH_SERVICES = 3000
BATCH_LABEL = "triage_q"


def batch_size_for(services: int) -> int:
    return max(1, min(BATCH_SIZE, BATCH_SERVICES // max(1, services)))


def run_batched(source: MetricsSource, queries: Sequence[str], windows: Windows,
                batch_size: int = BATCH_SIZE, groups: Sequence[int] = ()) -> list[list[Series] | SourceError]:
    """Several range queries per request, each tagged with a label and joined with `or`.

    A batch the backend rejects (one bad query spoils it) is retried query by query, so a
    broken override still fails alone and with its own message. `groups` (sizes summing to
    len(queries)) keeps each group's queries in batches of their own, all sent at once.
    """
    chunks: list[list[int]] = []
    begin = 0
    for size in (groups or [len(queries)]):
        end = begin + size
        chunks += [list(range(i, min(i + batch_size, end))) for i in range(begin, end, batch_size)]
        begin = end
    combined = []
    for chunk in chunks:
        if len(chunk) == 1:
            combined.append(queries[chunk[0]])
        else:
            combined.append(" or ".join(
                f'label_replace(({queries[i]}), "{BATCH_LABEL}", "{n}", "", "")' for n, i in enumerate(chunk)))
    answers = source.query_range_many([RangeQuery(q, windows.start, windows.end, windows.step) for q in combined])
    out: list[list[Series] | SourceError | None] = [None] * len(queries)
    retry: list[int] = []
    for chunk, answer in zip(chunks, answers):
        if len(chunk) == 1:
            out[chunk[0]] = answer
        elif isinstance(answer, SourceError):
            if answer.detail and answer.detail.startswith("HTTP 4"):
                retry.extend(chunk)
            else:
                for i in chunk:
                    out[i] = answer
        else:
            parts: list[list[Series]] = [[] for _ in chunk]
            for item in answer:
                tag = item.labels.get(BATCH_LABEL)
                if tag is None or not tag.isdigit() or int(tag) >= len(chunk):
                    continue
                labels = {k: v for k, v in item.labels.items() if k != BATCH_LABEL}
                parts[int(tag)].append(Series(labels=labels, points=item.points))
            for i, part in zip(chunk, parts):
                out[i] = part
    if retry:
        for i, answer in zip(retry, source.query_range_many(
                [RangeQuery(queries[i], windows.start, windows.end, windows.step) for i in retry])):
            out[i] = answer
    return [a if a is not None else [] for a in out]


class Arriving:
    """One query a request (`run_batched` at a batch of one), `(index, answer)` as each arrives
    where the source's class gives them so (StreamingMetricsSource), else all once they are in.
    `ask`: more queries in the same wave (their indices follow), where the source can add them."""

    def __init__(self, source: MetricsSource, queries: Sequence[str], windows: Windows) -> None:
        self._windows = windows
        asked = self._ranges(queries)
        each = getattr(type(source), "query_range_each", None)
        self._each = each(source, asked) if callable(each) else None
        self._all = enumerate(source.query_range_many(asked)) if self._each is None else None

    def _ranges(self, queries: Sequence[str]) -> list[RangeQuery]:
        w = self._windows
        return [RangeQuery(q, w.start, w.end, w.step) for q in queries]

    @property
    def can_ask(self) -> bool:
        return callable(getattr(self._each, "ask", None))

    def ask(self, queries: Sequence[str]) -> range:
        return self._each.ask(self._ranges(queries))  # type: ignore[union-attr, no-any-return]

    def __iter__(self) -> Iterator[tuple[int, list[Series] | SourceError]]:
        return iter(self._each if self._each is not None else self._all)  # type: ignore[arg-type]
