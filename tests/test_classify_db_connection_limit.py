"""The database's own connection limit (issue 18 item 4): when the server's connections
reach max_connections (mysqld_exporter's threads_connected / max_connections, or
pg_stat_activity / max_connections) new connections are refused and requests fail or
wait, whatever the service's own pool says. The on-call expects `db_pool_exhaustion`
(the connection budget is spent), not application errors; with the queries themselves
slow it stays the slow queries'. Lock waits from the server alone read as lock contention."""

from __future__ import annotations

from tests.test_classify_rules import W0, _golden, _noise, _series, _sets
from triage.analysis.classify import classify
from triage.catalog import load_catalog

SPECS = load_catalog().signals


def _limit(sig, before=0.12, during=1.0):
    sig["db_connections_ratio"] = _series("db_connections_ratio",
                                          lambda t: during if t >= W0 else before + _noise(t, 0.01))
    return sig


def _failing():
    return _golden(lat=lambda t: 1.8 if t >= W0 else 0.1, err=lambda t: 0.2 if t >= W0 else 0.001)


def test_connections_at_the_server_limit_are_connection_exhaustion():
    v = classify(_sets(_limit(_failing())), SPECS, "svc")
    assert v.bottleneck == "db_pool_exhaustion", (v.bottleneck, v.candidates[:3])
    assert any("max_connections" in e["summary"] for e in v.candidates[0].evidence)


def test_connections_that_always_sit_near_the_limit_do_not_decide():
    v = classify(_sets(_limit(_failing(), before=0.95, during=0.96)), SPECS, "svc")
    assert v.bottleneck != "db_pool_exhaustion"


def test_a_full_server_with_slow_queries_stays_slow_queries():
    sig = _limit(_failing())
    sig["db_latency_p95"] = _series("db_latency_p95", lambda t: 1.5 if t >= W0 else 0.01 + _noise(t, 0.001))
    v = classify(_sets(sig), SPECS, "svc")
    assert v.bottleneck == "db_latency"


def test_server_lock_waits_alone_are_lock_contention():
    sig = _golden(lat=lambda t: 1.2 if t >= W0 else 0.1)
    sig["db_lock_waits"] = _series("db_lock_waits", lambda t: 9.0 if t >= W0 else 0.0)
    v = classify(_sets(sig), SPECS, "svc")
    assert v.bottleneck == "lock_contention"


def test_connections_risen_past_the_warning_lean_to_connection_exhaustion():
    v = classify(_sets(_limit(_failing(), before=0.35, during=0.82)), SPECS, "svc")
    assert v.bottleneck == "db_pool_exhaustion"
    assert v.candidates[0].score < 0.65
