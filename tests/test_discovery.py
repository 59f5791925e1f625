"""The discovery query: every request family, a `job`-named service, names escaped."""

from __future__ import annotations

from triage.discovery import REQUEST_METRICS, discovery_query


def test_one_service_is_found_by_service_job_or_target_info():
    query = discovery_query("bank-api")
    assert 'service="bank-api"' in query
    assert 'job=~"(.+/)?bank\\\\-api"' in query          # a regex literal inside a PromQL string
    assert 'target_info{service_name="bank-api"}' in query
    assert all(name in query for name in REQUEST_METRICS)


def test_a_name_cannot_break_out_of_its_string():
    query = discovery_query('x"} or vector(1) #')
    assert 'service="x\\"} or vector(1) #"' in query and query.count('"x') == 2


def test_the_fleet_takes_service_less_series_only_through_target_info():
    query = discovery_query()
    assert 'service!=""' in query and 'target_info{service="", service_name!=""}' in query
    assert "job=~" not in query                              # a scrape job is not a service
