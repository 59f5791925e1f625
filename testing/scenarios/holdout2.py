"""The SECOND blind held-out set for `triage rca`: harder cases, designed from the spec alone.

Written from CONTRACT.md, the seed summaries and the generator only, without reading the
classifier (``triage/analysis/``) or the scenario definitions of ``rca_library.py`` and
``holdout.py``.  Every service is prefixed ``h2-`` and lives in one Prometheus on the
standard timeline (baseline 18:46..19:46, window 19:46..20:01 on 2026-11-10, exported
18:41..20:01 at 30 s, like the other libraries).

What makes it harder than the first held-out set:

- competing problems, one of them the real cause (a pool at 85 % next to queries 20x
  slower; CPU at 82 % next to a dependency answering 504 after 4 s; memory at 85 % next to
  a bad deploy; a surge that saturates CPU while the pool sits at 80 %);
- cause-then-effect chains inside one service (slow dependency, then the pool fills
  because connections are held across the call; lock waits, then the pool fills);
- messy data: counter resets mid-window, pods coming and going, scrape gaps (samples
  removed after generation, counters carry on as a real missed scrape would), 8-12 %
  noise, short spikes in the baseline, an incident that started 10 min before the window;
- borderline magnitudes on both sides of "incident" (thresholds from seed 001: p95
  < 500 ms healthy, error ratio warning > 1 %, CPU warning > 80 %, saturation > 90 %,
  pool warning > 80 %);
- ``none`` controls that look scary, and honest ``unknown`` s whose deciding signals are
  absent.

Public API::

    holdout2_library() -> list[LabelledScenario]
    GAPS: {service: [(metric-name prefixes or (), start, end), ...]}   # scrape gaps
    serve_holdout2(workdir, scenarios=None)  # context manager -> LibraryServer
    H2_CHAIN                                 # (root cause, its caller) for the fleet ranking
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from testing.scenarios.generator import (
    Alert,
    CurveLike,
    Dataset,
    Dependency,
    Restart,
    ServiceSpec,
    as_curve,
    generate,
    piecewise,
    pulse,
    ramp,
    step,
)
from testing.scenarios.library import at
from testing.scenarios.rca_library import (
    EXPORT_END_S,
    EXPORT_START_S,
    EXPORT_STEP_S,
    LabelledScenario,
    LibraryServer,
    rca_config,
)

GiB = 1024 ** 3
MiB = 1024 ** 2

W0 = at(19, 46)          # the window opens
END = at(20, 1)          # --at

ALL = frozenset({"http", "inflight", "db", "pool", "process", "cadvisor", "ksm", "hpa",
                 "postgres", "client", "alerts"})
NO_POOL = ALL - {"pool"}

#: Postgres servers (host:port, max_connections); several databases share each.
PG_CORE = ("pg-core.h2-data:5432", 300)
PG_FIN = ("pg-fin.h2-data:5432", 200)
PG_LEGACY = ("pg-legacy.h2-billing:5432", 100)

_DB50 = {"select": 0.003, "insert": 0.004, "update": 0.004, "delete": 0.004, "connect": 0.003}
_DB95 = {"select": 0.010, "insert": 0.014, "update": 0.014, "delete": 0.012, "connect": 0.009}

#: root cause first: h2-ledger's queries got slow, h2-dep-then-pool waits on it.
H2_CHAIN = ("h2-ledger", "h2-dep-then-pool")


def scaled(curve: CurveLike, k: float):
    f = as_curve(curve)
    return lambda t: f(t) * k


def slower(factor_curve: CurveLike, ops: Sequence[str] = ("select", "insert", "update", "delete")) -> dict:
    """DB p50/p95 for ``ops`` = healthy x a factor curve (1 = healthy)."""
    f = as_curve(factor_curve)
    p50 = {op: (lambda t, b=_DB50[op]: b * f(t)) for op in ops}
    p95 = {op: (lambda t, b=_DB95[op]: b * f(t)) for op in ops}
    return {"db_latency_p50": p50, "db_latency_p95": p95}


def base(name: str, namespace: str, pg: tuple[str, int] = PG_CORE, **kw) -> ServiceSpec:
    """A healthy 1-pod service: 30 % CPU, half its memory, pool 3/10, queries ~10 ms."""
    spec: dict = {
        "name": name, "namespace": namespace, "database": name.replace("-", "_"), "pods": 1, "tier": 2,
        "pg_server": pg[0], "pg_max_connections": pg[1], "families": ALL,
        "handlers": ((f"/api/{name[3:]}", "GET", 1.0),),
        "rps": 60.0, "error_ratio": 0.003, "latency_p50": 0.045, "latency_p95": 0.16,
        "cpu_limit_cores": 1.0, "cpu_usage_cores": 0.3,
        "memory_limit_bytes": 1 * GiB, "memory_working_set_bytes": 0.5 * GiB,
        "pool_size": 10, "pool_used": 3.0, "noise": 0.04,
        "db_latency_p50": dict(_DB50), "db_latency_p95": dict(_DB95),
    }
    for k in ("db_latency_p50", "db_latency_p95"):
        if k in kw:
            spec[k].update(kw.pop(k))
    spec.update(kw)
    return ServiceSpec(**spec)


def L(spec: ServiceSpec, bottleneck: str, note: str, trigger: str | None = None,
      acceptable: tuple[str, ...] = (), missing: tuple[str, ...] = ()) -> LabelledScenario:
    return LabelledScenario(spec, bottleneck, trigger, note, acceptable, missing)


# ======================================================================================
# 1. Competing problems: one of them is the cause
# ======================================================================================

def _competing() -> list[LabelledScenario]:
    out = []

    # Pool climbs to 85 % (17/20) -- over the 80 % warning -- but only because every query
    # holds its connection 20x longer: pool waits stay small, the queries are the problem.
    on = (at(19, 46, 30), at(19, 48))
    q = ramp(1.0, 20.0, *on)
    out.append(L(base(
        "h2-pool85-slowq", "h2-shop", pool_size=20,
        pool_used=ramp(6.0, 17.0, *on), pool_wait_p50=0.0003,
        pool_wait_p95=ramp(0.002, 0.03, *on),
        **slower(q),
        latency_p50=ramp(0.05, 0.3, *on), latency_p95=ramp(0.17, 1.3, *on),
        error_ratio=ramp(0.003, 0.01, *on), cpu_usage_cores=ramp(0.35, 0.3, *on),
    ), "db_latency",
        "pool 6->17/20 (85-90 %) but pool wait p95 only 30 ms while every query is 20x slower "
        "(select p95 10->200 ms): the queries hold connections longer, the pool is a symptom"))

    # CPU hot (65 -> 82 %, throttling up as cAdvisor shows it) from retries, but the time
    # goes to a partner API answering 504 after 4 s.
    on = (at(19, 46, 30), at(19, 47, 30))
    out.append(L(base(
        "h2-cpu82-dep504", "h2-risk", cpu_usage_cores=ramp(0.65, 0.82, *on), rps=40.0,
        dependencies=(Dependency("risk-score.partner.example:443", 1.0,
                                 latency_p50=ramp(0.04, 2.2, *on), latency_p95=ramp(0.12, 4.0, *on),
                                 error_ratio=ramp(0.002, 0.30, *on), error_status="504"),),
        error_statuses={"502": 0.3, "504": 0.7},
        latency_p50=ramp(0.08, 2.3, *on), latency_p95=ramp(0.22, 4.3, *on),
        error_ratio=ramp(0.003, 0.26, *on),
    ), "external_dependency",
        "CPU 65->82 % (warning, not saturated, rps flat) while the risk-score API went "
        "0.12->4 s p95 with 30 % 504s and latency/errors track it exactly",
        trigger="dependency_failure"))

    # Memory at 85 % of the limit, flat for the whole two hours; a deploy at 19:47 and the
    # 5xx ratio jumps to 15 % with latency unchanged (fast failures).
    dep = at(19, 47)
    out.append(L(base(
        "h2-mem85-deploy", "h2-shop", memory_working_set_bytes=0.85 * GiB, deploys=(dep,),
        rollout_seconds=60.0, error_ratio=step(0.003, 0.15, dep + 60),
        error_statuses={"500": 1.0}, latency_p95=step(0.16, 0.15, dep + 60),
    ), "application_errors",
        "memory 85 % but flat for 2 h, no OOM or restart; 5xx 0.3->15 % right after the "
        "19:47 deploy with CPU/DB/dependency normal: a bad deploy", trigger="deploy"))

    # A traffic surge x2: CPU pinned at the limit, throttled 60 %, latency follows load;
    # the pool rises to 80 % (demand follows rps) without waits, queries stay fast.
    on = (at(19, 45), at(19, 47))
    rps = ramp(80.0, 160.0, *on)
    out.append(L(base(
        "h2-surge-cpu", "h2-shop", pods=2, rps=rps, hpa_max=2,
        cpu_usage_cores=ramp(0.48, 1.05, *on), cpu_throttle_ratio=ramp(0.03, 0.6, *on),
        pool_used=ramp(4.0, 8.0, *on), pool_wait_p95=ramp(0.002, 0.008, *on),
        latency_p50=ramp(0.05, 0.55, *on), latency_p95=ramp(0.15, 1.6, *on),
        error_ratio=ramp(0.002, 0.02, *on),
    ), "cpu_saturation",
        "rps x2, CPU at 100 % of the limit and 60 % throttled, latency follows load; pool "
        "at 8/10 (80 %) but no waits and queries at 10 ms", trigger="traffic_surge"))
    return out


# ======================================================================================
# 2. Cause-then-effect chains inside one service (and across two for the fleet ranking)
# ======================================================================================

def _chains() -> list[LabelledScenario]:
    out = []

    # The ledger: a query plan went bad at 19:43 (a missed index after a migration).
    on = (at(19, 43), at(19, 44))
    out.append(L(base(
        "h2-ledger", "h2-fin", pg=PG_FIN, tier=1, pool_size=20, pool_used=ramp(6.0, 14.0, *on),
        db_latency_p50={"select": ramp(0.003, 1.0, *on)},
        db_latency_p95={"select": ramp(0.010, 2.6, *on)},
        latency_p50=ramp(0.03, 1.1, *on), latency_p95=ramp(0.08, 2.9, *on),
        error_ratio=ramp(0.002, 0.01, *on), cpu_usage_cores=0.25,
    ), "db_latency",
        "select p95 10 ms -> 2.6 s from 19:43, writes fine, pool 14/20 without waits: its own "
        "queries got slow (root cause of h2-dep-then-pool)"))

    # Its caller: the ledger call slows at 19:43-45 (before the window); from 19:49 the pool
    # fills because a DB transaction is held open across the ledger call.
    dep_on = (at(19, 43, 30), at(19, 45))
    pool_on = (at(19, 49), at(19, 51))
    out.append(L(base(
        "h2-dep-then-pool", "h2-fin", pg=PG_FIN, tier=1, depends_on=("h2-ledger",),
        dependencies=(Dependency("h2-ledger.h2-fin:8000", 1.0,
                                 latency_p50=ramp(0.03, 1.1, *dep_on), latency_p95=ramp(0.08, 3.0, *dep_on),
                                 error_ratio=ramp(0.001, 0.02, *dep_on), error_status="504"),),
        pool_used=ramp(3.0, 14.0, *pool_on),
        pool_wait_p50=ramp(0.0002, 0.3, *pool_on), pool_wait_p95=ramp(0.002, 1.2, *pool_on),
        pg_idle_in_transaction=ramp(1.0, 12.0, *pool_on),
        latency_p50=piecewise([(dep_on[0], 0.05), (dep_on[1], 1.2), (pool_on[0], 1.2), (pool_on[1], 2.0)]),
        latency_p95=piecewise([(dep_on[0], 0.2), (dep_on[1], 3.2), (pool_on[0], 3.2), (pool_on[1], 4.6)]),
        error_ratio=piecewise([(dep_on[0], 0.003), (dep_on[1], 0.02), (pool_on[1], 0.06)]),
        cpu_usage_cores=ramp(0.3, 0.2, *dep_on),
    ), "external_dependency",
        "the ledger call went 0.08->3 s at 19:44; only from 19:49 did the pool fill (10/10, "
        "wait p95 1.2 s, idle-in-transaction up) with queries still fast: connections held "
        "across the slow call", trigger="dependency_failure"))

    # Lock waits from 19:45 (a long migration transaction holding row locks); the pool
    # fills later (19:50) because blocked writers keep their connections.
    lk = (at(19, 44, 30), at(19, 46))
    pool_on = (at(19, 50), at(19, 53))
    out.append(L(base(
        "h2-lock-then-pool", "h2-orders", pg=PG_CORE,
        handlers=(("/api/orders", "GET", 0.6), ("/api/orders/place", "POST", 0.4)),
        db_ops={"select": 2.0, "insert": 1.0, "update": 1.0, "delete": 0.05, "connect": 0.001},
        db_latency_p50={op: ramp(0.004, 0.5, *lk) for op in ("insert", "update", "delete")},
        db_latency_p95={op: ramp(0.014, 1.5, *lk) for op in ("insert", "update", "delete")},
        locks={"rowexclusivelock": ramp(3.0, 45.0, *lk), "exclusivelock": ramp(0.0, 12.0, *lk),
               "sharelock": ramp(0.0, 8.0, *lk), "accessexclusivelock": ramp(0.0, 1.0, *lk)},
        pg_idle_in_transaction=ramp(1.0, 14.0, *lk),
        pool_used=ramp(3.5, 13.0, *pool_on),
        pool_wait_p50=ramp(0.0002, 0.2, *pool_on), pool_wait_p95=ramp(0.002, 0.8, *pool_on),
        latency_p50=piecewise([(lk[0], 0.05), (lk[1], 0.4), (pool_on[0], 0.4), (pool_on[1], 0.8)]),
        latency_p95=piecewise([(lk[0], 0.16), (lk[1], 1.6), (pool_on[0], 1.6), (pool_on[1], 2.2)]),
        error_ratio=ramp(0.003, 0.03, *lk),
    ), "lock_contention",
        "write p95 14 ms -> 1.5 s and locks 3->45 (+exclusive) from 19:45 with reads at 10 ms; "
        "the pool filled only from 19:50, held by blocked writers"))
    return out


# ======================================================================================
# 3. Messy data
# ======================================================================================

def _messy() -> list[LabelledScenario]:
    out = []

    # Counter resets mid-window (worker recycling: the process restarts in place, no
    # Kubernetes restart) on two of three pods, one more in the baseline.
    on = (at(19, 46, 30), at(19, 48))
    out.append(L(base(
        "h2-resets-dblat", "h2-catalog", pods=3, noise=0.05,
        counter_resets=((at(19, 22), 2), (at(19, 50), 0), (at(19, 55, 30), 1)),
        **slower(ramp(1.0, 12.0, *on)),
        pool_used=ramp(3.0, 7.0, *on),
        latency_p50=ramp(0.045, 0.3, *on), latency_p95=ramp(0.15, 0.95, *on),
        error_ratio=ramp(0.003, 0.012, *on),
    ), "db_latency",
        "every query 12x slower (select p95 10->120 ms), latency 0.15->0.95 s; counters of "
        "two pods reset inside the window (worker recycling) and one in the baseline"))

    # Pods come and go: a leak drives the working set to the limit, OOMKilled twice in the
    # window, one pod evicted and rescheduled (absent 19:52-19:54); 6 % noise.
    out.append(L(base(
        "h2-replicas-oom", "h2-media", pods=3, noise=0.06,
        replicas=piecewise([(at(19, 52), 3), (at(19, 52, 1), 2), (at(19, 54), 2), (at(19, 54, 1), 3)]),
        memory_working_set_bytes=piecewise([(at(19, 15), 0.55 * GiB), (at(19, 50, 59), 0.985 * GiB),
                                            (at(19, 51), 0.62 * GiB), (at(19, 58), 0.96 * GiB)]),
        restarts=(Restart(at(19, 51), 1, "OOMKilled"), Restart(at(19, 56), 0, "OOMKilled")),
        error_statuses={"502": 0.6, "503": 0.4},
        error_ratio=ramp(0.003, 0.04, at(19, 48), at(19, 51)),
        latency_p95=ramp(0.16, 0.65, at(19, 40), at(19, 50)),
        cpu_usage_cores=ramp(0.3, 0.45, at(19, 40), at(19, 50)),   # GC
    ), "memory_pressure",
        "working set 55 % -> 98 % of the limit since 19:15, OOMKilled twice in the window, "
        "pod count 3->2->3; CPU rise is GC"))

    # Scrape gaps: cAdvisor missing 19:50-19:54, the whole target missing 19:56-19:58.
    dep = at(19, 47)
    on = (dep + 30, dep + 90)
    out.append(L(base(
        "h2-gap-cpu", "h2-search", deploys=(dep,), rps=50.0,
        cpu_usage_cores=ramp(0.35, 1.02, *on),
        latency_p50=ramp(0.045, 0.6, *on), latency_p95=ramp(0.16, 1.8, *on),
        error_ratio=ramp(0.003, 0.01, *on),
    ), "cpu_saturation",
        "after the 19:47 deploy CPU 35 % -> 100 % of the limit and heavily throttled at flat "
        "rps (a CPU-hungry regression); scrape gaps inside the window", trigger="deploy"))

    # Heavy noise (12 %): lock contention.
    on = (at(19, 47), at(19, 48))
    out.append(L(base(
        "h2-noisy-lock", "h2-orders", noise=0.12,
        handlers=(("/api/orders", "GET", 0.6), ("/api/orders/place", "POST", 0.4)),
        db_ops={"select": 2.0, "insert": 0.8, "update": 1.0, "delete": 0.05, "connect": 0.001},
        db_latency_p50={op: ramp(0.004, 0.25, *on) for op in ("insert", "update", "delete")},
        db_latency_p95={op: ramp(0.014, 0.9, *on) for op in ("insert", "update", "delete")},
        locks={"rowexclusivelock": ramp(3.0, 30.0, *on), "exclusivelock": ramp(0.0, 6.0, *on),
               "sharelock": ramp(0.0, 4.0, *on)},
        pg_idle_in_transaction=ramp(1.0, 8.0, *on),
        pool_used=ramp(3.0, 6.0, *on),
        latency_p50=ramp(0.045, 0.25, *on), latency_p95=ramp(0.16, 1.1, *on),
        error_ratio=ramp(0.003, 0.02, *on),
    ), "lock_contention",
        "12 % noise; writes 14 ms -> 0.9 s, locks 3->30 with exclusive locks, reads fine, "
        "pool 6/10 (not full)"))

    # Short spikes in the baseline (two 1-2 min pool saturations), then the real thing:
    # a 1.6x surge fills the pool on every pod; HPA does not act (CPU 55 %).
    on = (at(19, 45, 30), at(19, 46, 30))
    spikes = [(at(19, 5), at(19, 6, 30)), (at(19, 27), at(19, 28))]

    def spiky(normal: CurveLike, spike: float) -> CurveLike:
        c = normal
        for a, b in spikes:
            c = pulse(c, spike, a, b)
        return c

    out.append(L(base(
        "h2-spiky-pool", "h2-shop", tier=1, pods=2, hpa_max=4, rps=ramp(60.0, 96.0, *on),
        pool_used=spiky(ramp(4.0, 15.0, *on), 11.0),
        pool_wait_p50=spiky(ramp(0.0002, 0.6, *on), 0.15),
        pool_wait_p95=spiky(ramp(0.002, 2.0, *on), 0.6),
        latency_p50=spiky(ramp(0.05, 0.8, *on), 0.2),
        latency_p95=spiky(ramp(0.17, 2.4, *on), 0.9),
        cpu_usage_cores=ramp(0.4, 0.55, *on),
        error_ratio=spiky(ramp(0.003, 0.03, *on), 0.01),
        alerts=(Alert("DBConnectionPoolHigh", "warning", at(19, 47)),),
    ), "db_pool_exhaustion",
        "rps x1.6 fills the pool on every pod (10/10, wait p95 2 s) with queries at 10 ms and "
        "CPU 55 %; two 1-2 min pool spikes in the baseline must not hide it",
        trigger="traffic_surge"))

    # The incident began 10 min before the window: the tail of the baseline is already bad.
    on = (at(19, 36), at(19, 44))
    out.append(L(base(
        "h2-early-dblat", "h2-catalog", noise=0.05,
        **slower(ramp(1.0, 50.0, *on), ops=("select", "insert", "update")),
        pool_used=ramp(3.0, 8.0, *on),
        latency_p50=ramp(0.045, 0.5, *on), latency_p95=ramp(0.16, 1.6, *on),
        error_ratio=ramp(0.002, 0.02, *on),
    ), "db_latency",
        "queries 50x slower (select p95 10->500 ms) ramping from 19:36: the last 10 min of the "
        "baseline are already degraded"))

    # Connection churn: no pool at all (connect per request), a surge and the server slows
    # at accepting connections; connections near max_connections. 8 % noise.
    on = (at(19, 45, 30), at(19, 47))
    out.append(L(base(
        "h2-churn", "h2-billing", pg=PG_LEGACY, families=NO_POOL, noise=0.08,
        db_ops={"select": 2.0, "insert": 0.3, "update": 0.3, "delete": 0.02, "connect": 1.0},
        rps=ramp(50.0, 85.0, *on),
        db_latency_p50={"connect": ramp(0.005, 0.15, *on), "select": ramp(0.003, 0.004, *on)},
        db_latency_p95={"connect": ramp(0.015, 0.45, *on), "select": ramp(0.010, 0.013, *on)},
        pg_active=ramp(8.0, 62.0, *on), pg_idle=ramp(4.0, 26.0, *on),
        latency_p50=ramp(0.05, 0.4, *on), latency_p95=ramp(0.17, 1.2, *on),
        cpu_usage_cores=ramp(0.3, 0.45, *on), error_ratio=ramp(0.003, 0.015, *on),
    ), "connection_churn",
        "no pool metrics, one connect per request; connect p95 15->450 ms dominates DB time "
        "while selects stay ~12 ms; server connections 12->88 of 100", trigger="traffic_surge"))
    return out


#: Scrape gaps, applied after generation: (metric-name prefixes, () = every series of the
#: service, start, end).  Counters carry on afterwards, as with a real missed scrape.
GAPS: dict[str, list[tuple[tuple[str, ...], float, float]]] = {
    "h2-gap-cpu": [(("container_",), at(19, 50), at(19, 54)), ((), at(19, 56), at(19, 58))],
    "h2-spiky-pool": [(("container_",), at(19, 38), at(19, 42))],
    "h2-noisy-lock": [(("pg_",), at(19, 52), at(19, 55))],
}


# ======================================================================================
# 4. More hard incidents
# ======================================================================================

def _more() -> list[LabelledScenario]:
    out = []

    # Only 30 % of requests call the fraud API; it becomes slow and fails a little.
    on = (at(19, 47), at(19, 48))
    out.append(L(base(
        "h2-dep-partial", "h2-pay", noise=0.10,
        dependencies=(Dependency("geo.maps.example:443", 1.0, latency_p50=0.02, latency_p95=0.06),
                      Dependency("fraud.partner.example:443", 0.3,
                                 latency_p50=ramp(0.04, 1.2, *on), latency_p95=ramp(0.10, 2.5, *on),
                                 error_ratio=ramp(0.001, 0.08, *on), error_status="503")),
        latency_p50=ramp(0.045, 0.09, *on), latency_p95=ramp(0.16, 2.6, *on),
        cpu_usage_cores=ramp(0.35, 0.26, *on), error_ratio=ramp(0.002, 0.03, *on),
    ), "external_dependency",
        "one of two dependencies (called by 30 % of requests) went 0.1->2.5 s p95 with 8 % "
        "503s; the other is fine; 10 % noise", trigger="dependency_failure"))

    # Crash loop after a config deploy: restarts with reason Error, pods flapping,
    # 18 % 502/503, CPU and memory normal.
    dep = at(19, 46, 30)
    rs = [Restart(at(19, 48), 0), Restart(at(19, 50, 30), 1), Restart(at(19, 53), 0),
          Restart(at(19, 55, 30), 1), Restart(at(19, 58), 0)]
    out.append(L(base(
        "h2-crashloop", "h2-notify", pods=2, deploys=(dep,),
        replicas=piecewise([(at(19, 48), 2), (at(19, 48, 1), 1), (at(19, 49), 1), (at(19, 49, 1), 2),
                            (at(19, 53), 2), (at(19, 53, 1), 1), (at(19, 54), 1), (at(19, 54, 1), 2),
                            (at(19, 58), 2), (at(19, 58, 1), 1), (at(19, 59), 1), (at(19, 59, 1), 2)]),
        spec_replicas=2, restarts=tuple(rs),
        error_statuses={"502": 0.5, "503": 0.5},
        error_ratio=ramp(0.003, 0.18, at(19, 47, 30), at(19, 48, 30)),
        latency_p95=ramp(0.16, 0.3, at(19, 47, 30), at(19, 48, 30)),
        memory_working_set_bytes=0.45 * GiB,
    ), "application_errors",
        "after the 19:46:30 deploy containers exit with reason Error every ~2.5 min, available "
        "pods flap 2->1->2, 18 % 502/503; CPU 30 %, memory 45 %, no OOM", trigger="deploy"))

    # High but flat memory, and OOM kills in the window: memory_pressure despite no growth.
    out.append(L(base(
        "h2-oom-flat", "h2-media", pods=1,
        memory_working_set_bytes=piecewise([(at(19, 40), 0.90 * GiB), (at(19, 47), 0.97 * GiB)]),
        restarts=(Restart(at(19, 49), 0, "OOMKilled"), Restart(at(19, 53), 0, "OOMKilled"),
                  Restart(at(19, 58), 0, "OOMKilled")),
        error_statuses={"502": 1.0},
        error_ratio=ramp(0.003, 0.03, at(19, 48), at(19, 49)),
        latency_p95=ramp(0.16, 0.5, at(19, 48), at(19, 49)),
    ), "memory_pressure",
        "working set 90 -> 97 % of the limit and three OOMKilled restarts in the window; "
        "errors are the killed pods' in-flight requests"))

    # The DB is saturated by another tenant: all queries 15x slower; the HPA (on a p95
    # custom metric) has scaled to its maximum, which looks like a capacity problem.
    on = (at(19, 46), at(19, 47, 30))
    out.append(L(base(
        "h2-dbsat-hpa", "h2-catalog", pods=3, hpa_min=1, hpa_max=3,
        replicas=piecewise([(at(19, 48), 1), (at(19, 50), 3)]),
        **slower(ramp(1.0, 15.0, *on)),
        pool_used=ramp(3.0, 6.5, *on), pg_active=ramp(8.0, 45.0, *on),
        latency_p50=ramp(0.045, 0.35, *on), latency_p95=ramp(0.16, 1.5, *on),
        cpu_usage_cores=piecewise([(at(19, 46), 0.35), (at(19, 48), 0.3), (at(19, 50), 0.18)]),
        error_ratio=ramp(0.003, 0.015, *on),
        alerts=(Alert("KubeHpaMaxedOut", "warning", at(19, 51)),),
    ), "db_latency",
        "every query 15x slower, pg active 8->45; HPA scaled 1->3 (at max) and per-pod CPU "
        "fell to 18 %: more pods do not help a slow DB"))

    # The dependency fails fast (circuit breaker / 503 in 70 ms); an innocent deploy 9 min
    # before the onset.
    on = (at(19, 48), at(19, 48, 30))
    out.append(L(base(
        "h2-dep-fastfail", "h2-pay", deploys=(at(19, 39),),
        dependencies=(Dependency("payments-gw.partner.example:443", 1.0,
                                 latency_p50=ramp(0.03, 0.02, *on), latency_p95=ramp(0.09, 0.07, *on),
                                 error_ratio=ramp(0.002, 0.6, *on), error_status="503"),),
        error_statuses={"500": 0.3, "502": 0.7},
        error_ratio=ramp(0.003, 0.14, *on), latency_p95=ramp(0.16, 0.14, *on),
    ), "external_dependency",
        "payments gateway returns 503 on 60 % of calls (fast, 70 ms) from 19:48 and the "
        "service's 5xx (14 %) follow it; the 19:39 deploy came 9 min earlier with no effect",
        trigger="dependency_failure"))

    # Throttled without looking full: usage 66 % of a 0.5-core limit, but bursty work is
    # throttled in 45 % of periods and latency follows a modest surge.
    on = (at(19, 46), at(19, 47, 30))
    out.append(L(base(
        "h2-throttle-only", "h2-search", cpu_limit_cores=0.5,
        rps=ramp(50.0, 66.0, *on),
        cpu_usage_cores=ramp(0.2, 0.33, *on), cpu_throttle_ratio=ramp(0.03, 0.45, *on),
        latency_p50=ramp(0.045, 0.35, *on), latency_p95=ramp(0.16, 1.1, *on),
        error_ratio=ramp(0.003, 0.006, *on),
    ), "cpu_saturation",
        "CPU usage only 40->66 % of a 0.5-core limit, but 45 % of CFS periods throttled and "
        "latency 0.16->1.1 s following a x1.3 surge; DB, pool, memory normal",
        trigger="traffic_surge"))
    return out


# ======================================================================================
# 5. Borderline magnitudes
# ======================================================================================

def _borderline() -> list[LabelledScenario]:
    out = []

    # p95 0.12 -> 0.45 s: still under the seed's 500 ms SLA, errors flat.  Decision: none
    # (no SLO breached, no error impact); external_dependency is accepted because the
    # geocoder did visibly slow down and is the reason latency moved.
    on = (at(19, 46), at(19, 48))
    out.append(L(base(
        "h2-p95-045", "h2-geo",
        dependencies=(Dependency("geocoder.h2-geo:8000", 1.0,
                                 latency_p50=ramp(0.02, 0.1, *on), latency_p95=ramp(0.05, 0.34, *on)),),
        latency_p50=ramp(0.04, 0.13, *on), latency_p95=ramp(0.12, 0.45, *on), error_ratio=0.002,
    ), "none",
        "p95 0.12->0.45 s stays under the 0.5 s SLA/warning, errors flat 0.2 %, nothing "
        "saturated: no incident (a slower geocoder explains the drift)",
        acceptable=("external_dependency",)))

    # Errors 0.2 % -> 1.2 %: just over the seed's 1 % warning, 6x the baseline, nothing
    # else moved, no deploy.  Decision: application_errors.
    out.append(L(base(
        "h2-err-12pct", "h2-profile",
        error_ratio=ramp(0.002, 0.012, at(19, 47), at(19, 48)), error_statuses={"500": 1.0},
    ), "application_errors",
        "5xx 0.2 -> 1.2 % (6x, over the 1 % warning) with latency, CPU, memory, DB and "
        "dependencies unchanged: a (small) application error regression"))

    # CPU 70 -> 84 % with a x1.2 rise in traffic: past the 80 % warning, not saturated
    # (< 90 %), throttling marginal, latency flat.  Decision: none.
    on = (at(19, 45), at(19, 47))
    out.append(L(base(
        "h2-cpu-84", "h2-search", rps=ramp(60.0, 72.0, *on),
        cpu_usage_cores=ramp(0.70, 0.84, *on), cpu_throttle_ratio=ramp(0.01, 0.04, *on),
        latency_p95=ramp(0.16, 0.175, *on),
    ), "none",
        "CPU 70->84 % under a x1.2 traffic rise, throttling 1->4 %, latency and errors flat: "
        "absorbed, below the 90 % saturation line"))
    return out


# ======================================================================================
# 6. Controls (none) that look scary
# ======================================================================================

def _controls() -> list[LabelledScenario]:
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

def _unknowns() -> list[LabelledScenario]:
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


# ======================================================================================

def holdout2_library() -> list[LabelledScenario]:
    """Every scenario of the second held-out set, in one list (one Prometheus)."""
    return [*_competing(), *_chains(), *_messy(), *_more(), *_borderline(), *_controls(), *_unknowns()]


def _label_values(labels: str) -> set[str]:
    return set(re.findall(r'(?:service|container|deployment|horizontalpodautoscaler|job|user)="([^"]*)"',
                          labels))


def apply_gaps(ds: Dataset, gaps: Mapping[str, Sequence[tuple[tuple[str, ...], float, float]]],
               scenarios: Sequence[LabelledScenario]) -> int:
    """Remove samples as a missed scrape would; returns how many were removed."""
    removed = 0
    ts = ds.timestamps
    # postgres_exporter series are selected by datname, not by service
    by_db = {s.spec.name: s.spec.db_name for s in scenarios}
    for fam in ds.families.values():
        for group in fam.groups:
            for s in group:
                owners = _label_values(s.labels)
                dat = re.search(r'datname="([^"]*)"', s.labels)
                for svc, windows in gaps.items():
                    mine = svc in owners or (dat is not None and dat.group(1) == by_db.get(svc))
                    if not mine:
                        continue
                    for prefixes, a, b in windows:
                        if prefixes and not s.name.startswith(prefixes):
                            continue
                        for k, t in enumerate(ts):
                            if a <= t < b and s.values[k] is not None:
                                s.values[k] = None
                                removed += 1
    return removed


def holdout2_openmetrics(scenarios: Sequence[LabelledScenario], step_s: float = EXPORT_STEP_S) -> str:
    ds = generate([s.spec for s in scenarios], EXPORT_START_S, EXPORT_END_S, step_s)
    names = {s.name for s in scenarios}
    apply_gaps(ds, {k: v for k, v in GAPS.items() if k in names}, scenarios)
    return ds.openmetrics()


@contextlib.contextmanager
def serve_holdout2(workdir: Path, scenarios: Sequence[LabelledScenario] | None = None
                   ) -> Iterator[LibraryServer]:
    """Generate the set (with its scrape gaps), backfill it into a real Prometheus, write the config."""
    from testing.backends import prometheus_from_openmetrics

    scenarios = list(scenarios if scenarios is not None else holdout2_library())
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "triage.yaml"
    config.write_text(rca_config(scenarios), encoding="utf-8")
    t0 = time.perf_counter()
    text = holdout2_openmetrics(scenarios)
    t1 = time.perf_counter()
    size = len(text) / 1e6
    with prometheus_from_openmetrics(text, workdir) as backend:
        t2 = time.perf_counter()
        del text
        yield LibraryServer(backend.url, config, backend, scenarios, t1 - t0, t2 - t1, size)


__all__ = ["GAPS", "H2_CHAIN", "LabelledScenario", "apply_gaps", "holdout2_library",
           "holdout2_openmetrics", "serve_holdout2"]
