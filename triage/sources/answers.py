"""One wave of range queries to a Prometheus source, its answers as each arrives, and more queries
added to the same wave while it runs (issue 17: a fleet's pass works on each answer while the
others are still out, and asks the alternatives an answer shows it needs at once, not in a wave
of their own after the last answer).

What `PrometheusSource.query_range_many` promises holds here: an answer the source already gave
in this process is given again without asking, a query asked twice is sent once, the queries
told to go with the next call (`send_with_next`) go in this wave, and the answers are kept in
the order they were asked, as the cache's bound counts them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from triage.errors import SourceError
from triage.models import RangeQuery, Series

if TYPE_CHECKING:
    from triage.sources.parallel import Wave
    from triage.sources.prometheus import PrometheusSource

Answer = list[Series] | SourceError


class Answers:
    """`(index, answer)` as each arrives, the index counted over every query asked (`queries`,
    then each `ask`'s in turn)."""

    def __init__(self, source: PrometheusSource, queries: Sequence[RangeQuery]) -> None:
        self._source = source
        self._asked = 0
        self._where: dict[tuple, list[int]] = {}     # a query sent, by key -> the indices asking it
        self._sent: list[tuple] = []                  # the keys sent, in order
        self._place: dict[tuple, int] = {}            # a key's place in _sent
        self._got: dict[int, Answer] = {}             # answers by their place in _sent
        self._ready: deque[tuple[int, Answer]] = deque()
        self._wave: Wave | None = None
        self._inline: RangeQuery | None = None      # one query alone: asked on the caller's thread
        self._base = 0                                # the place in _sent of the wave's first item
        with source._cache_lock:
            also, source._also = source._also, []
        self._ask(queries, also)

    def ask(self, queries: Sequence[RangeQuery]) -> range:
        """Add `queries` to the wave; their indices."""
        return self._ask(queries, ())

    def _ask(self, queries: Sequence[RangeQuery], also: Sequence[RangeQuery]) -> range:
        source = self._source
        first = self._asked
        self._asked += len(queries)
        keys = [source.key(q) for q in queries]
        with source._cache_lock:
            known = {k: source._cache[k] for k in keys if k in source._cache and k not in self._where}
        todo: dict[tuple, RangeQuery] = {}
        for i, (key, q) in enumerate(zip(keys, queries), first):
            if key in known:
                self._ready.append((i, known[key]))
            elif key in self._where:
                self._where[key].append(i)
                n = self._place.get(key)
                if n is not None and n in self._got:
                    self._ready.append((i, self._got[n]))
            else:
                self._where[key] = [i]
                todo[key] = q
        for q in also:
            key = source.key(q)
            if key not in self._where and key not in todo:
                self._where[key] = []
                todo[key] = q
        if todo:
            for key in todo:
                self._place[key] = len(self._sent)
                self._sent.append(key)
            if self._wave is not None:
                self._wave.add(list(todo.values()))
            elif first == 0 and len(todo) == 1:
                self._inline = next(iter(todo.values()))
            else:
                inline, self._inline = self._inline, None
                items = [*([inline] if inline else []), *todo.values()]
                # the wave counts its items from 0; their places in _sent start after an inline
                # query already answered (asked alone, then more asked once it was in)
                self._base = len(self._sent) - len(items)
                self._wave = source._wave(items)
        return range(first, self._asked)

    def __iter__(self) -> Iterator[tuple[int, Answer]]:
        try:
            while True:
                while self._ready:
                    yield self._ready.popleft()
                if self._inline is not None:
                    got: tuple[int, Answer] | None = (0, self._source._one(self._inline))
                    self._inline = None
                else:
                    got = self._wave.take() if self._wave is not None else None
                    if got is not None:
                        got = (got[0] + self._base, got[1])
                if got is None:
                    if self._ready:
                        continue
                    break
                n, answer = got
                self._got[n] = answer
                for i in self._where[self._sent[n]]:
                    yield i, answer
        finally:
            if self._wave is not None:
                self._wave.stop()
        for n, key in enumerate(self._sent):
            answer = self._got[n]
            if not isinstance(answer, SourceError):
                self._source._remember(key, answer)
