"""The override suggested from a cluster's metric names (triage/pipeline/suggest.py)."""

from __future__ import annotations

import yaml

from triage.pipeline.suggest import Candidates, candidates_from, name_probe, suggestion


def test_candidates_are_the_request_names_not_the_client_ones():
    found = candidates_from(["api_http_client_duration_ms_bucket", "api_http_server_latency_ms_bucket",
                             "api_http_requests_total", "api_inflight_requests", "go_gc_duration_seconds"])
    assert found.histogram == "api_http_server_latency_ms" and found.millis
    assert found.counter == "api_http_requests_total" and found.inflight == "api_inflight_requests"
    assert found.client_histogram == "api_http_client_duration_ms"


def test_a_job_named_service_gets_a_job_selector_and_milliseconds_become_seconds():
    c = Candidates(histogram="api_latency_milliseconds", millis=True, counter="api_requests_total", status="code",
                   identity="job")
    written, text = suggestion(["rps", "error_ratio", "latency_p95", "db_pool_waiting"],
                               {"db_pool_waiting": ["pgbouncer_exporter"]}, c)
    assert written["latency_p95"].endswith(" / 1000") and 'job=~"(.+/)?$service"' in written["rps"]
    assert 'code=~"5.."' in written["error_ratio"]
    assert yaml.safe_load(text)["signals"] == written            # the text pastes as the same queries
    assert "# db_pool_waiting: scrape pgbouncer_exporter" in text


def test_no_status_label_no_error_ratio_guess():
    written, text = suggestion(["error_ratio"], {"error_ratio": ["application"]}, Candidates(counter="x_total"))
    assert "error_ratio" not in written and "# error_ratio: no metric here looks like it" in text


def test_the_name_probe_for_one_service_escapes_it():
    probe = name_probe('a"b')
    assert 'service="a\\"b"' in probe and "job=~" in probe
