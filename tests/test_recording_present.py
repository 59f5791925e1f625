"""Which recorded series a fleet pass reads: the info series' checks, and the catalog they give."""

from __future__ import annotations

from triage.catalog import RECORDED_FAMILY, load_catalog, with_recorded
from triage.errors import SourceError
from triage.models import Series
from triage.recording.present import prefer_recorded, usable_records
from triage.recording.rules import INFO_METRIC, recorded_for

CATALOG = load_catalog()
START, END, STEP = 1000.0, 4000.0, 30.0
FULL = tuple((START + i * STEP, 1.0) for i in range(int((END - START) / STEP) + 1))


def info(signal: str, key: str, *, rate: str = "1m", points=FULL, query_hash: str | None = None,
         record: str | None = None) -> Series:
    rec = next(r for r in recorded_for(CATALOG.spec(signal), rate) if r.key == key)
    labels = {"__name__": INFO_METRIC, "signal": signal, "key": key, "record": record or rec.record,
              "query_hash": query_hash or rec.query_hash}
    return Series(labels=labels, points=points)


def test_a_record_covering_the_pass_from_the_same_query_is_used():
    found = usable_records([info("rps", "service"), info("cpu_usage_ratio", "container")], CATALOG, "1m",
                           START, END, STEP)
    assert found == {"rps": {"service": "service:triage_rps:1m"},
                     "cpu_usage_ratio": {"container": "container:triage_cpu_usage_ratio:1m"}}


def test_another_rate_another_catalog_or_a_partial_history_is_not():
    late = tuple(p for p in FULL if p[0] >= START + 600)
    gap = tuple(p for p in FULL if not START + 600 <= p[0] <= START + 900)
    stopped = tuple(p for p in FULL if p[0] <= END - 300)
    answer = [info("rps", "service", rate="5m"), info("error_ratio", "service", query_hash="0" * 16),
              info("latency_p95", "service", points=late), info("inflight", "service", points=gap),
              info("db_latency_p95", "service", points=stopped)]
    assert usable_records(answer, CATALOG, "1m", START, END, STEP) == {}
    # the 5m rules are the ones a pass at a 5m rate interval reads
    assert usable_records(answer, CATALOG, "5m", START, END, STEP) == {"rps": {"service": "service:triage_rps:5m"}}


def test_a_prefix_of_ones_own_is_read_from_the_info_series():
    found = usable_records([info("rps", "service", record="service:acme_rps:1m")], CATALOG, "1m", START, END, STEP)
    assert found == {"rps": {"service": "service:acme_rps:1m"}}


def test_the_record_takes_the_place_of_the_alternatives_it_holds():
    derived = with_recorded(CATALOG, {"cpu_usage_ratio": {"container": "container:triage_cpu_usage_ratio:1m"}})
    alts = derived.spec("cpu_usage_ratio").alternatives
    assert [(a.family, a.key, a.query) for a in alts] == [
        (RECORDED_FAMILY, "container", "container:triage_cpu_usage_ratio:1m"),
        ("application", "service", CATALOG.spec("cpu_usage_ratio").alternatives[2].query)]
    assert derived.spec("rps") == CATALOG.spec("rps")
    assert derived.spec("cpu_usage_ratio").threshold == CATALOG.spec("cpu_usage_ratio").threshold


class FakeSource:
    name = "fake"

    def __init__(self, answer):
        self.answer, self.asked = answer, []

    def query_range_many(self, queries):
        self.asked.extend(queries)
        return [self.answer for _ in queries]


def test_one_request_and_a_failed_one_keeps_the_raw_catalog():
    source = FakeSource([info("rps", "service")])
    derived = prefer_recorded(source, CATALOG, "1m", START, END, STEP)
    assert [q.query for q in source.asked] == [INFO_METRIC] and source.asked[0].step == STEP
    assert derived.spec("rps").alternatives[0].query == "service:triage_rps:1m"
    failing = FakeSource(SourceError("down", backend="prometheus"))
    assert prefer_recorded(failing, CATALOG, "1m", START, END, STEP) is CATALOG
    assert prefer_recorded(FakeSource([]), CATALOG, "1m", START, END, STEP) is CATALOG


def test_a_second_pass_over_the_same_range_does_not_ask_again():
    source = FakeSource([info("rps", "service")])
    first = prefer_recorded(source, CATALOG, "1m", START, END, STEP)
    second = prefer_recorded(source, CATALOG, "1m", START, END, STEP)
    assert len(source.asked) == 1 and first.spec("rps") == second.spec("rps")
    prefer_recorded(source, CATALOG, "1m", START, END + STEP, STEP)
    assert len(source.asked) == 2
