"""One process, one pass (issue 17): `detect` then `rca` on the same window do not ask the backend
twice for the same answer, the ALERTS read goes out with the first round of queries, and a fleet
query's timeout grows with the fleet — against a real Prometheus."""

from __future__ import annotations

import tempfile
from pathlib import Path

from triage.catalog import load_catalog
from triage.config import BackendSettings, load_settings
from triage.models import RangeQuery
from triage.pipeline import resolve_target, run_detect, run_rca
from triage.signals import FLEET_POINTS, make_windows
from triage.sources.prometheus import PrometheusSource
from triage.timeutil import parse_duration, parse_instant

AT = "2026-11-10T20:01:00Z"


class Calls:
    """The source's query_range_many calls: the queries each carried and the requests sent by then."""

    def __init__(self, inner: PrometheusSource) -> None:
        self.inner, self.name, self.calls = inner, inner.name, []

    def query_range_many(self, queries):
        answers = self.inner.query_range_many(queries)
        self.calls.append(([q.query for q in queries], self.inner.stats.requests))
        return answers


def setup(url: str, fleet: bool):
    with tempfile.TemporaryDirectory() as empty:
        settings = load_settings(env={}, cwd=Path(empty))
    windows = make_windows(parse_instant(AT), parse_duration("15m"), parse_duration("1h"),
                           **({"points": FLEET_POINTS} if fleet else {}))
    source = PrometheusSource(BackendSettings(url=url))
    args = {"service": None, "all_services": True} if fleet else {"service": "checkout", "all_services": False}
    target = resolve_target(settings, source, load_catalog(), windows, namespace=None, **args)
    return settings, windows, source, target


def test_rca_after_detect_on_the_same_fleet_asks_only_what_detect_did_not(prometheus_server):
    settings, windows, source, target = setup(prometheus_server.url, fleet=True)
    catalog = load_catalog()
    run_detect(settings, catalog, source, windows, target)
    after_detect = source.stats.requests
    results, _ = run_rca(settings, catalog, source, windows, target)
    rca_alone = setup(prometheus_server.url, fleet=True)
    fresh, _ = run_rca(rca_alone[0], catalog, rca_alone[2], rca_alone[1], rca_alone[3])
    asked_by_rca = source.stats.requests - after_detect
    fresh_requests = rca_alone[2].stats.requests - 1          # less its discovery
    assert asked_by_rca < fresh_requests - 5, (asked_by_rca, fresh_requests)
    def verdicts(rs):
        return [(r.service.name, r.status, r.verdict) for r in rs]
    assert verdicts(results) == verdicts(fresh)


def test_the_alerts_read_goes_with_the_first_round(prometheus_server):
    settings, windows, source, target = setup(prometheus_server.url, fleet=False)
    spy = Calls(source)
    before = source.stats.requests
    run_rca(settings, load_catalog(), spy, windows, target)   # type: ignore[arg-type]
    (first, sent), *rest = spy.calls
    assert sent - before == len(first) + 1, (sent - before, len(first))     # the batches, and ALERTS with them
    asked = [(i, n) for i, (queries, n) in enumerate(rest) if any(q.startswith("ALERTS{") for q in queries)]
    assert len(asked) == 1
    i, n = asked[0]
    assert n == (rest[i - 1][1] if i else sent)         # asked for it later: answered from memory, no request


def test_a_query_asked_twice_is_sent_once(prometheus_server):
    source = PrometheusSource(BackendSettings(url=prometheus_server.url))
    q = RangeQuery("vector(1)", 1_794_340_000, 1_794_340_860, 60)
    a, b = source.query_range_many([q, q])
    c, = source.query_range_many([q])
    assert source.stats.requests == 1 and a == b == c and a[0].points[0][1] == 1.0


def test_each_answer_comes_as_it_arrives_and_the_same_as_all_at_once(prometheus_server):
    source = PrometheusSource(BackendSettings(url=prometheus_server.url))
    slow = RangeQuery("count_over_time(vector(1)[10d:1s])", 1_794_340_000, 1_794_340_060, 60)
    fast = RangeQuery("vector(2)", 1_794_340_000, 1_794_340_860, 60)
    other = RangeQuery("vector(3)", 1_794_340_000, 1_794_340_860, 60)
    source.query_range_many([other])
    got = list(source.query_range_each([slow, fast, other, fast]))
    assert got[0] == (2, source.query_range_many([other])[0])        # the answer it had, first
    assert [i for i, _ in got] == [2, 1, 3, 0]                        # then each as it arrived
    assert dict(got) == dict(enumerate(PrometheusSource(BackendSettings(url=prometheus_server.url))
                                       .query_range_many([slow, fast, other, fast])))
    assert source.stats.requests == 3                                 # `fast` once, `other` from memory


def test_more_asked_after_a_lone_query_was_answered_keep_their_indices(prometheus_server):
    # One query alone is asked on the caller's thread; queries asked once its answer is in start a
    # wave of their own, whose answers still come under their own indices.
    source = PrometheusSource(BackendSettings(url=prometheus_server.url))
    one, two, three = (RangeQuery(f"vector({n})", 1_794_340_000, 1_794_340_860, 60) for n in (1, 2, 3))
    each = source.query_range_each([one])
    got = []
    for i, answer in each:
        got.append((i, answer[0].points[0][1]))
        if i == 0:
            assert list(each.ask([two, three])) == [1, 2]
    assert sorted(got) == [(0, 1.0), (1, 2.0), (2, 3.0)] and source.stats.requests == 3


def test_fleet_timeouts_scale_with_the_fleet():
    source = PrometheusSource(BackendSettings(url="http://127.0.0.1:9", timeout=10.0))
    source.expect_services(100)
    assert source._timeout == 10.0 and source._deadline_seconds == 300.0
    source.expect_services(2000)
    assert source._timeout == 80.0 and source._deadline_seconds == 2400.0
    given = PrometheusSource(BackendSettings(url="http://127.0.0.1:9", timeout=10.0, deadline=60.0))
    given.expect_services(2000)
    assert given._timeout == 80.0 and given._deadline_seconds == 60.0
    assert "scaled for 2000 services" in given._deadline_error("q").message or given._clock() >= 0


def _waves(calls, before):
    """The calls that sent requests (not all answered from memory), and how many each sent."""
    sent = []
    for _, n in calls:
        if n > before:
            sent.append(n - before)
        before = n
    return sent


def test_one_service_sends_the_later_alternatives_in_one_wave(prometheus_server, monkeypatch):
    # The alternatives of a signal are tried in catalog order; for one service every alternative
    # left after the first round goes out at once, and the pass takes the same ones as the rounds.
    settings, windows, source, target = setup(prometheus_server.url, fleet=False)
    spy, before = Calls(source), source.stats.requests
    results, _ = run_rca(settings, load_catalog(), spy, windows, target)   # type: ignore[arg-type]

    import triage.signals as signals
    monkeypatch.setattr(signals, "_ahead", lambda *args, **kwargs: {})     # each round in turn, as before
    settings2, windows2, source2, target2 = setup(prometheus_server.url, fleet=False)
    rounds, before2 = Calls(source2), source2.stats.requests
    expected, _ = run_rca(settings2, load_catalog(), rounds, windows2, target2)   # type: ignore[arg-type]

    assert repr(results) == repr(expected)
    assert source.stats.requests == source2.stats.requests            # the same requests, fewer waves
    one, many = _waves(spy.calls, before), _waves(rounds.calls, before2)
    assert len(many) > 2, many
    assert len(one) == 2 and sum(one) == sum(many), (one, many)
    later = spy.calls[1][0]
    assert sorted(later) == sorted(q for qs, _ in rounds.calls[1:len(many)] for q in qs), "the later rounds' batches"


def test_a_fleet_sends_the_later_alternatives_in_one_wave(prometheus_server, monkeypatch):
    # A fleet's alternatives do not name the services: the query a later round would send for the
    # services still without data is the one sent ahead, so the pass takes the same answers.
    settings, windows, source, target = setup(prometheus_server.url, fleet=True)
    spy, before = Calls(source), source.stats.requests
    results, _ = run_rca(settings, load_catalog(), spy, windows, target)   # type: ignore[arg-type]

    import triage.signals as signals
    monkeypatch.setattr(signals, "_ahead", lambda *args, **kwargs: {})     # each round in turn, as before
    settings2, windows2, source2, target2 = setup(prometheus_server.url, fleet=True)
    rounds, before2 = Calls(source2), source2.stats.requests
    expected, _ = run_rca(settings2, load_catalog(), rounds, windows2, target2)   # type: ignore[arg-type]

    assert len(results) > 1 and repr(results) == repr(expected)
    one, many = _waves(spy.calls, before), _waves(rounds.calls, before2)
    # the recorded-rules probe, the signal wave, then one wave where the rounds were several
    assert len(many) > 4 and one[:2] == many[:2] and len(one) == 3, (one, many)
    assert sum(one) == sum(many)                                          # the same requests
    assert sorted(spy.calls[2][0]) == sorted(q for qs, _ in rounds.calls[2:len(many)] for q in qs)


def test_a_fleet_read_as_each_answer_arrives_collects_what_it_did_all_at_once(prometheus_server):
    # The Prometheus source gives a fleet's first round one answer at a time; a wrapper without
    # query_range_each gives them all at once. The collection is the same, in the same order, and
    # `on_series` was told each series the collection holds.
    from triage.signals import collect

    settings, windows, source, target = setup(prometheus_server.url, fleet=True)
    catalog = load_catalog()
    names = list(catalog.signals)
    told = []
    streamed = collect(source, catalog, settings, target.services, windows, names, fleet=True,
                       on_series=told.extend)
    settings2, windows2, source2, target2 = setup(prometheus_server.url, fleet=True)
    at_once = collect(Calls(source2), catalog, settings2, target2.services, windows2, names,  # type: ignore[arg-type]
                      fleet=True)
    assert repr(streamed) == repr(at_once)
    assert [list(s) for s in streamed.signals.values()] == [list(s) for s in at_once.signals.values()]
    held = [series for by_name in streamed.signals.values() for series in by_name.values()]
    assert held and {id(s) for s in held} <= {id(s) for s in told}


def test_a_fleet_judged_as_each_answer_arrives_gets_the_verdicts_judged_after(prometheus_server, monkeypatch):
    # rca and detect on a fleet work out each series' level and verdict as its answer arrives
    # (triage.analysis.early); the results are those of the pass that judges them all after.
    import triage.analysis.early as early
    import triage.pipeline.phases as phases

    used = []
    levels_for = early.Early.levels_for
    monkeypatch.setattr(early.Early, "levels_for", lambda self, sets: used.append(levels_for(self, sets)) or used[-1])
    settings, windows, source, target = setup(prometheus_server.url, fleet=True)
    catalog = load_catalog()
    results, _ = run_rca(settings, catalog, source, windows, target)
    report = run_detect(settings, catalog, source, windows, target)
    assert used and all(got is not None for got in used)

    monkeypatch.setattr(phases, "_early", lambda *args, **kwargs: None)
    settings2, windows2, source2, target2 = setup(prometheus_server.url, fleet=True)
    expected, _ = run_rca(settings2, catalog, source2, windows2, target2)
    expected_report = run_detect(settings2, catalog, source2, windows2, target2)
    assert len(results) > 1 and repr(results) == repr(expected)
    assert repr(report) == repr(expected_report)


def test_a_fleet_asks_its_alternatives_in_the_signal_wave_as_each_answer_shows_the_need(prometheus_server,
                                                                                      monkeypatch):
    # Each alternative a fleet's later rounds ask is asked as soon as its signal's answer leaves
    # services without data, in the same wave: the same requests as the pass that sends them in a
    # wave after the last answer, the same collection, one wave.
    from triage.signals import collect

    sent, waves = [], []
    query_range, wave = PrometheusSource.query_range, PrometheusSource._wave
    monkeypatch.setattr(PrometheusSource, "query_range",
                        lambda self, q, *a: sent.append(q) or query_range(self, q, *a))
    monkeypatch.setattr(PrometheusSource, "_wave", lambda self, qs: waves.append(len(qs)) or wave(self, qs))
    settings, windows, source, target = setup(prometheus_server.url, fleet=True)
    catalog = load_catalog()
    names = list(catalog.signals)
    sent.clear()
    waves.clear()
    streamed = collect(source, catalog, settings, target.services, windows, names, fleet=True)
    asked, streamed_waves = sorted(sent), list(waves)
    settings2, windows2, source2, target2 = setup(prometheus_server.url, fleet=True)
    sent.clear()
    waves.clear()
    after = collect(Calls(source2), catalog, settings2, target2.services, windows2, names,  # type: ignore[arg-type]
                    fleet=True)
    assert repr(streamed) == repr(after)
    assert asked == sorted(sent) and len(asked) > len(names)          # the alternatives too, each once
    assert len(streamed_waves) == 1 and len(waves) == 2, (streamed_waves, waves)

