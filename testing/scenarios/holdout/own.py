"""Hold-out scenarios whose cause is the service's own CPU or memory."""

from __future__ import annotations

from testing.scenarios.generator import (
    Alert,
    Restart,
    piecewise,
    pulse,
    ramp,
    step,
)
from testing.scenarios.holdout.base import END, K8S_HTTP, NO_PROCESS, PG_FIN, PG_TIX, GiB, L, MiB, follow, hs
from testing.scenarios.library import at
from testing.scenarios.rca_library import LabelledScenario

# The *_scenarios() functions are lists of scenario literals, one case after another: long by
# content, not by logic (issue 14's 60-line bound is for logic); each stays whole so a class's
# cases read together.


# --------------------------------------------------------------------------------------
# cpu_saturation
# --------------------------------------------------------------------------------------

def cpu_scenarios() -> list[LabelledScenario]:
    rps1 = ramp(70.0, 175.0, at(19, 47), at(19, 49))
    search_api = hs(
        "ho-search-api", "ho-shop", pods=3, replicas=step(2, 3, at(19, 48)), hpa_min=2, hpa_max=3,
        tier=2, noise=0.03, rps=rps1,
        cpu_limit_cores=1.0, cpu_usage_cores=follow(rps1, 70.0, 0.42),      # demand 1.05 -> pinned
        latency_p50=ramp(0.05, 0.70, at(19, 47), at(19, 50)),
        latency_p95=ramp(0.16, 1.90, at(19, 47), at(19, 50)),
        error_ratio=ramp(0.002, 0.012, at(19, 48), at(19, 50)),
        pool_size=10, pool_used=ramp(2.0, 3.5, at(19, 47), at(19, 49)),
        alerts=(Alert("HPAMaxedOut", "warning", at(19, 49)), Alert("HighLatencyP95", "critical", at(19, 51))),
    )
    rps2 = ramp(45.0, 80.0, at(19, 40), at(19, 50))
    pricing = hs(
        "ho-pricing", "ho-shop", pods=1, tier=2, noise=0.02, rps=rps2,
        cpu_limit_cores=0.5, cpu_usage_cores=ramp(0.24, 0.44, at(19, 40), at(19, 50)),   # 48 % -> 88 %
        latency_p50=ramp(0.045, 0.22, at(19, 42), at(19, 50)),
        latency_p95=ramp(0.13, 0.75, at(19, 42), at(19, 50)),
        error_ratio=0.002, pool_size=10, pool_used=2.5,
    )
    thumbs = hs(
        "ho-thumbnailer", "ho-rides", pg=None, pods=2, tier=3, noise=0.04, families=K8S_HTTP,
        rps=25.0, deploys=(at(19, 50),),
        cpu_limit_cores=0.5, cpu_usage_cores=step(0.15, 0.75, at(19, 50, 30)),       # pinned at 0.5
        latency_p50=step(0.09, 1.1, at(19, 50, 30)),
        latency_p95=step(0.25, 2.9, at(19, 50, 30)),
        error_ratio=step(0.002, 0.01, at(19, 51)),
    )
    rps4 = ramp(300.0, 420.0, at(19, 30), at(19, 58))
    maps = hs(
        "ho-maps-tiles", "ho-rides", pg=None, pods=6, hpa_min=6, hpa_max=6, tier=2, noise=0.05,
        families=K8S_HTTP, rps=rps4,
        cpu_limit_cores=1.0, cpu_usage_cores=ramp(0.62, 0.93, at(19, 30), at(19, 58)),
        latency_p50=ramp(0.06, 0.35, at(19, 40), at(19, 58)),
        latency_p95=ramp(0.18, 1.3, at(19, 40), at(19, 58)),
        error_ratio=0.003,
    )
    return [
        L(search_api, "cpu_saturation", "traffic_surge",
          "x2.5 surge at 19:47, CPU pinned at the 1-core limit and throttled, HPA already at max; p95 0.16->1.9 s"),
        L(pricing, "cpu_saturation", None,
          "borderline: CPU 48 %->88 % of limit from 19:40 (baseline tail), load x1.8, p95 0.13->0.75 s"),
        L(thumbs, "cpu_saturation", "deploy",
          "deploy at 19:50 adds CPU-heavy code: flat traffic, CPU pinned at 0.5-core limit; only cAdvisor+ksm+http"),
        L(maps, "cpu_saturation", None,
          "stateless tile server, 6 pods at HPA max, slow ramp 62 %->93 % CPU from 19:30 with load, p95 ->1.3 s; no process metrics"),
    ]


# --------------------------------------------------------------------------------------
# memory_pressure
# --------------------------------------------------------------------------------------

def memory_scenarios() -> list[LabelledScenario]:
    lim1 = 1 * GiB
    sessions = hs(
        "ho-session-store", "ho-shop", pods=1, tier=1, noise=0.02, rps=90.0,
        memory_limit_bytes=lim1,
        memory_working_set_bytes=ramp(0.45 * lim1, 0.97 * lim1, at(19, 0), END),
        latency_p50=ramp(0.03, 0.12, at(19, 40), END), latency_p95=ramp(0.09, 0.55, at(19, 40), END),
        cpu_usage_cores=ramp(0.2, 0.32, at(19, 40), END), error_ratio=0.002,
        pool_size=10, pool_used=3.0,
    )
    lim2 = 768 * MiB
    report = hs(
        "ho-report-gen", "ho-fin", pg=PG_FIN, pods=2, tier=3, noise=0.03, rps=12.0,
        memory_limit_bytes=lim2,
        memory_working_set_bytes=piecewise([
            (at(18, 0), 0.50 * lim2), (at(19, 35), 0.62 * lim2), (at(19, 49), 0.995 * lim2),
            (at(19, 49, 30), 0.35 * lim2), (at(19, 56), 0.99 * lim2), (at(19, 56, 30), 0.35 * lim2),
            (END, 0.80 * lim2)]),
        restarts=(Restart(at(19, 49), pod=0, reason="OOMKilled"), Restart(at(19, 49, 30), pod=1, reason="OOMKilled"),
                  Restart(at(19, 56), pod=1, reason="OOMKilled"), Restart(at(19, 56, 30), pod=0, reason="OOMKilled")),
        error_ratio=pulse(pulse(0.003, 0.08, at(19, 49), at(19, 51)), 0.09, at(19, 56), at(19, 58)),
        error_statuses={"502": 0.6, "503": 0.4},
        latency_p50=ramp(0.2, 0.6, at(19, 40), at(19, 49)), latency_p95=ramp(0.6, 2.4, at(19, 40), at(19, 49)),
        cpu_usage_cores=0.3, pool_size=5, pool_used=1.5,
        alerts=(Alert("KubePodOOMKilled", "warning", at(19, 49, 30)),),
    )
    lim3 = 512 * MiB
    pdf = hs(
        "ho-pdf-render", "ho-tix", pg=PG_TIX, pods=1, tier=3, noise=0.04, families=NO_PROCESS, rps=8.0,
        memory_limit_bytes=lim3,
        memory_working_set_bytes=ramp(0.60 * lim3, 0.92 * lim3, at(19, 40), END),
        latency_p50=ramp(0.15, 0.3, at(19, 47), END), latency_p95=ramp(0.45, 1.0, at(19, 47), END),
        cpu_usage_cores=0.18, error_ratio=0.003, pool_size=5, pool_used=1.0,
    )
    lim4 = 1 * GiB
    cache = hs(
        "ho-price-cache", "ho-shop", pods=1, tier=2, noise=0.03, rps=150.0,
        deploys=(at(19, 47),), memory_limit_bytes=lim4,
        memory_working_set_bytes=piecewise([(at(18, 0), 0.38 * lim4), (at(19, 47, 30), 0.38 * lim4),
                                            (at(19, 57), 0.995 * lim4), (at(19, 57, 30), 0.30 * lim4),
                                            (END, 0.50 * lim4)]),
        restarts=(Restart(at(19, 57), pod=0, reason="OOMKilled"),),
        error_ratio=pulse(0.001, 0.12, at(19, 57), at(19, 58, 30)),
        latency_p50=ramp(0.02, 0.09, at(19, 52), at(19, 57)), latency_p95=ramp(0.06, 0.45, at(19, 52), at(19, 57)),
        cpu_usage_cores=0.25, pool_size=10, pool_used=2.0,
    )
    return [
        L(sessions, "memory_pressure", None,
          "slow leak from 19:00: working set 45 %->97 % of limit, no OOM yet, p95 mildly up (GC pauses)"),
        L(report, "memory_pressure", None,
          "sawtooth to 99.5 % of the limit, four OOMKilled restarts on 2 pods in the window, 5xx bursts"),
        L(pdf, "memory_pressure", None,
          "borderline, 1 pod: working set 60 %->92 % of limit from 19:40 and still growing; no process metrics"),
        L(cache, "memory_pressure", "deploy",
          "deploy at 19:47 leaks: 38 %->99.5 % in 10 min, OOMKilled at 19:57, 5xx burst"),
    ]
