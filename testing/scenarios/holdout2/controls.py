"""Controls (`none`) that look scary, and honest unknowns."""

from __future__ import annotations

from testing.scenarios.generator import (
    piecewise,
    ramp,
)
from testing.scenarios.holdout2.base import GiB, L, base
from testing.scenarios.library import at
from testing.scenarios.rca_library import (
    LabelledScenario,
)

# The *_scenarios() functions are lists of scenario literals, one case after another: long by
# content, not by logic (issue 14's 60-line bound is for logic); each stays whole so a class's
# cases read together.


# ======================================================================================
# 6. Controls (none) that look scary
# ======================================================================================

def controls_scenarios() -> list[LabelledScenario]:
    out = []

    out.append(L(base(
        "h2-mem88-flat", "h2-media", memory_limit_bytes=2 * GiB, memory_working_set_bytes=0.88 * 2 * GiB,
    ), "none",
        "working set 88 % of the limit, flat for two hours (a sized cache), no OOM, no "
        "restarts, golden signals normal"))

    # A DB blip 19:10-19:25 inside the baseline, fully recovered long before the window.
    blip = (at(19, 10), at(19, 12), at(19, 23), at(19, 25))

    def bump(lo: float, hi: float):
        return piecewise([(blip[0], lo), (blip[1], hi), (blip[2], hi), (blip[3], lo)])

    out.append(L(base(
        "h2-baseline-blip", "h2-catalog",
        db_latency_p50={"select": bump(0.003, 0.15)}, db_latency_p95={"select": bump(0.010, 0.5)},
        latency_p50=bump(0.045, 0.3), latency_p95=bump(0.16, 1.4), pool_used=bump(3.0, 6.0),
        error_ratio=bump(0.003, 0.01),
    ), "none",
        "latency rose 19:10-19:25 (inside the baseline, slow selects) and recovered 20 min "
        "before the window; the window is normal, even better than the baseline"))

    # A surge the service absorbs: the HPA adds pods (new pods, new counters), per-pod
    # CPU barely moves, latency flat.
    out.append(L(base(
        "h2-absorbed-hpa", "h2-shop", pods=3, hpa_min=1, hpa_max=5,
        replicas=piecewise([(at(19, 44, 30), 1), (at(19, 45), 2), (at(19, 46, 30), 2), (at(19, 47), 3)]),
        rps=ramp(60.0, 115.0, at(19, 43), at(19, 47)),
        cpu_usage_cores=piecewise([(at(19, 43), 0.45), (at(19, 45), 0.66), (at(19, 47), 0.58),
                                   (at(19, 48), 0.48)]),
        pool_used=piecewise([(at(19, 43), 3.0), (at(19, 45), 4.5), (at(19, 48), 3.2)]),
        latency_p95=piecewise([(at(19, 43), 0.16), (at(19, 45), 0.2), (at(19, 48), 0.17)]),
    ), "none",
        "rps x1.9 absorbed: the HPA went 1->3 pods, per-pod CPU back to 48 %, latency and "
        "errors flat (a surge the service absorbs is none)"))

    out.append(L(base(
        "h2-pool90-flat", "h2-orders", pool_used=9.0, pool_wait_p95=0.004, pool_wait_p50=0.0004,
    ), "none",
        "pool 9/10 (90 %) on every pod for two hours with waits at 4 ms, queries fast, "
        "latency and errors normal: a tight but steady pool"))
    return out


# ======================================================================================
# 7. Honest unknowns
# ======================================================================================

def unknowns_scenarios() -> list[LabelledScenario]:
    out = []
    on = (at(19, 47), at(19, 48))

    out.append(L(base(
        "h2-unk-http-only", "h2-legacy", families=frozenset({"http"}),
        latency_p50=ramp(0.045, 1.0, *on), latency_p95=ramp(0.15, 2.8, *on),
        error_ratio=ramp(0.003, 0.05, *on),
    ), "unknown",
        "latency 0.15->2.8 s and 5 % errors, but only the HTTP metrics exist: no CPU, "
        "memory, DB or dependency signal to say why",
        missing=("cpu_usage_ratio", "db_latency_p95")))

    out.append(L(base(
        "h2-unk-no-backend", "h2-legacy", families=frozenset({"http", "inflight", "cadvisor", "ksm",
                                                             "hpa", "alerts"}),
        cpu_usage_cores=ramp(0.25, 0.18, *on),
        latency_p50=ramp(0.045, 0.8, *on), latency_p95=ramp(0.15, 2.2, *on),
        error_ratio=ramp(0.003, 0.03, *on),
    ), "unknown",
        "latency 0.15->2.2 s, in-flight up, CPU low and memory normal: it waits on something, "
        "but DB, pool and dependency metrics are all absent",
        missing=("db_latency_p95", "dependency_latency_p95")))

    out.append(L(base(
        "h2-unk-errors-blind", "h2-legacy", families=frozenset({"http", "inflight", "db", "pool",
                                                               "postgres"}),
        error_statuses={"503": 1.0},
        error_ratio=ramp(0.003, 0.2, *on), latency_p95=ramp(0.16, 0.45, *on),
    ), "unknown",
        "20 % 503s with the DB and pool healthy, but no CPU, memory, restart or deploy "
        "signal (no cAdvisor, process or kube-state metrics): crash/OOM/bad deploy cannot be told apart",
        missing=("cpu_usage_ratio", "memory_usage_ratio")))
    return out


