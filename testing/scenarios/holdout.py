"""A BLIND held-out evaluation set for `triage rca`.

Designed from CONTRACT.md (class meanings, signals, metric families), the seed documents
and the generator alone, without looking at the classifier (``triage/analysis/``) or at the
development library's scenarios (``testing/scenarios/rca_library.py``; only its
``LabelledScenario`` dataclass and ``serve_library`` plumbing are reused).  Every service is
new (``ho-`` prefix) and lives on the standard timeline: incident window 19:46..20:01,
baseline 18:46..19:46 on 2026-11-10, data exported 18:41..20:01 at 30 s.

What varies on purpose: magnitudes from borderline to extreme, onsets (19:40 in the
baseline's tail, 19:47, 19:55 late in the window, slow ramps from 19:00/19:30), noise
1..8 %, pods 1..6, traffic / deploy / no trigger, and partial metric families.

    holdout_library() -> list[LabelledScenario]
"""

from __future__ import annotations

import math

from testing.scenarios.generator import (
    DEFAULT_FAMILIES,
    Alert,
    Dependency,
    Restart,
    ServiceSpec,
    lognormal_mean,
    piecewise,
    pulse,
    ramp,
    step,
)
from testing.scenarios.library import at
from testing.scenarios.rca_library import LabelledScenario

GiB = 1024 ** 3
MiB = 1024 ** 2

W0 = at(19, 46)
END = at(20, 1)

# Postgres servers (host:port, max_connections), one per namespace; never shared with the
# development library's servers.
PG_SHOP = ("pg-ho-shop.ho-shop:5432", 200)
PG_RIDES = ("pg-ho-rides.ho-rides:5432", 300)
PG_TIX = ("pg-ho-tix.ho-tix:5432", 151)
PG_FIN = ("pg-ho-fin.ho-fin:5432", 100)
PG_ORDERS = ("pg-ho-orders.ho-shop:5432", 100)

FULL = DEFAULT_FAMILIES                                   # everything but pgbouncer
K8S_HTTP = frozenset({"http", "inflight", "cadvisor", "ksm", "hpa", "alerts"})   # stateless app
NO_PROCESS = FULL - {"process"}
NO_POSTGRES = FULL - {"postgres"}
NO_POOL = FULL - {"pool"}


def hs(name: str, namespace: str, pg: tuple[str, int] | None = PG_SHOP, **kw) -> ServiceSpec:
    """A held-out ServiceSpec with its database on ``pg`` (None: no database families)."""
    kw.setdefault("database", name.removeprefix("ho-").replace("-", "_"))
    if pg is not None:
        kw.setdefault("pg_server", pg[0])
        kw.setdefault("pg_max_connections", pg[1])
    return ServiceSpec(name=name, namespace=namespace, **kw)


def L(spec: ServiceSpec, label: str, trigger: str | None, note: str,
      acceptable: tuple[str, ...] = (), missing: tuple[str, ...] = ()) -> LabelledScenario:
    return LabelledScenario(spec=spec, bottleneck=label, trigger=trigger, note=note,
                            acceptable=acceptable, missing=missing)


def follow(load, ref: float, base: float, power: float = 1.0):
    """A curve that follows ``load``: ``base`` at ``load == ref``, scaled by (load/ref)**power."""
    return lambda t: base * (load(t) / ref) ** power


# --------------------------------------------------------------------------------------
# cpu_saturation
# --------------------------------------------------------------------------------------

def _cpu() -> list[LabelledScenario]:
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
          "stateless tile server, 6 pods at HPA max, slow ramp 62 %->93 % CPU from 19:30 with load, p95 ->1.3 s; "
          "no process metrics"),
    ]


# --------------------------------------------------------------------------------------
# memory_pressure
# --------------------------------------------------------------------------------------

def _memory() -> list[LabelledScenario]:
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


# --------------------------------------------------------------------------------------
# db_pool_exhaustion
# --------------------------------------------------------------------------------------

FAST_DB_P50 = {"select": 0.003, "insert": 0.004, "update": 0.004, "delete": 0.003}
FAST_DB_P95 = {"select": 0.010, "insert": 0.012, "update": 0.012, "delete": 0.010}


def _pool() -> list[LabelledScenario]:
    rps1 = ramp(120.0, 300.0, at(19, 46), at(19, 48))
    order = hs(
        "ho-order-svc", "ho-shop", pg=PG_ORDERS, pods=2, hpa_min=2, hpa_max=8, tier=1, noise=0.03, rps=rps1,
        pool_size=20, pool_used=ramp(6.0, 32.0, at(19, 46), at(19, 48)),
        pool_wait_p50=ramp(0.0003, 0.9, at(19, 46), at(19, 49)), pool_wait_p95=ramp(0.002, 2.2, at(19, 46), at(19, 49)),
        db_latency_p50=FAST_DB_P50, db_latency_p95=FAST_DB_P95,
        latency_p50=ramp(0.06, 1.4, at(19, 46), at(19, 49)), latency_p95=ramp(0.22, 3.4, at(19, 46), at(19, 49)),
        error_ratio=ramp(0.002, 0.05, at(19, 47), at(19, 50)), error_statuses={"504": 1.0},
        cpu_limit_cores=1.0, cpu_usage_cores=ramp(0.28, 0.52, at(19, 46), at(19, 48)),
        pg_active=ramp(12.0, 42.0, at(19, 46), at(19, 48)), pg_idle=ramp(28.0, 2.0, at(19, 46), at(19, 48)),
        alerts=(Alert("DBConnectionsHigh", "warning", at(19, 48)), Alert("HighLatencyP95", "critical", at(19, 50))),
    )
    wallet = hs(
        "ho-wallet", "ho-fin", pg=PG_FIN, pods=1, tier=1, noise=0.02, rps=55.0,
        pool_size=20, pool_used=ramp(4.0, 19.2, at(19, 30), at(19, 55)),          # ~95 %, a connection leak
        pool_wait_p50=ramp(0.0002, 0.08, at(19, 50), at(19, 55)),
        pool_wait_p95=ramp(0.002, 0.45, at(19, 50), at(19, 55)),
        db_latency_p50=FAST_DB_P50, db_latency_p95=FAST_DB_P95,
        pg_idle_in_transaction=ramp(1.0, 26.0, at(19, 30), at(19, 55)),
        latency_p50=ramp(0.05, 0.18, at(19, 50), at(19, 55)), latency_p95=ramp(0.14, 0.65, at(19, 50), at(19, 55)),
        error_ratio=0.002, cpu_usage_cores=0.22,
    )
    rps3 = ramp(80.0, 130.0, at(19, 47), at(19, 49))
    loyalty = hs(
        "ho-loyalty", "ho-rides", pg=PG_RIDES, pods=1, tier=2, noise=0.04, rps=rps3,
        families=(FULL - {"pool"}) | {"pgbouncer"},
        pool_size=15, pool_used=ramp(5.0, 15.0, at(19, 47), at(19, 49)),
        pgbouncer_client_waiting=ramp(0.0, 48.0, at(19, 47), at(19, 50)),
        pgbouncer_server_active=ramp(8.0, 30.0, at(19, 47), at(19, 49)),
        db_latency_p50=FAST_DB_P50, db_latency_p95=FAST_DB_P95,
        latency_p50=ramp(0.05, 0.9, at(19, 47), at(19, 50)), latency_p95=ramp(0.15, 2.1, at(19, 47), at(19, 50)),
        error_ratio=ramp(0.002, 0.02, at(19, 48), at(19, 50)), cpu_usage_cores=ramp(0.2, 0.3, at(19, 47), at(19, 49)),
    )
    rps4 = ramp(60.0, 95.0, at(19, 55), at(19, 56))
    seats = hs(
        "ho-seat-map", "ho-tix", pg=PG_TIX, pods=1, tier=2, noise=0.05, rps=rps4,
        pool_size=10, pool_used=ramp(3.0, 14.0, at(19, 55), at(19, 56)),
        pool_wait_p50=ramp(0.0002, 0.6, at(19, 55), at(19, 57)), pool_wait_p95=ramp(0.002, 1.6, at(19, 55), at(19, 57)),
        db_latency_p50=FAST_DB_P50, db_latency_p95=FAST_DB_P95,
        latency_p50=ramp(0.04, 0.9, at(19, 55), at(19, 57)), latency_p95=ramp(0.12, 2.2, at(19, 55), at(19, 57)),
        error_ratio=ramp(0.002, 0.03, at(19, 55), at(19, 57)), cpu_usage_cores=ramp(0.2, 0.3, at(19, 55), at(19, 56)),
    )
    return [
        L(order, "db_pool_exhaustion", "traffic_surge",
          "seed 000: x2.5 promo surge, pool 20/20 on both pods, wait p95 2.2 s, queries 10 ms, CPU 52 %"),
        L(wallet, "db_pool_exhaustion", None,
          "connection leak: pool creeps to ~95 % (19/20), idle-in-transaction up, wait p95 0.45 s, queries fast"),
        L(loyalty, "db_pool_exhaustion", "traffic_surge",
          "no app pool gauges, only pgbouncer: 48 clients waiting for a server connection, queries 10 ms"),
        L(seats, "db_pool_exhaustion", None,
          "late onset 19:55, 1 pod: pool 10/10, wait p95 1.6 s, queries fast, 5 % noise"),
    ]


# --------------------------------------------------------------------------------------
# db_latency
# --------------------------------------------------------------------------------------

def _db_latency() -> list[LabelledScenario]:
    r = ramp
    catalog = hs(
        "ho-catalog-read", "ho-shop", pods=1, tier=2, noise=0.03, rps=70.0,
        db_latency_p50={"select": r(0.03, 0.09, at(19, 47), at(19, 50))},
        db_latency_p95={"select": r(0.08, 0.25, at(19, 47), at(19, 50))},
        latency_p50=r(0.12, 0.3, at(19, 47), at(19, 50)), latency_p95=r(0.3, 0.85, at(19, 47), at(19, 50)),
        pool_size=20, pool_used=r(5.0, 9.0, at(19, 47), at(19, 50)),
        pool_wait_p95=0.002, error_ratio=0.003, cpu_usage_cores=0.25,
    )
    slow = r(0.010, 2.0, at(19, 55), at(19, 57))
    slow_w = r(0.012, 1.4, at(19, 55), at(19, 57))
    analytics = hs(
        "ho-analytics-api", "ho-rides", pg=PG_RIDES, pods=1, tier=2, noise=0.03, rps=40.0,
        db_latency_p50={"select": r(0.003, 0.7, at(19, 55), at(19, 57)),
                        "insert": r(0.003, 0.4, at(19, 55), at(19, 57)),
                        "update": r(0.003, 0.4, at(19, 55), at(19, 57))},
        db_latency_p95={"select": slow, "insert": slow_w, "update": slow_w},
        latency_p50=r(0.06, 1.6, at(19, 55), at(19, 57)), latency_p95=r(0.18, 3.8, at(19, 55), at(19, 57)),
        error_ratio=r(0.002, 0.04, at(19, 55), at(19, 57)),
        pool_size=10, pool_used=r(2.5, 7.0, at(19, 55), at(19, 57)),
        pool_wait_p95=r(0.002, 0.02, at(19, 55), at(19, 57)),
        pg_active=r(8.0, 45.0, at(19, 55), at(19, 57)), cpu_usage_cores=r(0.3, 0.15, at(19, 55), at(19, 57)),
        alerts=(Alert("PostgresSlowQueries", "warning", at(19, 56)),),
    )
    sync = hs(
        "ho-inventory-sync", "ho-shop", pods=1, tier=3, noise=0.02, families=NO_POSTGRES, rps=30.0,
        db_latency_p50={"select": r(0.005, 0.2, at(19, 30), END), "update": r(0.005, 0.15, at(19, 30), END)},
        db_latency_p95={"select": r(0.015, 0.6, at(19, 30), END), "update": r(0.015, 0.45, at(19, 30), END)},
        latency_p50=r(0.05, 0.7, at(19, 30), END), latency_p95=r(0.15, 1.9, at(19, 30), END),
        pool_size=10, pool_used=r(2.0, 5.0, at(19, 30), END), error_ratio=0.002, cpu_usage_cores=0.2,
    )
    fraud = hs(
        "ho-fraud-score", "ho-fin", pg=PG_FIN, pods=1, tier=1, noise=0.04, rps=45.0, deploys=(at(19, 48),),
        db_latency_p50={"select": step(0.004, 0.3, at(19, 48, 30))},
        db_latency_p95={"select": step(0.012, 0.9, at(19, 48, 30))},
        latency_p50=step(0.06, 0.8, at(19, 48, 30)), latency_p95=step(0.17, 2.0, at(19, 48, 30)),
        error_ratio=step(0.002, 0.015, at(19, 49)),
        pool_size=10, pool_used=step(2.0, 6.0, at(19, 48, 30)), pool_wait_p95=0.003,
        pg_active=step(4.0, 14.0, at(19, 48, 30)), cpu_usage_cores=0.2,
    )
    return [
        L(catalog, "db_latency", None,
          "borderline: select p95 80 ms->250 ms at 19:47, pool half used, no waiting, p95 0.3->0.85 s"),
        L(analytics, "db_latency", None,
          "late (19:55) and extreme: all queries 10 ms->2 s (DB saturated), pg active 8->45, pool 70 %, no wait"),
        L(sync, "db_latency", None,
          "slow ramp from 19:30 (table bloat): select/update p95 15->600 ms; no postgres_exporter"),
        L(fraud, "db_latency", "deploy",
          "deploy at 19:48 ships an unindexed query: select p95 12->900 ms, pool 60 %, CPU idle"),
    ]


# --------------------------------------------------------------------------------------
# lock_contention
# --------------------------------------------------------------------------------------

def _locks() -> list[LabelledScenario]:
    r = ramp
    rps1 = r(50.0, 110.0, at(19, 46), at(19, 48))
    w1 = r(0.012, 1.5, at(19, 46), at(19, 49))
    seat = hs(
        "ho-seat-reserve", "ho-tix", pg=PG_TIX, pods=1, tier=1, noise=0.03, rps=rps1,
        db_latency_p50={"update": r(0.004, 0.5, at(19, 46), at(19, 49)),
                        "insert": r(0.004, 0.4, at(19, 46), at(19, 49))},
        db_latency_p95={"update": w1, "insert": w1},
        latency_p50=r(0.05, 0.7, at(19, 46), at(19, 49)), latency_p95=r(0.15, 2.3, at(19, 46), at(19, 49)),
        error_ratio=r(0.002, 0.02, at(19, 47), at(19, 49)),
        pool_size=10, pool_used=r(2.0, 7.0, at(19, 46), at(19, 49)),
        pool_wait_p95=r(0.002, 0.01, at(19, 46), at(19, 49)),
        locks={"rowexclusivelock": r(3.0, 50.0, at(19, 46), at(19, 49)),
               "sharelock": r(0.0, 22.0, at(19, 46), at(19, 49)),
               "exclusivelock": r(0.0, 12.0, at(19, 46), at(19, 49))},
        pg_active=r(3.0, 16.0, at(19, 46), at(19, 49)), cpu_usage_cores=r(0.15, 0.22, at(19, 46), at(19, 48)),
    )
    w2 = r(0.015, 0.30, at(19, 47), at(19, 52))
    ledger = hs(
        "ho-stock-ledger", "ho-shop", pods=1, tier=2, noise=0.02, rps=60.0,
        db_latency_p50={"update": r(0.004, 0.08, at(19, 47), at(19, 52)),
                        "insert": r(0.004, 0.07, at(19, 47), at(19, 52))},
        db_latency_p95={"update": w2, "insert": w2},
        latency_p50=r(0.05, 0.14, at(19, 47), at(19, 52)), latency_p95=r(0.14, 0.55, at(19, 47), at(19, 52)),
        inflight=r(4.0, 14.0, at(19, 47), at(19, 52)),
        error_ratio=0.002, pool_size=10, pool_used=r(2.5, 4.5, at(19, 47), at(19, 52)),
        locks={"rowexclusivelock": r(3.0, 15.0, at(19, 47), at(19, 52)),
               "exclusivelock": r(0.0, 6.0, at(19, 47), at(19, 52)),
               "sharelock": r(0.0, 5.0, at(19, 47), at(19, 52))},
        cpu_usage_cores=0.2,
    )
    w3 = step(0.010, 3.0, at(19, 49, 30))
    payout = hs(
        "ho-payout-batch", "ho-fin", pg=PG_FIN, pods=1, tier=2, noise=0.03, rps=35.0, deploys=(at(19, 49),),
        db_ops={"update": 1.0},
        db_latency_p50={"update": step(0.004, 1.1, at(19, 49, 30))}, db_latency_p95={"update": w3},
        latency_p50=step(0.05, 1.3, at(19, 49, 30)), latency_p95=step(0.15, 3.4, at(19, 49, 30)),
        error_ratio=step(0.002, 0.03, at(19, 50)),
        pool_size=10, pool_used=step(1.5, 6.0, at(19, 49, 30)),
        locks={"rowexclusivelock": step(3.0, 40.0, at(19, 49, 30)), "sharelock": step(0.0, 35.0, at(19, 49, 30)),
               "exclusivelock": step(0.0, 8.0, at(19, 49, 30))},
        pg_active=step(3.0, 19.0, at(19, 49, 30)), cpu_usage_cores=0.12,
    )
    return [
        L(seat, "lock_contention", "traffic_surge",
          "seed 001 race: booking surge, write p95 12 ms->1.5 s, row/share locks 3->50/0->22, reads 8 ms, "
          "in-flight up"),
        L(ledger, "lock_contention", None,
          "borderline: write p95 15->300 ms, locks 3->15, reads fine, in-flight 4->14, flat traffic"),
        L(payout, "lock_contention", "deploy",
          "deploy at 19:49 adds a hot-row UPDATE per request: update p95 10 ms->3 s, sharelock waits 0->35"),
    ]


# --------------------------------------------------------------------------------------
# connection_churn
# --------------------------------------------------------------------------------------

def _churn() -> list[LabelledScenario]:
    r = ramp
    rps1 = r(40.0, 110.0, at(19, 46), at(19, 48))
    booking = hs(
        "ho-booking-lite", "ho-tix", pg=PG_TIX, pods=1, tier=1, noise=0.03, families=NO_POOL, rps=rps1,
        db_ops={"connect": 1.0},
        db_latency_p50={"connect": r(0.010, 0.07, at(19, 46), at(19, 49))},
        db_latency_p95={"connect": r(0.025, 0.40, at(19, 46), at(19, 49))},
        latency_p50=r(0.06, 0.5, at(19, 46), at(19, 49)), latency_p95=r(0.2, 1.7, at(19, 46), at(19, 49)),
        error_ratio=r(0.002, 0.015, at(19, 47), at(19, 49)),
        pg_active=r(6.0, 30.0, at(19, 46), at(19, 48)), pg_idle=r(5.0, 60.0, at(19, 46), at(19, 48)),
        cpu_usage_cores=r(0.15, 0.3, at(19, 46), at(19, 48)),
    )
    rider = hs(
        "ho-rider-match", "ho-rides", pg=PG_RIDES, pods=1, tier=1, noise=0.04, rps=90.0,
        db_ops={"connect": 0.6},
        db_latency_p50={"connect": r(0.008, 0.12, at(19, 55), at(19, 57))},
        db_latency_p95={"connect": r(0.020, 0.45, at(19, 55), at(19, 57))},
        latency_p50=r(0.05, 0.35, at(19, 55), at(19, 57)), latency_p95=r(0.15, 1.1, at(19, 55), at(19, 57)),
        error_ratio=r(0.002, 0.01, at(19, 55), at(19, 57)),
        pool_size=10, pool_used=2.0,
        pg_idle=r(40.0, 180.0, at(19, 54), at(19, 57)),
        cpu_usage_cores=0.3,
    )
    legacy = hs(
        "ho-legacy-billing", "ho-fin", pg=PG_FIN, pods=1, tier=3, noise=0.06,
        families=FULL - {"postgres", "process", "pool"}, rps=20.0,
        db_ops={"connect": 1.0, "select": 2.0},
        db_latency_p50={"connect": r(0.015, 0.35, at(19, 30), END)},
        db_latency_p95={"connect": r(0.040, 1.2, at(19, 30), END)},
        latency_p50=r(0.07, 0.6, at(19, 30), END), latency_p95=r(0.2, 1.9, at(19, 30), END),
        error_ratio=0.004, cpu_usage_cores=0.1,
    )
    return [
        L(booking, "connection_churn", "traffic_surge",
          "seed 001 (no pooling): connect ~46 % of DB time at baseline, ~90 % under a x2.75 surge; no pool gauges"),
        L(rider, "connection_churn", None,
          "late (19:55): 0.6 connects/request, connect p95 20->450 ms as pg connections pile up; pool idle"),
        L(legacy, "connection_churn", None,
          "1 pod, slow ramp from 19:30: connect p95 40 ms->1.2 s per request; no postgres, process or pool metrics"),
    ]


# --------------------------------------------------------------------------------------
# external_dependency
# --------------------------------------------------------------------------------------

def _external() -> list[LabelledScenario]:
    r = ramp
    gw = hs(
        "ho-checkout-gw", "ho-shop", pods=1, tier=1, noise=0.03, rps=60.0, depends_on=(),
        error_statuses={"504": 0.85, "502": 0.15},
        latency_p50=r(0.12, 2.2, at(19, 47), at(19, 49)), latency_p95=r(0.35, 4.5, at(19, 47), at(19, 49)),
        error_ratio=r(0.002, 0.15, at(19, 47), at(19, 49)),
        cpu_usage_cores=r(0.2, 0.12, at(19, 47), at(19, 49)), pool_size=10, pool_used=2.0,
        dependencies=(Dependency("api.psp-partner.example", latency_p50=r(0.1, 2.0, at(19, 47), at(19, 49)),
                                 latency_p95=r(0.3, 4.0, at(19, 47), at(19, 49)),
                                 error_ratio=r(0.001, 0.16, at(19, 47), at(19, 49)), error_status="504"),),
        alerts=(Alert("HighErrorRate", "critical", at(19, 49)),),
    )
    sms = hs(
        "ho-sms-sender", "ho-rides", pg=PG_RIDES, pods=1, tier=3, noise=0.02, rps=30.0,
        latency_p50=r(0.09, 0.35, at(19, 47), at(19, 50)), latency_p95=r(0.25, 1.0, at(19, 47), at(19, 50)),
        error_ratio=0.003, cpu_usage_cores=0.1, pool_size=5, pool_used=1.0,
        dependencies=(Dependency("sms-gateway.telco.example", latency_p50=r(0.07, 0.30, at(19, 47), at(19, 50)),
                                 latency_p95=r(0.2, 0.9, at(19, 47), at(19, 50)), error_ratio=0.002),),
    )
    eta = hs(
        "ho-geo-eta", "ho-rides", pg=PG_RIDES, pods=1, tier=1, noise=0.03, depends_on=("ho-maps-tiles",),
        rps=r(150.0, 200.0, at(19, 30), at(19, 58)),
        latency_p50=r(0.08, 0.5, at(19, 40), at(19, 58)), latency_p95=r(0.22, 1.6, at(19, 40), at(19, 58)),
        error_ratio=r(0.002, 0.02, at(19, 50), at(19, 58)), error_statuses={"504": 1.0},
        cpu_usage_cores=0.18, pool_size=5, pool_used=1.5,
        dependencies=(Dependency("ho-maps-tiles.ho-rides", calls_per_request=2.0,
                                 latency_p50=r(0.06, 0.35, at(19, 40), at(19, 58)),
                                 latency_p95=r(0.18, 1.3, at(19, 40), at(19, 58)),
                                 error_ratio=r(0.001, 0.015, at(19, 50), at(19, 58)), error_status="504"),),
    )
    kyc = hs(
        "ho-kyc-check", "ho-fin", pg=PG_FIN, pods=1, tier=2, noise=0.05, rps=20.0,
        error_statuses={"503": 1.0},
        latency_p50=0.08, latency_p95=0.22, error_ratio=step(0.003, 0.25, at(19, 52)),
        cpu_usage_cores=0.1, pool_size=5, pool_used=1.0,
        dependencies=(Dependency("kyc.idverify.example", latency_p50=0.05, latency_p95=0.15,
                                 error_ratio=step(0.001, 0.26, at(19, 52)), error_status="503"),),
    )
    return [
        L(gw, "external_dependency", "dependency_failure",
          "payment partner times out: outbound p95 0.3->4 s with 16 % 504s, own CPU falls, pool idle"),
        L(sms, "external_dependency", "dependency_failure",
          "borderline: SMS gateway p95 0.2->0.9 s, no errors, own p95 0.25->1.0 s, resources idle"),
        L(eta, "external_dependency", "dependency_failure",
          "caller of ho-maps-tiles (CPU-bound): outbound p95 0.18->1.3 s, slow ramp; own CPU 18 %"),
        L(kyc, "external_dependency", "dependency_failure",
          "ID-verify vendor fails fast: 26 % 503 from the dependency at normal latency, own 503s 25 %"),
    ]


# --------------------------------------------------------------------------------------
# application_errors
# --------------------------------------------------------------------------------------

def _app_errors() -> list[LabelledScenario]:
    promo = hs(
        "ho-promo-engine", "ho-shop", pods=1, tier=1, noise=0.03, rps=110.0, deploys=(at(19, 48),),
        error_ratio=step(0.002, 0.18, at(19, 48, 30)), latency_p50=0.04, latency_p95=0.12,
        cpu_usage_cores=0.3, pool_size=10, pool_used=3.0,
        alerts=(Alert("HighErrorRate", "critical", at(19, 50)),),
    )
    push = hs(
        "ho-notif-push", "ho-rides", pg=PG_RIDES, pods=2, tier=3, noise=0.04, rps=40.0,
        replicas=piecewise([(at(18), 2), (at(19, 48, 59), 2), (at(19, 49), 1), (at(19, 50), 1), (at(19, 50, 1), 2),
                            (at(19, 55, 59), 2), (at(19, 56), 1), (at(19, 57), 1), (at(19, 57, 1), 2)]),
        restarts=(Restart(at(19, 49), pod=1, reason="Error"), Restart(at(19, 52), pod=0, reason="Error"),
                  Restart(at(19, 56), pod=1, reason="Error"), Restart(at(19, 59), pod=0, reason="Error")),
        error_statuses={"502": 0.5, "503": 0.5},
        error_ratio=ramp(0.003, 0.07, at(19, 49), at(19, 50)), latency_p50=0.05, latency_p95=0.15,
        cpu_usage_cores=0.15, pool_size=5, pool_used=1.0,
    )
    profile = hs(
        "ho-user-profile", "ho-shop", pods=1, tier=2, noise=0.02, rps=75.0,
        error_ratio=step(0.003, 0.035, at(19, 55)), latency_p50=0.04, latency_p95=0.13,
        cpu_usage_cores=0.25, pool_size=10, pool_used=2.5,
    )
    suggest = hs(
        "ho-search-suggest", "ho-shop", pg=None, pods=2, tier=2, noise=0.05, families=K8S_HTTP, rps=130.0,
        deploys=(at(19, 47),),
        error_ratio=step(0.002, 0.09, at(19, 47, 30)), latency_p50=0.03, latency_p95=0.09,
        cpu_usage_cores=0.3,
    )
    return [
        L(promo, "application_errors", "deploy",
          "bad deploy at 19:48: 5xx 0.2 %->18 %, latency, CPU, memory, pool and DB all flat"),
        L(push, "application_errors", None,
          "crash loop (exit Error, not OOM): 4 restarts, replicas dip, 502/503 ~7 %; resources idle"),
        L(profile, "application_errors", None,
          "borderline and late: 5xx 0.3 %->3.5 % at 19:55, no deploy, nothing saturates"),
        L(suggest, "application_errors", "deploy",
          "stateless (only cAdvisor+ksm+http): deploy at 19:47, 5xx 0.2->9 %, latency and CPU flat"),
    ]


# --------------------------------------------------------------------------------------
# none / unknown
# --------------------------------------------------------------------------------------

def _controls() -> list[LabelledScenario]:
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


def _unknown() -> list[LabelledScenario]:
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
    out = (_cpu() + _memory() + _pool() + _db_latency() + _locks() + _churn() + _external()
           + _app_errors() + _controls() + _unknown())
    names = [s.name for s in out]
    assert len(set(names)) == len(names) and all(n.startswith("ho-") for n in names), names
    return out


def connect_share(spec: ServiceSpec, t: float) -> float:
    """The expected share of DB time spent in connect at time t (a sanity check of the design)."""
    from testing.scenarios.generator import (
        _DEFAULT_DB_OPS,
        _DEFAULT_DB_P50,
        _DEFAULT_DB_P95,
        as_curve,
    )
    ops = dict(_DEFAULT_DB_OPS)
    ops.update(spec.db_ops)
    tot = con = 0.0
    for op, n in ops.items():
        p50 = as_curve(spec.db_latency_p50.get(op, _DEFAULT_DB_P50[op]))(t)
        p95 = as_curve(spec.db_latency_p95.get(op, _DEFAULT_DB_P95[op]))(t)
        x = n * lognormal_mean(p50, p95)
        tot += x
        if op == "connect":
            con = x
    return con / tot if tot else math.nan


__all__ = ["connect_share", "holdout_library"]
