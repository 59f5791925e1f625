"""The hold-out set's controls and honest unknowns, and the whole set."""

from __future__ import annotations

import math

from testing.scenarios.generator import (
    ServiceSpec,
    lognormal_mean,
    pulse,
    ramp,
    step,
)
from testing.scenarios.holdout.base import PG_TIX, L, hs
from testing.scenarios.holdout.calls import app_errors_scenarios, external_scenarios
from testing.scenarios.holdout.database import churn_scenarios, db_latency_scenarios, locks_scenarios, pool_scenarios
from testing.scenarios.holdout.own import cpu_scenarios, memory_scenarios
from testing.scenarios.library import at
from testing.scenarios.rca_library import LabelledScenario

# The *_scenarios() functions are lists of scenario literals, one case after another: long by
# content, not by logic (issue 14's 60-line bound is for logic); each stays whole so a class's
# cases read together.


# --------------------------------------------------------------------------------------
# none / unknown
# --------------------------------------------------------------------------------------

def controls_scenarios() -> list[LabelledScenario]:
    rps1 = ramp(60.0, 180.0, at(19, 15), at(20, 0))
    morning = hs(
        "ho-morning-feed", "ho-shop", pods=2, replicas=step(1, 2, at(19, 52)), hpa_min=1, hpa_max=4,
        tier=2, noise=0.03, rps=rps1,
        cpu_usage_cores=ramp(0.15, 0.42, at(19, 15), at(20, 0)), latency_p50=0.05, latency_p95=0.14,
        error_ratio=0.002, pool_size=10, pool_used=ramp(2.0, 4.0, at(19, 15), at(20, 0)),
    )
    blog = hs(
        "ho-noisy-blog", "ho-tix", pg=PG_TIX, pods=1, tier=3, noise=0.08, rps=35.0,
        latency_p50=pulse(0.06, 0.5, at(19, 53), at(19, 54)), latency_p95=pulse(0.18, 1.3, at(19, 53), at(19, 54)),
        error_ratio=0.003, cpu_usage_cores=0.2, pool_size=5, pool_used=1.0,
    )
    rps3 = ramp(100.0, 260.0, at(19, 47), at(19, 49))
    flash = hs(
        "ho-flash-sale", "ho-shop", pods=1, tier=1, noise=0.03, rps=rps3,
        cpu_limit_cores=1.0, cpu_usage_cores=ramp(0.25, 0.65, at(19, 47), at(19, 49)),
        latency_p50=ramp(0.045, 0.05, at(19, 47), at(19, 49)), latency_p95=ramp(0.12, 0.14, at(19, 47), at(19, 49)),
        error_ratio=0.002, pool_size=20, pool_used=ramp(3.0, 7.0, at(19, 47), at(19, 49)),
    )
    return [
        L(morning, "none", None,
          "Monday-morning ramp 60->180 req/s from 19:15, HPA adds a pod at 19:52, CPU <=45 %, latency and errors flat"),
        L(blog, "none", None,
          "8 % noise and one 1-minute p95 spike to 1.3 s at 19:53; otherwise normal"),
        L(flash, "none", "traffic_surge",
          "x2.6 surge absorbed: CPU 25->65 %, p95 120->140 ms, errors flat, pool 35 %"),
    ]


def unknown_scenarios() -> list[LabelledScenario]:
    legacy_cart = hs(
        "ho-cart-legacy", "ho-shop", pg=None, pods=1, tier=1, noise=0.03, families=frozenset({"http", "inflight"}),
        rps=50.0,
        latency_p50=ramp(0.05, 1.2, at(19, 47), at(19, 49)), latency_p95=ramp(0.15, 2.8, at(19, 47), at(19, 49)),
        error_ratio=ramp(0.003, 0.05, at(19, 47), at(19, 49)),
    )
    ledger = hs(
        "ho-ledger-api", "ho-fin", pg=None, pods=1, tier=1, noise=0.03,
        families=frozenset({"http", "inflight", "process", "cadvisor", "ksm"}), rps=45.0,
        latency_p50=ramp(0.07, 1.0, at(19, 47), at(19, 50)), latency_p95=ramp(0.2, 2.4, at(19, 47), at(19, 50)),
        error_ratio=ramp(0.003, 0.012, at(19, 47), at(19, 50)), cpu_usage_cores=0.25,
    )
    return [
        L(legacy_cart, "unknown", None,
          "VM app with only http metrics: p95 0.15->2.8 s, 5xx 5 %; no CPU, memory, DB or dependency signals",
          missing=("cpu_usage_ratio", "memory_usage_ratio", "db_latency_p95")),
        L(ledger, "unknown", None,
          "p95 0.2->2.4 s with CPU 25 % and memory flat, no deploy; no DB, pool or client metrics to say why",
          missing=("db_latency_p95", "db_pool_usage_ratio", "dependency_latency_p95")),
    ]


def holdout_library() -> list[LabelledScenario]:
    out = (cpu_scenarios() + memory_scenarios() + pool_scenarios() + db_latency_scenarios() + locks_scenarios() + churn_scenarios() + external_scenarios()
           + app_errors_scenarios() + controls_scenarios() + unknown_scenarios())
    names = [s.name for s in out]
    assert len(set(names)) == len(names) and all(n.startswith("ho-") for n in names), names
    return out


def connect_share(spec: ServiceSpec, t: float) -> float:
    """The expected share of DB time spent in connect at time t (a sanity check of the design)."""
    from testing.scenarios.generator import (
        DEFAULT_DB_OPS,
        DEFAULT_DB_P50,
        DEFAULT_DB_P95,
        as_curve,
    )
    ops = dict(DEFAULT_DB_OPS)
    ops.update(spec.db_ops)
    tot = con = 0.0
    for op, n in ops.items():
        p50 = as_curve(spec.db_latency_p50.get(op, DEFAULT_DB_P50[op]))(t)
        p95 = as_curve(spec.db_latency_p95.get(op, DEFAULT_DB_P95[op]))(t)
        x = n * lognormal_mean(p50, p95)
        tot += x
        if op == "connect":
            con = x
    return con / tot if tot else math.nan
