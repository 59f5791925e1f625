"""Scenarios whose cause is the database path: the pool, slow queries, locks, connection churn."""

from __future__ import annotations

from testing.scenarios.generator import (
    Alert,
    ramp,
)
from testing.scenarios.library import at
from testing.scenarios.rca_library.labelled import (
    APP,
    EARLY,
    LATE,
    PG_CATALOG,
    PG_CHECKOUT,
    PG_LEGACY,
    PG_PLATFORM,
    PG_TICKETS,
    SLOW,
    W0,
    LabelledScenario,
    db,
    follows,
    reads_and_writes,
    scaled,
    svc,
    writes,
)

# The *_scenarios() functions are lists of scenario literals, one case after another: long by
# content, not by logic (issue 14's 60-line bound is for logic); each stays whole so a class's
# cases read together.


# --------------------------------------------------------------------------------------
# db_pool_exhaustion
# --------------------------------------------------------------------------------------

def pool_scenarios() -> list[LabelledScenario]:
    out = []
    # flash-checkout: seed 000's story.  Surge x2.5; pool 20/20 on all three pods; wait p95
    # 2.5 s; queries 12 ms; CPU 45 % (HPA "no action"); server connections 85/100.
    out.append(LabelledScenario(
        svc("flash-checkout", "shop", pg=PG_CHECKOUT, pods=3, tier=1, pool_size=20,
            handlers=(("/checkout", "POST", 1.0),), error_statuses={"504": 1.0},
            rps=ramp(130.0, 325.0, EARLY, at(19, 48)),
            error_ratio=ramp(0.002, 0.06, W0, at(19, 49)),
            latency_p50=ramp(0.06, 1.9, W0, at(19, 50)), latency_p95=ramp(0.25, 3.75, W0, at(19, 50)),
            **db(p50={"select": 0.004, "insert": 0.005, "update": 0.005, "delete": 0.004},
                 p95={"select": 0.012, "insert": 0.012, "update": 0.012, "delete": 0.012}),
            pool_used=ramp(6.0, 30.0, EARLY, at(19, 47)),
            pool_wait_p50=ramp(0.0003, 1.2, W0, at(19, 49)), pool_wait_p95=ramp(0.002, 2.5, W0, at(19, 49)),
            cpu_usage_cores=ramp(0.25, 0.45, EARLY, at(19, 48)), hpa_min=3, hpa_max=10,
            pg_active=ramp(14.0, 85.0, EARLY, at(19, 48)), pg_idle=ramp(40.0, 5.0, EARLY, at(19, 48)),
            pg_idle_in_transaction=2.0,
            alerts=(Alert("DBConnectionsHigh", "warning", at(19, 48)),
                    Alert("HighLatencyP95", "critical", at(19, 50))),
            noise=0.03),
        "db_pool_exhaustion", "traffic_surge",
        "Seed 000: the 11.11 promo surge (x2.5 at 19:45) fills the pool, 20/20 on all 3 pods, "
        "pool wait p95 2.5 s, while queries stay at 12 ms; CPU 45 % so the CPU-based HPA does "
        "nothing; Postgres at 85/100 connections; p95 3.75 s, 504s 6 %."))

    # loyalty: a connection leak (sessions left idle in transaction) from 19:38; traffic flat.
    out.append(LabelledScenario(
        svc("loyalty", "shop", tier=2, rps=70.0, error_statuses={"503": 1.0},
            pool_used=ramp(3.0, 12.0, at(19, 38), LATE),
            pool_wait_p50=ramp(0.0002, 0.8, at(19, 46), LATE), pool_wait_p95=ramp(0.002, 2.0, at(19, 46), LATE),
            pg_idle_in_transaction=ramp(1.0, 18.0, at(19, 38), LATE),
            latency_p50=ramp(0.05, 0.9, at(19, 46), LATE), latency_p95=ramp(0.18, 2.3, at(19, 46), LATE),
            error_ratio=ramp(0.002, 0.04, at(19, 47), LATE), noise=0.04),
        "db_pool_exhaustion", None,
        "Connection leak: pooled connections are not returned (Postgres 'idle in transaction' 1 "
        "-> 18), the pool fills 10/10 by ~19:47, wait p95 2 s (pool timeout -> 503 "
        "4 %), request p95 2.3 s; queries fast, RPS flat, CPU 30 %."))

    # coupons: a pool of 5 (misconfigured) meets a x1.7 campaign at 19:50.  No process metrics.
    rps = ramp(60.0, 100.0, LATE, at(19, 51))
    out.append(LabelledScenario(
        svc("coupons", "shop", pods=2, tier=3, rps=rps, pool_size=5, families=APP - {"process"},
            pool_used=follows(rps, 60, 3.0, 1.5),
            pool_wait_p50=ramp(0.0002, 0.15, LATE, at(19, 51)), pool_wait_p95=ramp(0.002, 0.45, LATE, at(19, 51)),
            cpu_usage_cores=scaled(rps, 0.3 / 60),
            latency_p50=ramp(0.05, 0.25, LATE, at(19, 51)), latency_p95=ramp(0.2, 0.75, LATE, at(19, 51)),
            noise=0.05),
        "db_pool_exhaustion", "traffic_surge",
        "No process metrics.  A pool of 5 per pod meets a x1.7 campaign at 19:50: 5/5 on both "
        "pods (60 % in the baseline), wait p95 0.45 s, request p95 0.2 -> 0.75 s (warning), "
        "queries 10 ms, CPU 50 %; noise 5 %."))

    # promo-engine: pool exhaustion under a surge, with the queries themselves a little slower
    # (12 -> 35 ms: more concurrent work on Postgres) -- still fast next to a 1.5 s pool wait.
    rps = ramp(90.0, 220.0, EARLY, at(19, 47))
    out.append(LabelledScenario(
        svc("promo-engine", "shop", pods=2, tier=1, rps=rps, pool_size=15,
            db_latency_p50=reads_and_writes(ramp(0.004, 0.01, EARLY, at(19, 47))),
            db_latency_p95=reads_and_writes(ramp(0.012, 0.035, EARLY, at(19, 47))),
            pool_used=follows(rps, 90, 5.0, 1.6), cpu_usage_cores=scaled(rps, 0.28 / 90),
            pool_wait_p50=ramp(0.0002, 0.6, W0, at(19, 48)), pool_wait_p95=ramp(0.002, 1.5, W0, at(19, 48)),
            pg_active=ramp(8.0, 24.0, EARLY, at(19, 47)),
            latency_p50=ramp(0.05, 0.8, W0, at(19, 48)), latency_p95=ramp(0.18, 2.1, W0, at(19, 48)),
            error_ratio=ramp(0.002, 0.02, W0, at(19, 48)), noise=0.04),
        "db_pool_exhaustion", "traffic_surge",
        "A promo surge (x2.4 at 19:45) fills the 15-connection pool on both pods, wait p95 1.5 s; "
        "queries get somewhat slower (12 -> 35 ms p95) from the extra concurrency but stay fast "
        "next to the wait; CPU 30 -> 68 %; p95 0.18 -> 2.1 s."))
    return out


# --------------------------------------------------------------------------------------
# db_latency
# --------------------------------------------------------------------------------------

def db_latency_scenarios() -> list[LabelledScenario]:
    out = []
    # search: a reporting job saturates the shared catalog Postgres at 19:45; reads and writes
    # slow; the pool rises to 70 % (not full).
    slow50 = ramp(0.003, 0.12, EARLY, at(19, 48))
    out.append(LabelledScenario(
        svc("search", "catalog", pg=PG_CATALOG, tier=2, rps=110.0,
            db_latency_p50=reads_and_writes(slow50),
            db_latency_p95={"select": ramp(0.012, 0.45, EARLY, at(19, 48)),
                            **writes(ramp(0.015, 0.38, EARLY, at(19, 48)))},
            pool_used=ramp(3.0, 7.0, EARLY, at(19, 48)),
            pool_wait_p95=ramp(0.002, 0.03, EARLY, at(19, 48)),
            pg_active=ramp(5.0, 28.0, EARLY, at(19, 48)),
            latency_p50=ramp(0.05, 0.4, EARLY, at(19, 48)), latency_p95=ramp(0.2, 1.3, EARLY, at(19, 48)),
            error_ratio=ramp(0.002, 0.008, EARLY, at(19, 48)), noise=0.03),
        "db_latency", None,
        "DB saturation from 19:45: select p95 12 -> 450 ms, writes 15 -> 380 ms, Postgres active "
        "5 -> 28; pool 70 % (not full), pool wait 30 ms; request p95 0.2 -> 1.3 s; CPU 30 %, RPS flat."))

    # inventory: a migration at 19:49 drops an index; selects go to 1.2 s and the pool fills
    # *as a consequence* (connections held by slow queries).  The hard one: pool full and pool
    # wait high, but the queries themselves are slow -> db_latency.
    slow = ramp(0.010, 1.2, LATE, at(19, 52))
    out.append(LabelledScenario(
        svc("inventory", "shop", tier=2, rps=50.0,
            db_latency_p50={"select": ramp(0.003, 0.35, LATE, at(19, 52)),
                            **writes(ramp(0.004, 0.02, LATE, at(19, 52)))},
            db_latency_p95={"select": slow, **writes(ramp(0.015, 0.06, LATE, at(19, 52)))},
            pool_used=ramp(3.0, 14.0, LATE, at(19, 52)),
            pool_wait_p50=ramp(0.0002, 0.3, at(19, 51), at(19, 53)),
            pool_wait_p95=ramp(0.002, 0.8, at(19, 51), at(19, 53)),
            pg_active=ramp(3.0, 21.0, LATE, at(19, 52)),
            latency_p50=ramp(0.05, 1.0, LATE, at(19, 52)), latency_p95=ramp(0.18, 3.0, LATE, at(19, 52)),
            error_ratio=ramp(0.002, 0.03, at(19, 51), at(19, 53)),
            deploys=(at(19, 49),), noise=0.03),
        "db_latency", "deploy",
        "A schema migration at 19:49 drops an index: select p95 10 ms -> 1.2 s, writes 15 -> 60 ms, "
        "and the pool fills 10/10 as a consequence (wait p95 0.8 s).  Queries slow first, pool "
        "second: db_latency, not db_pool_exhaustion."))

    # ledger: table bloat, autovacuum behind: a slow ramp from 19:30, reads and writes.
    out.append(LabelledScenario(
        svc("ledger", "platform", pg=PG_PLATFORM, tier=1, rps=35.0,
            db_latency_p50=reads_and_writes(ramp(0.005, 0.08, SLOW, at(19, 55))),
            db_latency_p95={"select": ramp(0.02, 0.3, SLOW, at(19, 55)),
                            **writes(ramp(0.025, 0.28, SLOW, at(19, 55)))},
            pool_used=ramp(2.0, 5.0, SLOW, at(19, 55)), pg_active=ramp(3.0, 9.0, SLOW, at(19, 55)),
            latency_p50=ramp(0.07, 0.3, SLOW, at(19, 55)), latency_p95=ramp(0.25, 0.9, SLOW, at(19, 55)),
            noise=0.06),
        "db_latency", None,
        "Slow ramp from 19:30 (table bloat, autovacuum behind): select p95 20 -> 300 ms and writes "
        "25 -> 280 ms by 19:55, pool 50 %, request p95 0.25 -> 0.9 s; noise 6 %."))

    # catalog-api: no pool metrics at all; DB slow for reads and writes from 19:45.
    out.append(LabelledScenario(
        svc("catalog-api", "catalog", pg=PG_CATALOG, tier=2, rps=140.0,
            families=APP - {"pool"},
            db_latency_p50=reads_and_writes(ramp(0.003, 0.2, EARLY, at(19, 47))),
            db_latency_p95={"select": ramp(0.008, 0.7, EARLY, at(19, 47)),
                            **writes(ramp(0.012, 0.5, EARLY, at(19, 47)))},
            pg_active=ramp(6.0, 30.0, EARLY, at(19, 47)),
            latency_p50=ramp(0.04, 0.5, EARLY, at(19, 47)), latency_p95=ramp(0.15, 1.9, EARLY, at(19, 47)),
            error_ratio=ramp(0.001, 0.012, EARLY, at(19, 47)), noise=0.04),
        "db_latency", None,
        "No pool metrics: query p95 8 -> 700 ms (reads) and 12 -> 500 ms (writes) from 19:45, "
        "request p95 0.15 -> 1.9 s.  The missing pool does not matter: the query time itself "
        "decides."))

    # audit-log: writes slow because the DB volume's fsync is saturated; lock counts flat, so
    # this is db_latency and not lock_contention.
    out.append(LabelledScenario(
        svc("audit-log", "platform", pg=PG_PLATFORM, tier=3, rps=60.0,
            db_ops={"select": 0.5, "insert": 2.0, "update": 0.1, "delete": 0.0},
            db_latency_p50=writes(ramp(0.004, 0.12, LATE, at(19, 52))),
            db_latency_p95=writes(ramp(0.015, 0.4, LATE, at(19, 52))),
            pg_active=ramp(3.0, 12.0, LATE, at(19, 52)), pool_used=ramp(2.0, 6.0, LATE, at(19, 52)),
            latency_p50=ramp(0.03, 0.3, LATE, at(19, 52)), latency_p95=ramp(0.1, 0.9, LATE, at(19, 52)),
            noise=0.04),
        "db_latency", None,
        "Write-heavy (2 inserts a request): the database volume's fsync saturates at 19:50, insert "
        "p95 15 -> 400 ms, reads unchanged, and lock counts stay flat: slow writes without lock "
        "waits are db_latency, not lock_contention.  Request p95 0.1 -> 0.9 s."))
    return out


# --------------------------------------------------------------------------------------
# lock_contention
# --------------------------------------------------------------------------------------

def locks_scenarios() -> list[LabelledScenario]:
    out = []
    # tickets: seed 001's on-sale rush: everyone updates the same event's row.
    slow = ramp(0.012, 1.8, W0, at(19, 49))
    rps = ramp(60.0, 150.0, EARLY, at(19, 48))
    out.append(LabelledScenario(
        svc("tickets", "tickets", pg=PG_TICKETS, tier=1, rps=rps,
            handlers=(("/book", "POST", 1.0),), error_statuses={"500": 0.5, "409": 0.5},
            db_latency_p50=writes(ramp(0.004, 0.5, W0, at(19, 49))), db_latency_p95=writes(slow),
            locks={"rowexclusivelock": ramp(3.0, 60.0, W0, at(19, 49)),
                   "exclusivelock": ramp(0.0, 25.0, W0, at(19, 49)),
                   "sharelock": ramp(0.0, 30.0, W0, at(19, 49))},
            pool_used=ramp(3.0, 8.0, W0, at(19, 49)), pg_active=ramp(4.0, 15.0, W0, at(19, 49)),
            cpu_usage_cores=ramp(0.25, 0.4, EARLY, at(19, 48)),
            latency_p50=ramp(0.05, 0.7, W0, at(19, 49)), latency_p95=ramp(0.15, 2.4, W0, at(19, 49)),
            error_ratio=ramp(0.002, 0.03, W0, at(19, 49)), noise=0.03),
        "lock_contention", "traffic_surge",
        "Seed 001's on-sale rush: x2.5 traffic at 19:45, every booking updates the same rows; "
        "write p95 12 ms -> 1.8 s, reads stay at 10 ms, pg_locks (row exclusive, exclusive, "
        "share) 3 -> ~115, in-flight requests ~4 -> ~140; pool 80 %, CPU 40 %."))

    # wallet: a hot balance row, no surge; onset 19:50.  No process metrics.
    out.append(LabelledScenario(
        svc("wallet", "platform", pg=PG_PLATFORM, tier=1, rps=80.0, families=APP - {"process"},
            db_latency_p50={"update": ramp(0.004, 0.2, LATE, at(19, 52)),
                            "insert": ramp(0.004, 0.012, LATE, at(19, 52))},
            db_latency_p95={"update": ramp(0.015, 0.7, LATE, at(19, 52)),
                            "insert": ramp(0.015, 0.04, LATE, at(19, 52))},
            locks={"rowexclusivelock": ramp(4.0, 35.0, LATE, at(19, 52)),
                   "sharelock": ramp(0.0, 12.0, LATE, at(19, 52))},
            inflight=ramp(5.0, 40.0, LATE, at(19, 52)),
            pool_used=ramp(3.0, 6.5, LATE, at(19, 52)),
            latency_p50=ramp(0.05, 0.3, LATE, at(19, 52)), latency_p95=ramp(0.2, 1.1, LATE, at(19, 52)),
            noise=0.04),
        "lock_contention", None,
        "No process metrics.  A hot balance row from 19:50: update p95 15 -> 700 ms, reads "
        "unchanged, locks 4 -> 47, in-flight 5 -> 40, pool 70 %, request p95 0.2 -> 1.1 s; RPS "
        "and CPU flat."))

    # stock-sync: a batch job from 19:30 holds row locks in long transactions.
    out.append(LabelledScenario(
        svc("stock-sync", "shop", tier=3, rps=40.0,
            db_latency_p50=writes(ramp(0.004, 0.15, SLOW, at(19, 52))),
            db_latency_p95=writes(ramp(0.02, 0.5, SLOW, at(19, 52))),
            locks={"rowexclusivelock": ramp(5.0, 40.0, SLOW, at(19, 52)),
                   "sharerowexclusivelock": ramp(0.0, 6.0, SLOW, at(19, 52))},
            pool_used=ramp(2.0, 5.0, SLOW, at(19, 52)),
            latency_p50=ramp(0.05, 0.2, SLOW, at(19, 52)), latency_p95=ramp(0.2, 0.7, SLOW, at(19, 52)),
            noise=0.05),
        "lock_contention", None,
        "Slow ramp from 19:30: a batch job holds row locks in long transactions; write p95 "
        "20 -> 500 ms, reads 10 ms, row-exclusive locks 5 -> 46, request p95 0.2 -> 0.7 s; "
        "noise 5 %."))
    return out


# --------------------------------------------------------------------------------------
# connection_churn
# --------------------------------------------------------------------------------------

_NO_POOL = APP - {"pool"}     # an app that does not pool has no pool gauges


def churn_scenarios() -> list[LabelledScenario]:
    out = []
    # bookings: seed 001's booking API, no pooling: one connect per request; under a load test
    # (x2.5) Postgres forks a backend per request and connect becomes ~46-55 % of DB time.
    rps = ramp(40.0, 100.0, EARLY, at(19, 48))
    out.append(LabelledScenario(
        svc("bookings", "tickets", pg=PG_TICKETS, tier=1, rps=rps, families=_NO_POOL,
            db_ops={"connect": 1.0},
            db_latency_p50={"connect": ramp(0.002, 0.012, EARLY, at(19, 48)),
                            "select": ramp(0.003, 0.004, EARLY, at(19, 48))},
            db_latency_p95={"connect": ramp(0.006, 0.08, EARLY, at(19, 48)),
                            "select": ramp(0.010, 0.014, EARLY, at(19, 48))},
            pg_active=ramp(4.0, 30.0, EARLY, at(19, 48)), pg_idle=1.0, pg_idle_in_transaction=0.0,
            cpu_usage_cores=ramp(0.25, 0.5, EARLY, at(19, 48)),
            latency_p50=ramp(0.07, 0.35, EARLY, at(19, 48)), latency_p95=ramp(0.25, 1.2, EARLY, at(19, 48)),
            error_ratio=ramp(0.002, 0.015, W0, at(19, 49)), noise=0.03),
        "connection_churn", "traffic_surge",
        "Seed 001: no connection pooling, one connect per request; a x2.5 load test at 19:45 "
        "makes connect p95 6 -> 80 ms, ~50 % of DB time (seed 001 measured 46 %), queries "
        "themselves ~10 ms; request p95 0.25 -> 1.2 s; no pool gauges (there is no pool)."))

    # profile: a deploy at 19:50 turns on TLS with full verification for the DB; each of the
    # per-request connects now pays a handshake.
    out.append(LabelledScenario(
        svc("profile", "platform", pg=PG_PLATFORM, tier=2, rps=60.0, families=_NO_POOL,
            db_ops={"connect": 1.0},
            db_latency_p50={"connect": ramp(0.0015, 0.03, LATE, at(19, 50, 30))},
            db_latency_p95={"connect": ramp(0.004, 0.09, LATE, at(19, 50, 30))},
            latency_p50=ramp(0.04, 0.09, LATE, at(19, 50, 30)), latency_p95=ramp(0.15, 0.6, LATE, at(19, 50, 30)),
            deploys=(at(19, 49, 45),), noise=0.03),
        "connection_churn", "deploy",
        "No pooling; a deploy at 19:49:45 enables DB TLS (verify-full): every per-request connect "
        "pays a handshake, connect p50 1.5 -> 30 ms, ~70 % of DB time; queries unchanged; request "
        "p95 0.15 -> 0.6 s; errors flat."))

    # legacy-billing: slow ramp from 19:30: the legacy Postgres approaches max_connections and
    # each new connection waits for the postmaster.
    out.append(LabelledScenario(
        svc("legacy-billing", "billing", pg=PG_LEGACY, tier=2, rps=30.0, families=_NO_POOL,
            db_ops={"connect": 1.0},
            db_latency_p50={"connect": ramp(0.002, 0.15, SLOW, at(19, 55))},
            db_latency_p95={"connect": ramp(0.005, 0.6, SLOW, at(19, 55))},
            pg_active=ramp(20.0, 78.0, SLOW, at(19, 55)), pg_idle=2.0,
            latency_p50=ramp(0.06, 0.3, SLOW, at(19, 55)), latency_p95=ramp(0.2, 1.1, SLOW, at(19, 55)),
            error_ratio=ramp(0.002, 0.009, at(19, 45), at(19, 55)), noise=0.06),
        "connection_churn", None,
        "Slow ramp from 19:30: a connect per request against a legacy Postgres filling towards "
        "max_connections (20 -> 80/100); connect p95 5 -> 600 ms, > 85 % of DB time, queries "
        "fast; request p95 0.2 -> 1.1 s; noise 6 %."))
    return out


