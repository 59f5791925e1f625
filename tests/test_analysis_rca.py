"""triage.analysis.rca's document pieces: the same text as the models write, a new value each time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from triage.analysis.rca import _range_json
from triage.models import TimeRange


def test_a_range_is_written_as_the_model_writes_it_and_each_document_gets_its_own():
    start = datetime(2026, 11, 10, 19, 46, 0, 123456, tzinfo=timezone.utc)
    for span in (timedelta(minutes=15), timedelta(hours=1), timedelta(0)):
        moments = TimeRange(start, start + span)
        first, again = _range_json(moments), _range_json(moments)
        assert first == again == moments.to_json()
        first["start"] = "changed"
        assert _range_json(moments) == moments.to_json() and first is not again
    other = TimeRange(start + timedelta(days=1), start + timedelta(days=2))
    assert _range_json(other) == other.to_json()
