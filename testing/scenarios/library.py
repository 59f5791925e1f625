"""Named scenarios on one fixed historical timeline.

Data runs 2026-11-10T18:00:00Z .. 20:01:00Z at 15 s.  The incident window is
19:46..20:01, the baseline the hour before it (18:46..19:46), which is what
``triage ... --at 2026-11-10T20:01:00Z`` looks at with the default 15m / 1h.

``default_fleet()`` is one dataset in which every service is named for what it
shows (see ``EXPECTED``).  ``bottleneck_fleet()`` adds one service per remaining
bottleneck class on the same timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from testing.scenarios.generator import (
    Alert,
    Dependency,
    Restart,
    ServiceSpec,
    generate,
    piecewise,
    ramp,
    step,
)

UTC = timezone.utc
DAY = datetime(2026, 11, 10, tzinfo=UTC)


def at(hour: int, minute: int = 0, second: int = 0) -> int:
    """Unix seconds of a time of day on 2026-11-10 (UTC)."""
    return int((DAY + timedelta(hours=hour, minutes=minute, seconds=second)).timestamp())


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


DATA_START = datetime(2026, 11, 10, 18, 0, 0, tzinfo=UTC)
DATA_END = datetime(2026, 11, 10, 20, 1, 0, tzinfo=UTC)
WINDOW_START = datetime(2026, 11, 10, 19, 46, 0, tzinfo=UTC)
WINDOW_END = datetime(2026, 11, 10, 20, 1, 0, tzinfo=UTC)
BASELINE_START = datetime(2026, 11, 10, 18, 46, 0, tzinfo=UTC)
BASELINE_END = WINDOW_START

DATA_START_S = int(DATA_START.timestamp())
DATA_END_S = int(DATA_END.timestamp())
WINDOW_START_S = int(WINDOW_START.timestamp())
WINDOW_END_S = int(WINDOW_END.timestamp())
BASELINE_START_S = int(BASELINE_START.timestamp())
BASELINE_END_S = int(BASELINE_END.timestamp())
STEP_S = 15

GiB = 1024 ** 3
MiB = 1024 ** 2

# A second before the window opens the trouble starts building.
_T0 = at(19, 45)


def catalog() -> ServiceSpec:
    """Healthy throughout."""
    return ServiceSpec(
        name="catalog", namespace="shop", database="catalog", pods=2, tier=2,
        rps=80.0, error_ratio=0.002, latency_p50=0.045, latency_p95=0.12,
        cpu_limit_cores=1.0, cpu_usage_cores=0.30, memory_limit_bytes=1 * GiB,
        memory_working_set_bytes=0.40 * GiB,
        pool_size=20, pool_used=5.0,
        db_latency_p50={"select": 0.005, "insert": 0.006, "update": 0.006, "delete": 0.005},
        db_latency_p95={"select": 0.015, "insert": 0.015, "update": 0.015, "delete": 0.015},
        pg_server="postgres-shop.shop:5432", pg_max_connections=200,
    )


def search() -> ServiceSpec:
    """Warning in the window only: p95 ~0.9 s, errors ~2 %."""
    return ServiceSpec(
        name="search", namespace="shop", database="search", pods=2, tier=2,
        rps=60.0,
        error_ratio=ramp(0.003, 0.02, at(19, 46), at(19, 48)),
        latency_p50=ramp(0.07, 0.35, at(19, 46), at(19, 48)),
        latency_p95=ramp(0.20, 0.90, at(19, 46), at(19, 48)),
        cpu_usage_cores=0.25, memory_working_set_bytes=200 * MiB, memory_limit_bytes=512 * MiB,
        pool_size=10, pool_used=3.0,
        pg_server="postgres-shop.shop:5432", pg_max_connections=200,
    )


def checkout() -> ServiceSpec:
    """Seed 000: an 11.11 promo surge exhausts the DB pool; queries themselves stay fast."""
    return ServiceSpec(
        name="checkout", namespace="shop", database="checkout", pods=3, tier=1,
        pool_size=20, cpu_limit_cores=1.0, memory_limit_bytes=1 * GiB,
        memory_working_set_bytes=0.5 * GiB,
        handlers=(("/checkout", "POST", 0.7), ("/cart/summary", "GET", 0.3)),
        error_statuses={"504": 1.0},
        rps=ramp(130.0, 325.0, _T0, at(19, 48)),
        error_ratio=ramp(0.002, 0.06, at(19, 46), at(19, 49)),
        latency_p50=ramp(0.06, 1.9, at(19, 46), at(19, 50)),
        latency_p95=ramp(0.25, 3.75, at(19, 46), at(19, 50)),
        db_latency_p50={"select": 0.004, "insert": 0.005, "update": 0.005, "delete": 0.004},
        db_latency_p95={"select": 0.012, "insert": 0.012, "update": 0.012, "delete": 0.012},
        pool_used=ramp(6.0, 30.0, _T0, at(19, 47)),          # demand above 20: full on every pod
        pool_wait_p50=ramp(0.0003, 1.2, at(19, 46), at(19, 49)),
        pool_wait_p95=ramp(0.002, 2.5, at(19, 46), at(19, 49)),
        cpu_usage_cores=ramp(0.25, 0.45, _T0, at(19, 48)),
        hpa_min=3, hpa_max=10,
        pg_server="postgres-checkout.shop:5432", pg_max_connections=100,
        # 3 pods x 20 pooled connections plus the reporting worker and cron jobs
        pg_active=ramp(14.0, 85.0, _T0, at(19, 48)),
        pg_idle=ramp(40.0, 5.0, _T0, at(19, 48)),
        pg_idle_in_transaction=2.0,
        alerts=(Alert("DBConnectionsHigh", "warning", at(19, 48)),
                Alert("HighLatencyP95", "critical", at(19, 50))),
    )


def cart() -> ServiceSpec:
    """Critical, but without cAdvisor and pool metrics: the deciding signals are missing."""
    return ServiceSpec(
        name="cart", namespace="shop", database="cart", pods=2, tier=1,
        rps=40.0,
        error_ratio=ramp(0.003, 0.08, at(19, 46), at(19, 48)),
        latency_p50=ramp(0.05, 1.6, at(19, 46), at(19, 48)),
        latency_p95=ramp(0.15, 4.0, at(19, 46), at(19, 48)),
        cpu_usage_cores=0.2, pool_size=10, pool_used=3.0,
        pg_server="postgres-shop.shop:5432", pg_max_connections=200,
    ).without("cadvisor", "pool")


def frontend() -> ServiceSpec:
    """A x3 traffic surge that it absorbs: latency and errors unchanged, CPU up to ~55 %."""
    return ServiceSpec(
        name="frontend", namespace="shop", database="frontend", pods=3, tier=1,
        rps=ramp(200.0, 600.0, _T0, at(19, 48)),
        error_ratio=0.001, latency_p50=0.035, latency_p95=0.10,
        cpu_limit_cores=1.0, cpu_usage_cores=ramp(0.18, 0.55, _T0, at(19, 48)),
        memory_working_set_bytes=300 * MiB, memory_limit_bytes=1 * GiB,
        pool_size=10, pool_used=ramp(2.0, 5.0, _T0, at(19, 48)),
        pg_server="postgres-shop.shop:5432", pg_max_connections=200,
    )


def payment() -> ServiceSpec:
    """Slow because bank-api is slow: outbound p95 ~2.8 s with 504s, own p95 ~3.2 s, CPU idle."""
    return ServiceSpec(
        name="payment", namespace="shop", database="payment", pods=2, tier=1,
        depends_on=("bank-api",),
        error_statuses={"504": 0.8, "502": 0.2},
        rps=40.0,
        error_ratio=ramp(0.002, 0.08, at(19, 46), at(19, 49)),
        latency_p50=ramp(0.10, 1.6, at(19, 46), at(19, 49)),
        latency_p95=ramp(0.30, 3.2, at(19, 46), at(19, 49)),
        cpu_usage_cores=ramp(0.10, 0.06, at(19, 46), at(19, 49)), cpu_limit_cores=1.0,
        pool_size=10, pool_used=2.0,
        dependencies=(Dependency(
            server_address="bank-api.shop", calls_per_request=1.0,
            latency_p50=ramp(0.08, 1.4, at(19, 46), at(19, 49)),
            latency_p95=ramp(0.25, 2.8, at(19, 46), at(19, 49)),
            error_ratio=ramp(0.001, 0.08, at(19, 46), at(19, 49)),
            error_status="504"),),
        pg_server="postgres-shop.shop:5432", pg_max_connections=200,
    )


def bank_api() -> ServiceSpec:
    """The slow dependency: p95 ~2.8 s in the window."""
    return ServiceSpec(
        name="bank-api", namespace="shop", database="bank", pods=2, tier=2,
        error_statuses={"503": 1.0},
        rps=40.0,
        error_ratio=ramp(0.001, 0.03, at(19, 46), at(19, 49)),
        latency_p50=ramp(0.08, 1.4, at(19, 46), at(19, 49)),
        latency_p95=ramp(0.25, 2.8, at(19, 46), at(19, 49)),
        cpu_usage_cores=0.3, pool_size=10, pool_used=2.0,
        pg_server="postgres-shop.shop:5432", pg_max_connections=200,
    )


def default_fleet() -> list[ServiceSpec]:
    return [catalog(), search(), checkout(), cart(), frontend(), payment(), bank_api()]


# -- one service per remaining bottleneck class ------------------------------------------

def cpu_saturation() -> ServiceSpec:
    """orders: load up, CPU pinned at its limit and throttled, latency follows load."""
    return ServiceSpec(
        name="orders", namespace="shop", database="orders", pods=2, tier=2,
        rps=ramp(60.0, 150.0, _T0, at(19, 48)),
        error_ratio=ramp(0.002, 0.015, at(19, 46), at(19, 49)),
        latency_p50=ramp(0.05, 0.9, at(19, 46), at(19, 49)),
        latency_p95=ramp(0.15, 2.2, at(19, 46), at(19, 49)),
        cpu_limit_cores=0.5, cpu_usage_cores=ramp(0.2, 0.7, _T0, at(19, 48)),  # clamped at 0.5
        pool_size=10, pool_used=3.0, hpa_min=2, hpa_max=2,
        pg_server="postgres-shop.shop:5432", pg_max_connections=200,
    )


def memory_pressure() -> ServiceSpec:
    """reviews: a leak, working set climbs to the limit, pod 0 OOM-killed at 19:52."""
    return ServiceSpec(
        name="reviews", namespace="shop", database="reviews", pods=2, tier=3,
        rps=30.0,
        error_ratio=step(0.002, 0.03, at(19, 52)),
        latency_p50=ramp(0.04, 0.4, at(19, 40), at(19, 55)),
        latency_p95=ramp(0.12, 1.5, at(19, 40), at(19, 55)),
        memory_limit_bytes=512 * MiB,
        memory_working_set_bytes=piecewise([(at(18), 200 * MiB), (at(19, 51), 505 * MiB),
                                            (at(19, 52), 210 * MiB), (at(20, 1), 330 * MiB)]),
        restarts=(Restart(at(19, 52), pod=0, reason="OOMKilled"),),
        pool_size=10, pool_used=2.0,
        pg_server="postgres-shop.shop:5432", pg_max_connections=200,
    )


def db_latency() -> ServiceSpec:
    """inventory: the queries themselves got slow (select p95 ~1.2 s), pool backs up behind them."""
    return ServiceSpec(
        name="inventory", namespace="shop", database="inventory", pods=2, tier=2,
        rps=50.0,
        error_ratio=ramp(0.002, 0.02, at(19, 46), at(19, 49)),
        latency_p50=ramp(0.05, 1.0, at(19, 46), at(19, 49)),
        latency_p95=ramp(0.15, 2.6, at(19, 46), at(19, 49)),
        db_latency_p50={"select": ramp(0.003, 0.4, at(19, 46), at(19, 49))},
        db_latency_p95={"select": ramp(0.010, 1.2, at(19, 46), at(19, 49))},
        pool_size=10, pool_used=ramp(3.0, 8.0, at(19, 46), at(19, 49)),
        pg_active=ramp(5.0, 18.0, at(19, 46), at(19, 49)),
        pg_server="postgres-shop.shop:5432", pg_max_connections=200,
    )


def lock_contention() -> ServiceSpec:
    """tickets: writes wait on row locks (seed 001's overselling race), reads stay fast."""
    slow = ramp(0.012, 1.8, at(19, 46), at(19, 49))
    return ServiceSpec(
        name="tickets", namespace="shop", database="tickets", pods=2, tier=1,
        rps=ramp(50.0, 120.0, _T0, at(19, 48)),
        error_ratio=ramp(0.002, 0.03, at(19, 46), at(19, 49)),
        latency_p50=ramp(0.05, 0.8, at(19, 46), at(19, 49)),
        latency_p95=ramp(0.15, 2.4, at(19, 46), at(19, 49)),
        db_latency_p50={"update": ramp(0.003, 0.6, at(19, 46), at(19, 49)),
                        "insert": ramp(0.003, 0.5, at(19, 46), at(19, 49))},
        db_latency_p95={"update": slow, "insert": slow},
        pool_size=10, pool_used=ramp(3.0, 7.0, at(19, 46), at(19, 49)),
        locks={"rowexclusivelock": ramp(3.0, 60.0, at(19, 46), at(19, 49)),
               "exclusivelock": ramp(0.0, 25.0, at(19, 46), at(19, 49)),
               "sharelock": ramp(0.0, 30.0, at(19, 46), at(19, 49))},
        pg_server="postgres-shop.shop:5432", pg_max_connections=200,
    )


def connection_churn() -> ServiceSpec:
    """bookings: no pooling, a new DB connection per request; connect is most of the DB time."""
    return ServiceSpec(
        name="bookings", namespace="shop", database="bookings", pods=2, tier=2,
        rps=ramp(40.0, 90.0, _T0, at(19, 48)),
        error_ratio=ramp(0.002, 0.02, at(19, 46), at(19, 49)),
        latency_p50=ramp(0.08, 0.6, at(19, 46), at(19, 49)),
        latency_p95=ramp(0.25, 1.6, at(19, 46), at(19, 49)),
        db_ops={"connect": 1.0},
        db_latency_p50={"connect": ramp(0.02, 0.25, at(19, 46), at(19, 49))},
        db_latency_p95={"connect": ramp(0.05, 0.9, at(19, 46), at(19, 49))},
        pool_size=10, pool_used=2.0,
        pg_server="postgres-shop.shop:5432", pg_max_connections=200,
    )


def application_errors() -> ServiceSpec:
    """notifications: a deploy at 19:45 and 5xx jump to ~12 %; nothing saturates."""
    return ServiceSpec(
        name="notifications", namespace="shop", database="notifications", pods=2, tier=3,
        rps=45.0,
        error_ratio=step(0.002, 0.12, at(19, 45, 30)),
        latency_p50=0.04, latency_p95=0.13,
        deploys=(at(19, 45),),
        restarts=(Restart(at(19, 47), pod=1, reason="Error"),),
        pool_size=10, pool_used=2.0,
        pg_server="postgres-shop.shop:5432", pg_max_connections=200,
    )


def bottleneck_fleet() -> list[ServiceSpec]:
    return [cpu_saturation(), memory_pressure(), db_latency(), lock_contention(),
            connection_churn(), application_errors()]


#: What each named service is built to show, for tests of the analysis.
EXPECTED: dict[str, dict[str, object]] = {
    "catalog": {"status": "OK", "exit": 0, "bottleneck": "none"},
    "search": {"status": "WARNING", "exit": 1},
    "checkout": {"status": "CRITICAL", "exit": 2, "bottleneck": "db_pool_exhaustion",
                 "trigger": "traffic_surge"},
    "cart": {"status": "CRITICAL", "bottleneck": "unknown",
             "missing": ["cpu_usage_ratio", "cpu_throttle_ratio", "memory_usage_ratio",
                         "db_pool_usage_ratio", "db_pool_wait_p95"]},
    "frontend": {"status": "OK", "exit": 0, "bottleneck": "none", "trigger": "traffic_surge"},
    "payment": {"status": "CRITICAL", "bottleneck": "external_dependency",
                "trigger": "dependency_failure"},
    "bank-api": {"status": "CRITICAL"},
    "orders": {"bottleneck": "cpu_saturation"},
    "reviews": {"bottleneck": "memory_pressure"},
    "inventory": {"bottleneck": "db_latency"},
    "tickets": {"bottleneck": "lock_contention"},
    "bookings": {"bottleneck": "connection_churn"},
    "notifications": {"bottleneck": "application_errors", "trigger": "deploy"},
}


def triage_config(specs: Sequence[ServiceSpec]) -> dict:
    """The ``services:`` part of a triage.yaml for these specs (contract keys only)."""
    services: dict[str, dict] = {}
    for s in specs:
        entry: dict = {"namespace": s.namespace, "database": s.db_name, "tier": s.tier}
        if s.depends_on:
            entry["depends_on"] = list(s.depends_on)
        services[s.name] = entry
    return {"services": services}


def export_dataset(specs: Sequence[ServiceSpec], start: float = DATA_START_S,
                   end: float = DATA_END_S, step_s: float = STEP_S) -> tuple[str, str]:
    """(OpenMetrics text for promtool, Prometheus text with ms timestamps for VictoriaMetrics)."""
    ds = generate(specs, start, end, step_s)
    return ds.openmetrics(), ds.prometheus_text(millis=True)


def shift_openmetrics(text: str, delta: int) -> str:
    """The OpenMetrics text with every sample moved `delta` seconds later."""
    out = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            head, _, ts = line.rpartition(" ")
            line = f"{head} {int(float(ts)) + delta}"
        out.append(line)
    return "\n".join(out) + "\n"
