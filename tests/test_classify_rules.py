"""The rules of the classifier on the shapes real incidents have (issue 12): a resource that
stands alone, a fault shorter than five minutes at a 60 s resolution, memory that rests near
its limit, memory that drives the CPU, an empty baseline, evidence with missing numbers, and
the fleet ranking's causes and symptoms."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from triage.analysis.classify import classify, level
from triage.analysis.classify.levels import resolution, sustain_for
from triage.analysis.rca import rank_fleet, rca_service
from triage.catalog import load_catalog
from triage.config import ServiceConfig
from triage.models import BOTTLENECKS, SignalSeries, SignalSet, TimeRange

END = datetime(2026, 11, 23, 13, 0, tzinfo=timezone.utc)
WINDOW = TimeRange(END - timedelta(minutes=4), END)
BASELINE = TimeRange(END - timedelta(minutes=64), END - timedelta(minutes=4))
W0 = WINDOW.start.timestamp()
SPECS = load_catalog().signals


def _series(name, fn, *, step=15, every=15, start=None):
    """A signal read at `step` from data that changes every `every` seconds (a 60 s scrape
    read at a 15 s step repeats each value four times)."""
    t0 = BASELINE.start.timestamp() if start is None else start
    n = int((END.timestamp() - t0) / step) + 1
    pts = []
    for i in range(n):
        t = t0 + i * step
        held = t0 + ((t - t0) // every) * every
        pts.append((t, float(fn(held))))
    return SignalSeries(name, "svc", SPECS[name].unit, f"{name}-query", 0, tuple(pts))


def _noise(t, amp):
    return amp * ((int(t) * 7919) % 13 - 6) / 6


def _sets(signals, missing=None, name="svc"):
    return SignalSet(name, "default", WINDOW, BASELINE, signals, missing or {})


def _golden(lat=lambda t: 0.1, err=lambda t: 0.001, rps=lambda t: 20.0):
    return {"latency_p95": _series("latency_p95", lambda t: lat(t) + _noise(t, 0.005)),
            "error_ratio": _series("error_ratio", err),
            "rps": _series("rps", lambda t: rps(t) + _noise(t, 0.5))}


def test_the_vocabulary_is_the_contracts():
    assert BOTTLENECKS == ("cpu_saturation", "memory_pressure", "db_pool_exhaustion", "db_latency",
                           "lock_contention", "connection_churn", "external_dependency", "application_errors",
                           "none", "unknown")


def test_cpu_far_out_of_its_baseline_is_an_incident_on_its_own():
    sig = _golden()
    sig["cpu_usage_ratio"] = _series("cpu_usage_ratio", lambda t: 1.0 if t >= W0 else 0.014 + _noise(t, 0.002))
    v = classify(_sets(sig), SPECS, "svc")
    assert v.bottleneck == "cpu_saturation" and v.anomaly and not v.user_facing
    assert "×" in v.sentence and "no latency or error impact" in v.sentence


def test_a_service_that_always_runs_hot_is_not_an_incident():
    sig = _golden()
    sig["cpu_usage_ratio"] = _series("cpu_usage_ratio", lambda t: 0.93 + _noise(t, 0.01))
    v = classify(_sets(sig), SPECS, "svc")
    assert v.bottleneck == "none"


def test_a_fault_shorter_than_five_minutes_at_60s_resolution_reads_at_its_level():
    sig = _golden(lat=lambda t: 2.5 if W0 + 60 <= t < W0 + 210 else 0.1)
    sig["cpu_usage_ratio"] = _series("cpu_usage_ratio", lambda t: 1.0 if W0 + 60 <= t < W0 + 210 else 0.2,
                                     every=60)
    sets = _sets(sig)
    assert resolution(sets) > 0
    assert sustain_for(sets) < 300
    lv = level(sig["cpu_usage_ratio"], SPECS["cpu_usage_ratio"], sets)
    assert lv.window >= 0.99
    assert classify(sets, SPECS, "svc").bottleneck == "cpu_saturation"


def test_memory_that_rests_near_its_limit_is_its_normal():
    sig = _golden(lat=lambda t: 1.5 if t >= W0 else 0.1)
    sig["memory_usage_ratio"] = _series("memory_usage_ratio", lambda t: (0.96 if t >= W0 else 0.85) + _noise(t, 0.001))
    v = classify(_sets(sig), SPECS, "svc")
    assert v.bottleneck != "memory_pressure"
    assert not any(c.bottleneck == "memory_pressure" and c.score >= 0.45 for c in v.candidates)


def test_memory_that_rose_with_the_cpu_is_the_cause():
    sig = _golden()
    sig["memory_usage_ratio"] = _series("memory_usage_ratio", lambda t: 0.45 if t >= W0 else 0.012)
    sig["cpu_usage_ratio"] = _series("cpu_usage_ratio", lambda t: 1.0 if t >= W0 else 0.01 + _noise(t, 0.002))
    v = classify(_sets(sig), SPECS, "svc")
    assert v.bottleneck == "memory_pressure", [(c.bottleneck, c.score) for c in v.candidates]


def test_cpu_alone_with_flat_memory_stays_cpu():
    sig = _golden()
    sig["memory_usage_ratio"] = _series("memory_usage_ratio", lambda t: 0.0235 if t >= W0 else 0.0138)
    sig["cpu_usage_ratio"] = _series("cpu_usage_ratio", lambda t: 1.0 if t >= W0 else 0.013 + _noise(t, 0.002))
    assert classify(_sets(sig), SPECS, "svc").bottleneck == "cpu_saturation"


def test_an_empty_baseline_is_named_and_not_guessed():
    start = W0
    sig = {"latency_p95": _series("latency_p95", lambda t: 1.2, start=start),
           "error_ratio": _series("error_ratio", lambda t: 0.03, start=start),
           "rps": _series("rps", lambda t: 20.0, start=start),
           "cpu_usage_ratio": _series("cpu_usage_ratio", lambda t: 0.99, start=start)}
    v = classify(_sets(sig), SPECS, "svc")
    assert v.bottleneck != "application_errors"
    assert any("baseline" in n and "no data" in n for n in v.notes), v.notes


def test_evidence_sentences_survive_missing_numbers():
    """A slow-query fault with no baseline once crashed formatting a ratio of None."""
    start = W0
    sig = {k: _series(k, lambda t, v=v: v.points[-1][1], start=W0) for k, v in _golden(lat=lambda t: 2.0).items()}
    sig["db_latency_p95"] = _series("db_latency_p95", lambda t: 1.5, start=start)
    sig["db_pool_usage_ratio"] = _series("db_pool_usage_ratio", lambda t: 1.0, start=start)
    sig["dependency_latency_p95"] = _series("dependency_latency_p95", lambda t: 4.0, start=start)
    sig["inflight"] = _series("inflight", lambda t: 300, start=start)
    v = classify(_sets(sig), SPECS, "svc")
    assert v.sentence
    for c in v.candidates:
        for ev in c.evidence:
            assert "None" not in ev["summary"], ev


def _result(name, signals, missing=None, depends_on=()):
    svc = ServiceConfig(name=name, namespace="default", depends_on=tuple(depends_on))
    return rca_service(svc, _sets(signals, missing, name), SPECS, [], [])


def _rank(*results):
    return rank_fleet(list(results), {r.service.name: r.service for r in results})


def test_fleet_points_at_the_callee_its_callers_wait_on():
    def flat():
        return {**_golden(), "cpu_usage_ratio": _series("cpu_usage_ratio", lambda t: 0.2 + _noise(t, 0.01)),
                "dependency_latency_p95": _series("dependency_latency_p95", lambda t: 0.02 + _noise(t, 0.001))}

    def slowed():
        return {**_golden(lat=lambda t: 0.6 if t >= W0 else 0.1),
                "cpu_usage_ratio": _series("cpu_usage_ratio", lambda t: 0.2 + _noise(t, 0.01)),
                "dependency_latency_p95": _series("dependency_latency_p95",
                                                  lambda t: 0.5 if t >= W0 else 0.02 + _noise(t, 0.001))}

    ranking = _rank(_result("web", slowed(), depends_on=["cart"]), _result("api", slowed(), depends_on=["cart", "ads"]),
                    _result("cart", flat()), _result("ads", flat()))
    assert ranking[0]["service"] == "cart", ranking


def test_a_caller_whose_calls_slowed_by_its_own_factor_is_their_symptom():
    """Several calls per request: each call ×7 (+0.13 s) explains a ×6 rise of the caller's own
    p95 (+0.5 s) though the seconds do not add up to half of it; the callee is first."""
    def flat():
        return {**_golden(), "cpu_usage_ratio": _series("cpu_usage_ratio", lambda t: 0.2 + _noise(t, 0.01)),
                "dependency_latency_p95": _series("dependency_latency_p95", lambda t: 0.02 + _noise(t, 0.001))}
    web = {**_golden(lat=lambda t: 0.6 if t >= W0 else 0.1 + _noise(t, 0.005)),
           "cpu_usage_ratio": _series("cpu_usage_ratio", lambda t: 0.2 + _noise(t, 0.01)),
           "dependency_latency_p95": _series("dependency_latency_p95",
                                             lambda t: 0.15 if t >= W0 else 0.02 + _noise(t, 0.001))}
    ranking = _rank(_result("web", web, depends_on=["cart"]), _result("cart", flat()))
    assert ranking[0]["service"] == "cart", ranking


def test_silent_services_do_not_outrank_a_saturated_one():
    silent = {"rps": _series("rps", lambda t: 5.0)}
    hot = {"rps": _series("rps", lambda t: 5.0),
           "cpu_usage_ratio": _series("cpu_usage_ratio", lambda t: 1.0 if t >= W0 else 0.02 + _noise(t, 0.002))}
    missing = {"error_ratio": "no data", "latency_p95": "no data"}
    ranking = _rank(*[_result(f"quiet-{i}", silent, missing) for i in range(10)], _result("zz-hot", hot, missing))
    assert ranking[0]["service"] == "zz-hot", ranking[:3]
    assert ranking[0]["score"] > ranking[1]["score"]


def test_a_caller_of_an_anomalous_callee_is_its_symptom():
    hot_db = {**_golden(lat=lambda t: 1.5 if t >= W0 else 0.1),
              "cpu_usage_ratio": _series("cpu_usage_ratio", lambda t: 1.0 if t >= W0 else 0.1 + _noise(t, 0.005))}
    caller = {**_golden(lat=lambda t: 2.0 if t >= W0 else 0.1),
              "cpu_usage_ratio": _series("cpu_usage_ratio", lambda t: 0.2),
              "dependency_latency_p95": _series("dependency_latency_p95", lambda t: 1.8 if t >= W0 else 0.05)}
    ranking = _rank(_result("orders", caller, depends_on=["pricing"]), _result("pricing", hot_db))
    assert [r["service"] for r in ranking] == ["pricing", "orders"]
    assert ranking[1]["symptom_of"] == ["pricing"]


def test_without_a_call_graph_a_saturated_service_outranks_a_caller_whose_calls_slowed():
    """No depends_on, no per-edge latency: the caller's slow calls are more likely waiting on
    the fleet's saturated service than on something outside the fleet."""
    hot = {**_golden(lat=lambda t: 0.3 if t >= W0 else 0.1),
           "cpu_usage_ratio": _series("cpu_usage_ratio", lambda t: 1.0 if t >= W0 else 0.1 + _noise(t, 0.005))}
    caller = {**_golden(lat=lambda t: 2.0 if t >= W0 else 0.1),
              "cpu_usage_ratio": _series("cpu_usage_ratio", lambda t: 0.2),
              "dependency_latency_p95": _series("dependency_latency_p95",
                                                lambda t: 1.8 if t >= W0 else 0.05 + _noise(t, 0.002))}
    ranking = _rank(_result("orders", caller), _result("pricing", hot))
    assert ranking[0]["service"] == "pricing", ranking
    # With nothing of its own anywhere in the fleet, the slowed calls stay the lead (outside).
    quiet = {**_golden(), "cpu_usage_ratio": _series("cpu_usage_ratio", lambda t: 0.1 + _noise(t, 0.005))}
    ranking = _rank(_result("orders", caller), _result("pricing", quiet))
    assert ranking[0]["service"] == "orders", ranking


def test_a_rise_past_the_warning_is_seen_through_a_baseline_with_earlier_incidents():
    """A ×2.8 p95 above the warning threshold, against a baseline a third of which was earlier
    spikes (their spread would have hidden it behind a z-score gate)."""
    def lat(t):
        if t >= W0:
            return 1.4
        return 1.6 if int((t - BASELINE.start.timestamp()) // 300) % 3 == 0 else 0.5 + _noise(t, 0.15)
    sig = _golden(lat=lat)
    sig["cpu_usage_ratio"] = _series("cpu_usage_ratio", lambda t: 0.3)
    sets = _sets(sig)
    lv = level(sig["latency_p95"], SPECS["latency_p95"], sets)
    assert lv.ratio >= 2.5 and abs(lv.baseline - 0.5) < 0.1   # the earlier spikes are not its normal
    v = classify(sets, SPECS, "svc")
    assert v.user_facing and v.bottleneck != "none"


def test_cpu_far_out_of_its_normal_below_the_warning_with_latency_following():
    sig = _golden(lat=lambda t: 0.9 if t >= W0 else 0.1)
    sig["cpu_usage_ratio"] = _series("cpu_usage_ratio", lambda t: 0.6 if t >= W0 else 0.1 + _noise(t, 0.005))
    v = classify(_sets(sig), SPECS, "svc")
    assert v.bottleneck == "cpu_saturation", [(c.bottleneck, c.score) for c in v.candidates]


def test_cpu_that_only_follows_a_traffic_surge_is_not_called_saturation():
    sig = _golden(lat=lambda t: 0.9 if t >= W0 else 0.1, rps=lambda t: 80.0 if t >= W0 else 20.0)
    sig["cpu_usage_ratio"] = _series("cpu_usage_ratio", lambda t: 0.6 if t >= W0 else 0.15 + _noise(t, 0.005))
    v = classify(_sets(sig), SPECS, "svc")
    assert v.bottleneck != "cpu_saturation"


def test_queries_that_slowed_after_cpu_per_request_rose_are_its_symptoms():
    """A worker starved of CPU (by its quota or a busy host) times its own queries: they
    stretch after CPU per request rose, while traffic fell."""
    cpu_at, db_at = W0 + 15, W0 + 45
    sig = _golden(lat=lambda t: 6.0 if t >= db_at else 0.25, rps=lambda t: 5.0 if t >= cpu_at else 10.0)
    sig["cpu_usage_ratio"] = _series("cpu_usage_ratio", lambda t: 0.6 if t >= cpu_at else 0.07 + _noise(t, 0.005))
    sig["db_latency_p95"] = _series("db_latency_p95", lambda t: 5.0 if t >= db_at else 0.007 + _noise(t, 0.0005))
    sig["db_read_latency_p95"] = _series("db_read_latency_p95", lambda t: 5.0 if t >= db_at else 0.007)
    v = classify(_sets(sig), SPECS, "svc")
    assert v.bottleneck == "cpu_saturation", [(c.bottleneck, round(c.score, 2)) for c in v.candidates]
    assert v.confidence >= 0.6


def test_a_pool_that_filled_after_cpu_per_request_rose_is_its_symptom():
    """Requests waiting for CPU hold their connections: a CPU-starved worker's pool fills
    after its CPU per request rose, its queries barely slower, traffic flat."""
    cpu_at, pool_at = W0 + 15, W0 + 30
    sig = _golden(lat=lambda t: 6.0 if t >= pool_at else 0.25)
    sig["cpu_usage_ratio"] = _series("cpu_usage_ratio", lambda t: 1.0 if t >= cpu_at else 0.1 + _noise(t, 0.005))
    sig["cpu_throttle_ratio"] = _series("cpu_throttle_ratio", lambda t: 0.95 if t >= cpu_at else 0.0)
    sig["db_pool_usage_ratio"] = _series("db_pool_usage_ratio", lambda t: 1.0 if t >= pool_at else 0.1)
    sig["db_pool_wait_p95"] = _series("db_pool_wait_p95", lambda t: 5.0 if t >= pool_at else 0.0005)
    v = classify(_sets(sig), SPECS, "svc")
    assert v.bottleneck == "cpu_saturation", [(c.bottleneck, round(c.score, 2)) for c in v.candidates]
    assert v.confidence >= 0.8, [(c.bottleneck, round(c.score, 2)) for c in v.candidates]


def test_slow_queries_with_cpu_flat_stay_slow_queries():
    db_at = W0 + 15
    sig = _golden(lat=lambda t: 0.9 if t >= db_at else 0.25)
    sig["cpu_usage_ratio"] = _series("cpu_usage_ratio", lambda t: 0.1 + _noise(t, 0.005))
    sig["db_latency_p95"] = _series("db_latency_p95", lambda t: 0.95 if t >= db_at else 0.007 + _noise(t, 0.0005))
    sig["db_read_latency_p95"] = _series("db_read_latency_p95", lambda t: 0.97 if t >= db_at else 0.007)
    assert classify(_sets(sig), SPECS, "svc").bottleneck == "db_latency"


def _edge_series(edges):
    """dependency_edge_latency_p95 with one series per server_address."""
    parts = {e: _series("dependency_edge_latency_p95", fn).points for e, fn in edges.items()}
    worst = tuple((t, max(p[i][1] for p in parts.values())) for i, (t, _) in enumerate(next(iter(parts.values()))))
    return SignalSeries("dependency_edge_latency_p95", "svc", "s", "edge-q", 0, worst, parts)


def test_per_edge_client_latency_names_the_callee_and_says_network():
    """A network delay in front of `ledger`: only the calls to it slowed; its own server-side
    latency stayed flat. The caller also calls two healthy services."""
    def flat_dep(t):
        return 0.02 + _noise(t, 0.001)

    def slow(t):
        return 0.4 if t >= W0 else 0.02 + _noise(t, 0.001)

    caller = {**_golden(lat=lambda t: 0.5 if t >= W0 else 0.1),
              "cpu_usage_ratio": _series("cpu_usage_ratio", lambda t: 0.2),
              "dependency_latency_p95": _series("dependency_latency_p95", slow),
              "dependency_edge_latency_p95": _edge_series({"ledger.shop.svc:8080": slow, "fx.shop": flat_dep,
                                                           "geo": flat_dep})}
    def quiet():
        return {**_golden(), "cpu_usage_ratio": _series("cpu_usage_ratio", lambda t: 0.2 + _noise(t, 0.01))}

    ranking = _rank(_result("payments", caller, depends_on=["fx", "geo"]), _result("ledger", quiet()),
                    _result("fx", quiet()), _result("geo", quiet()))
    assert ranking[0]["service"] == "ledger", ranking
    assert ranking[0].get("network_suspected") is True
    assert "payments" in ranking[0]["why"]
    assert ranking[1]["service"] == "payments"


def test_a_resource_alone_is_a_warning_at_a_lower_severity():
    sig = _golden()
    sig["cpu_usage_ratio"] = _series("cpu_usage_ratio", lambda t: 1.0 if t >= W0 else 0.014 + _noise(t, 0.002))
    r = rca_service(ServiceConfig(name="svc", namespace="default", tier=1), _sets(sig), SPECS, [], [])
    assert r.verdict.bottleneck == "cpu_saturation"
    assert r.status.value == "warning" and r.severity == "P2"


def test_outbound_timers_without_an_onset_in_a_throttled_process_are_its_symptom():
    """A worker throttled to its quota times its outbound calls out: their p95 and failures come
    and go (no completed call in some steps), so no onset can be told; they still stretched inside the
    throttled process and must not tie with the CPU."""
    cpu_at = W0 + 15
    sig = _golden(lat=lambda t: 6.0 if t >= cpu_at else 0.25)
    sig["cpu_usage_ratio"] = _series("cpu_usage_ratio", lambda t: 1.0 if t >= cpu_at else 0.1 + _noise(t, 0.005))
    sig["cpu_throttle_ratio"] = _series("cpu_throttle_ratio", lambda t: 0.98 if t >= cpu_at else 0.0)

    def timed_out(t):
        if t < cpu_at:
            return 0.3 + _noise(t, 0.01)
        return 0.3 if int(t // 15) % 3 == 2 else 10.0     # never three steps out in a row
    sig["dependency_latency_p95"] = _series("dependency_latency_p95", timed_out)
    sig["dependency_error_ratio"] = _series("dependency_error_ratio",
                                            lambda t: 0.22 if t >= cpu_at and int(t // 15) % 3 != 2 else 0.0)
    v = classify(_sets(sig), SPECS, "svc")
    scores = [(c.bottleneck, round(c.score, 2)) for c in v.candidates]
    assert v.bottleneck == "cpu_saturation", scores
    dep = next(c for c in v.candidates if c.bottleneck == "external_dependency")
    assert dep.score < 0.8, scores
    assert v.confidence >= 0.6, scores
