"""The Prometheus source's error handling, against a scripted local server."""

from __future__ import annotations

import pytest

from testing.servers.fake_prometheus import FakePrometheus, Reply, ok_matrix
from triage.config import BackendSettings
from triage.errors import SourceError
from triage.secrets import Secret
from triage.sources.prometheus import PrometheusSource

SERIES = [{"metric": {"service": "checkout"}, "values": [[1000, "1.5"], [1015, "NaN"], [1030, "+Inf"]]}]


def source(url: str, **kw) -> tuple[PrometheusSource, list[float]]:
    sleeps: list[float] = []
    settings = BackendSettings(url=url, timeout=kw.pop("timeout", 2.0), **kw)
    return PrometheusSource(settings, sleep=sleeps.append), sleeps


def test_range_query_parses_values_including_nan_and_inf():
    with FakePrometheus({"/api/v1/query_range": [ok_matrix(SERIES)]}) as fake:
        src, _ = source(fake.url)
        [series] = src.query_range("up", 1000, 1030, 15)
    assert series.labels == {"service": "checkout"}
    assert series.points[0] == (1000.0, 1.5)
    assert series.points[1][1] != series.points[1][1]  # NaN
    assert series.points[2][1] == float("inf")
    assert "start=1000" in fake.requests[0]["path"] and "step=15" in fake.requests[0]["path"]


def test_transient_failure_is_retried_a_bounded_number_of_times():
    script = {"/api/v1/query_range": [Reply(503, "busy"), Reply(502, "gateway"), ok_matrix(SERIES)]}
    with FakePrometheus(script) as fake:
        src, sleeps = source(fake.url)
        assert src.query_range("up", 1000, 1030, 15)
    assert len(fake.requests) == 3 and src.stats.retries == 2 and len(sleeps) == 2


def test_a_500_is_not_retried():
    script = {"/api/v1/query_range": [Reply(500, "query panicked"), ok_matrix(SERIES)]}
    with FakePrometheus(script) as fake:
        src, _ = source(fake.url)
        with pytest.raises(SourceError, match="HTTP 500: query panicked"):
            src.query_range("up", 1000, 1030, 15)
    assert len(fake.requests) == 1


def test_429_retry_after_is_honoured_but_capped():
    script = {"/api/v1/query_range": [Reply(429, "slow down", {"Retry-After": "30"}), ok_matrix(SERIES)]}
    with FakePrometheus(script) as fake:
        src, sleeps = source(fake.url)
        assert src.query_range("up", 1000, 1030, 15)
    assert sleeps == [2.0]


def test_persistent_503_gives_up_after_three_attempts():
    with FakePrometheus({"/api/v1/query_range": [Reply(503, "overloaded")]}) as fake:
        src, sleeps = source(fake.url)
        with pytest.raises(SourceError, match=r"failed with HTTP 503: overloaded") as info:
            src.query_range("rate(x[1m])", 1000, 1030, 15)
    assert len(fake.requests) == 3 and len(sleeps) == 2
    assert info.value.query == "rate(x[1m])"


def test_401_names_backend_and_never_the_token():
    token = "tok-very-secret-4242"
    with FakePrometheus({"/api/v1/query_range": [Reply(401, f"bad token {token}")]}) as fake:
        src, _ = source(fake.url, bearer_token=Secret(token))
        with pytest.raises(SourceError) as info:
            src.query_range("up", 1000, 1030, 15)
    assert fake.requests[0]["headers"]["Authorization"] == f"Bearer {token}"
    assert "rejected the credentials (HTTP 401)" in str(info.value)
    assert token not in str(info.value)
    assert len(fake.requests) == 1


@pytest.mark.parametrize("reply,needle", [
    (Reply(200, "<html>proxy login</html>"), "not the Prometheus API's JSON"),
    (Reply(200, '{"status": "success", "data": {"resu'), "not the Prometheus API's JSON"),
    (Reply(400, {"status": "error", "errorType": "bad_data", "error": "parse error at char 5"}),
     "rejected the query: parse error at char 5"),
    (Reply(200, {"status": "error", "data": {}}), "not the Prometheus API's JSON"),
])
def test_garbage_answers_are_source_errors(reply, needle):
    with FakePrometheus({"/api/v1/query_range": [reply]}) as fake:
        src, _ = source(fake.url)
        with pytest.raises(SourceError, match=needle):
            src.query_range("up", 1000, 1030, 15)


def test_connection_refused_and_timeout():
    src, _ = source("http://127.0.0.1:9")
    with pytest.raises(SourceError, match="unreachable: connection refused"):
        src.query_range("up", 1000, 1030, 15)
    with FakePrometheus({"/api/v1/query_range": [Reply(200, "{}", delay=1.5)]}) as fake:
        src, _ = source(fake.url, timeout=0.3)
        with pytest.raises(SourceError, match=r"did not answer within 0.3s"):
            src.query_range("up", 1000, 1030, 15)
