"""`none` claims latency and errors are normal: it must never rest on a query that failed.
(Found by bench/load.py: fleet queries timing out at 2,000 services gave `none` 0.65.)"""

from __future__ import annotations

from tests.test_analysis_detect_events import BASELINE, WINDOW, _series
from triage.analysis.classify import classify
from triage.catalog import load_catalog
from triage.models import SignalSet


def _verdict(missing: dict[str, str]):
    signals = {"rps": _series("rps", "req/s", lambda t: 20.0),
               "cpu_usage_ratio": _series("cpu_usage_ratio", "ratio", lambda t: 0.3)}
    sets = SignalSet("booking", "lab", WINDOW, BASELINE, signals, missing)
    return classify(sets, load_catalog().signals, "booking")


def test_failed_latency_and_error_queries_give_unknown_not_none():
    v = _verdict({"latency_p95": "query failed: prometheus timed out after 10 s",
                  "error_ratio": "query failed: prometheus timed out after 10 s"})
    assert v.bottleneck == "unknown" and v.confidence == 0.0
    assert any("latency_p95 and error_ratio queries failed" in n for n in v.notes)


def test_one_failed_golden_query_is_enough_to_refuse_none():
    v = _verdict({"error_ratio": "query failed: HTTP 503"})
    assert v.bottleneck == "unknown"


def test_signals_the_exporters_do_not_have_are_not_a_none_either():
    """`none` claims no errors: with no error signal at all it is `unknown`, naming it (issue 12)."""
    v = _verdict({"latency_p95": "no data from 2 queries (application)",
                  "error_ratio": "no data from 1 query (application)"})
    assert v.bottleneck == "unknown" and v.confidence == 0.0
    assert "error_ratio" in v.missing


def test_latency_normal_without_an_error_signal_is_unknown_naming_error_ratio():
    signals = {"rps": _series("rps", "req/s", lambda t: 20.0),
               "latency_p95": _series("latency_p95", "s", lambda t: 0.08),
               "cpu_usage_ratio": _series("cpu_usage_ratio", "ratio", lambda t: 0.3)}
    sets = SignalSet("booking", "lab", WINDOW, BASELINE, signals,
                     {"error_ratio": "no data from 1 query (application)"})
    v = classify(sets, load_catalog().signals, "booking")
    assert v.bottleneck == "unknown"
    assert any("error_ratio" in n for n in v.notes)


def test_all_golden_signals_normal_is_none():
    signals = {"rps": _series("rps", "req/s", lambda t: 20.0),
               "latency_p95": _series("latency_p95", "s", lambda t: 0.08),
               "error_ratio": _series("error_ratio", "ratio", lambda t: 0.001),
               "cpu_usage_ratio": _series("cpu_usage_ratio", "ratio", lambda t: 0.3)}
    v = classify(SignalSet("booking", "lab", WINDOW, BASELINE, signals, {}), load_catalog().signals, "booking")
    assert v.bottleneck == "none" and v.confidence >= 0.8
