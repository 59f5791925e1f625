"""The record's replayer answers a batch the record holds part by part, so a replay that batches
the same queries another way (a signal added to the catalog since, another batch size) still
finds every answer the record has, and says nothing of what it never asked."""

from __future__ import annotations

from triage.errors import SourceError
from triage.models import RangeQuery
from triage.sources.snapshot import SnapshotSource, batch_parts


def _batch(*queries: str) -> str:
    return " or ".join(f'label_replace(({q}), "triage_q", "{n}", "", "")' for n, q in enumerate(queries))


A = 'sum by (service) (rate(http_requests_total{service=~"a"}[1m]))'
B = 'max by (container) (x{container=~"a"} or 0 * y{container=~"a"})'
C = 'sum by (container) (z{container=~"a"})'


def _entry(query: str, result: list) -> dict:
    return {"query": query, "start": 0.0, "end": 60.0, "step": 15.0, "result": result}


RECORD = [_entry(_batch(A, B), [
    {"metric": {"service": "a", "triage_q": "0"}, "values": [[0.0, "1"], [15.0, "2"]]},
    {"metric": {"container": "a", "triage_q": "1"}, "values": [[0.0, "7"]]},
])]


def test_batch_parts_reads_the_batch_back():
    assert batch_parts(_batch(A, B)) == [(A, "0"), (B, "1")]
    assert batch_parts(A) is None
    assert batch_parts(_batch(A) + " + 1") is None


def test_a_part_of_a_batch_is_answered_alone():
    src = SnapshotSource(RECORD)
    (answer,) = src.query_range_many([RangeQuery(B, 0.0, 60.0, 15.0)])
    assert not isinstance(answer, SourceError)
    assert [dict(s.labels) for s in answer] == [{"container": "a"}]
    assert list(answer[0].points) == [(0.0, 7.0)]


def test_a_batch_made_another_way_gets_the_parts_the_record_has():
    src = SnapshotSource(RECORD)
    (answer,) = src.query_range_many([RangeQuery(_batch(B, C, A), 0.0, 60.0, 15.0)])
    assert not isinstance(answer, SourceError)
    got = sorted((s.labels["triage_q"], tuple(sorted(s.labels.items()))) for s in answer)
    assert [g[0] for g in got] == ["0", "2"]          # B is part 0 now, A part 2; C was never asked


def test_a_batch_of_queries_never_asked_is_no_answer():
    src = SnapshotSource(RECORD)
    (answer,) = src.query_range_many([RangeQuery(_batch(C), 0.0, 60.0, 15.0)])
    assert isinstance(answer, SourceError) and "holds no answer" in answer.message
    (other_window,) = src.query_range_many([RangeQuery(_batch(A), 0.0, 120.0, 15.0)])
    assert isinstance(other_window, SourceError)
