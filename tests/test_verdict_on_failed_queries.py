"""`none` claims latency and errors are normal: it must never rest on a query that failed.
(Found by bench/load.py: fleet queries timing out at 2,000 services gave `none` 0.65.)"""

from __future__ import annotations

from triage.analysis.correlate import classify
from triage.catalog import load_catalog
from triage.models import SignalSet
from tests.test_event_signals import BASELINE, WINDOW, _series


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


def test_signals_the_exporters_do_not_have_still_allow_none():
    v = _verdict({"latency_p95": "no data from 2 queries (application)",
                  "error_ratio": "no data from 1 query (application)"})
    assert v.bottleneck == "none"
