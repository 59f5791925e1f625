"""The lab's incidents: what runs, what breaks at the incident's start, what must follow.

Each scenario is one service stack (the booking API in its own cgroup, its bank stub, its
own database on the shared Postgres) with a load profile for the baseline and for the
incident, the faults switched on when the incident starts, the class ``triage rca``
should name, and raw-signal checks: PromQL that must hold over the incident window, so
a scenario is known to produce its incident before any classifier is asked about it.

Rates are requests per second; the mix is 40 % ``POST /book``, 60 % ``GET /status``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

NAMESPACE = "lab"
CPU_LIMIT_CORES = 0.5          # the worker's "resources.limits.cpu: 500m"
MEMORY_LIMIT_BYTES = 256 << 20  # "resources.limits.memory: 256Mi"


@dataclass(frozen=True)
class Load:
    rate: float
    book_share: float = 0.4
    hot_share: float = 0.2


@dataclass(frozen=True)
class Check:
    """``query`` (``$service`` substituted, ``$window`` the incident window) evaluated at the
    end of the incident must satisfy ``op value``; ``baseline`` makes it relative to the
    same query one window earlier (``op`` against ``baseline_value * value``)."""

    what: str
    query: str
    op: str
    value: float
    relative: bool = False


@dataclass(frozen=True)
class Scenario:
    name: str
    service: str
    bottleneck: str
    story: str
    baseline: Load
    incident: Load
    service_settings: Mapping[str, Any] = field(default_factory=dict)
    incident_settings: Mapping[str, Any] = field(default_factory=dict)
    bank_settings: Mapping[str, Any] = field(default_factory=dict)
    incident_bank: Mapping[str, Any] = field(default_factory=dict)
    deploy: bool = False
    restock: Mapping[int, int] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()
    invariants: tuple[Mapping[str, Any], ...] = ()
    trigger: str | None = None
    # "postgresql" (lab.app on the shared PostgreSQL 15) or "mysql" (lab.app_mysql on a
    # MariaDB server of the stack's own, scraped by mysqld_exporter as job "mysqld").
    database_engine: str = "postgresql"
    database_settings: Mapping[str, Any] = field(default_factory=dict)   # e.g. max_connections (MySQL)
    # At the incident's start, another client opens idle sessions on the stack's database
    # until the server refuses them (max_connections), and keeps every slot it gets.
    fill_connections: bool = False


W = "[$window:5s]"
POOL_RATIO = 'max(db_connection_pool_used{service="$service"}) / max(db_connection_pool_size{service="$service"})'
CPU_RATIO = ('sum(rate(container_cpu_usage_seconds_total{namespace="lab",container="$service"}[30s])) '
             '/ (max(container_spec_cpu_quota{namespace="lab",container="$service"}) '
             '/ max(container_spec_cpu_period{namespace="lab",container="$service"}))')
THROTTLE_RATIO = ('sum(rate(container_cpu_cfs_throttled_periods_total{namespace="lab",container="$service"}[30s])) '
                  '/ sum(rate(container_cpu_cfs_periods_total{namespace="lab",container="$service"}[30s]))')
ERROR_RATIO = ('sum(rate(http_requests_total{service="$service",status=~"5.."}[1m]) or vector(0)) '
               '/ sum(rate(http_requests_total{service="$service"}[1m]))')


def p95_over_window(metric: str, sel: str = "") -> str:
    inner = f'histogram_quantile(0.95, sum by (le) (rate({metric}_bucket{{service="$service"{sel}}}[1m])))'
    return f"max_over_time(({inner}){W})"

NO_OVERSELLING = {"name": "no overselling", "query": 'min(tickets_remaining{service="$service"})', "min": 0}


def _quiet_cpu(limit: float = 0.8) -> Check:
    return Check("CPU stays below its limit", f"max_over_time(({CPU_RATIO}){W})", "<", limit)


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario(
        name="none", service="booking", bottleneck="none",
        story="Seed 001's booking API on a normal evening; traffic grows ×1.5 and the service absorbs it.",
        baseline=Load(12), incident=Load(18),
        checks=(Check("errors stay under 1 %", f"max_over_time(({ERROR_RATIO}){W})", "<", 0.01),
                Check("p95 stays under 500 ms", p95_over_window('http_request_duration_seconds', ''), "<", 0.5)),
    ),
    Scenario(
        name="db-pool", service="checkout", bottleneck="db_pool_exhaustion", trigger="traffic_surge",
        story=("Seed 000: checkout during the 11.11 promo. Traffic surges ×3; each checkout holds a pooled "
               "connection across the bank call (payment inside the order transaction), the pool of 4 runs dry "
               "while the queries stay fast and CPU stays far from its limit."),
        baseline=Load(10), incident=Load(32),
        service_settings={"pool_max": 4, "payment_in_transaction": True},
        bank_settings={"latency_ms": 300.0, "latency_sigma": 0.3},
        checks=(Check("the pool is full", f"max_over_time(({POOL_RATIO}){W})", ">=", 1.0),
                Check("requests wait for a connection (p95 > 0.5 s)",
                      p95_over_window('db_connection_wait_duration_seconds', ''), ">", 0.5),
                Check("queries stay fast (p95 < 50 ms)",
                      p95_over_window('db_query_duration_seconds', ',operation!="connect"'), "<", 0.05),
                _quiet_cpu()),
    ),
    Scenario(
        name="db-latency", service="booking", bottleneck="db_latency",
        story="The event lookup of /book and /status turns slow (pg_sleep(0.5) in the query: a lost index).",
        baseline=Load(12), incident=Load(12),
        incident_settings={"query_sleep": 0.5},
        checks=(Check("SELECT p95 ≥ 0.4 s",
                      p95_over_window('db_query_duration_seconds', ',operation="select"'), ">=", 0.4),),
    ),
    Scenario(
        name="lock-contention", service="booking", bottleneck="lock_contention",
        story=("An on-sale: 90 % of bookings hit one concert, and the booking holds SELECT … FOR UPDATE on the "
               "event row across a 200 ms seat-map allocation: bookings queue on the row lock, reads stay fast."),
        baseline=Load(12), incident=Load(12, hot_share=0.9),
        incident_settings={"hot_lock_hold": 0.2},
        # A FOR UPDATE waiter holds the tuple's heavyweight lock in AccessExclusiveLock mode
        # and waits for the holder's transaction id in ShareLock mode.
        checks=(Check("row locks held or awaited (≥ 2)",
                      'max_over_time(sum(pg_locks_count{datname="$service",mode=~"rowexclusivelock|exclusivelock|'
                      'accessexclusivelock|sharerowexclusivelock|sharelock"})' + W + ")", ">=", 2),
                Check("plain reads stay fast (p95 < 50 ms)",
                      p95_over_window('db_query_duration_seconds', ',operation="select"'), "<", 0.05)),
    ),
    Scenario(
        name="connection-churn", service="booking", bottleneck="connection_churn",
        story=("A release turns pooling off (seed 001 root cause 2): every request opens its own PostgreSQL "
               "connection (SCRAM authentication, a new backend) while traffic doubles."),
        baseline=Load(12), incident=Load(24),
        incident_settings={"pooling": False},
        checks=(Check("connect is ≥ 40 % of DB time",
                      'max_over_time((sum(rate(db_query_duration_seconds_sum'
                      '{service="$service",operation="connect"}[1m])) '
                      '/ sum(rate(db_query_duration_seconds_sum{service="$service"}[1m])))' + W + ")", ">=", 0.4),),
    ),
    Scenario(
        name="cpu", service="booking", bottleneck="cpu_saturation",
        story=("A release renders e-tickets in the request path: 80 ms of CPU per request in a worker limited to "
               "half a core (cgroup CPU quota): 0.8 core of demand, the quota runs out, CFS throttles, latency "
               "follows."),
        baseline=Load(10), incident=Load(10),
        # Demand well past the quota, so the quota runs out even on a busy host (where the
        # worker gets less than its half core and 45 ms a request only just reached it).
        incident_settings={"cpu_burn_ms": 80.0},
        # A busy host takes some of the half core (the worker is starved, not throttled): the
        # checks ask for saturation and throttling, not the figures of an idle machine.
        checks=(Check("CPU near its limit (≥ 80 %)", f"max_over_time(({CPU_RATIO}){W})", ">=", 0.8),
                Check("throttled in ≥ 25 % of CFS periods", f"max_over_time(({THROTTLE_RATIO}){W})", ">=", 0.25)),
    ),
    Scenario(
        name="memory", service="booking", bottleneck="memory_pressure",
        story=("A release caches every rendered e-ticket (1 MiB a booking) in process memory and never evicts: "
               "the working set climbs to the 256 MiB cgroup limit in under a minute, the kernel OOM-kills the "
               "worker, it is restarted and climbs again (OOMKilled, restarting)."),
        baseline=Load(12), incident=Load(12),
        incident_settings={"leak_kb": 1024},
        checks=(Check("working set ≥ 90 % of the limit",
                      'max_over_time((max(container_memory_working_set_bytes{namespace="lab",container="$service"}) '
                      '/ max(container_spec_memory_limit_bytes{namespace="lab",container="$service"}))' + W + ")",
                      ">=", 0.9),
                Check("OOM-killed at least once",
                      'max(kube_pod_container_status_last_terminated_reason{namespace="lab",container="$service",'
                      'reason="OOMKilled"})', ">=", 1)),
    ),
    Scenario(
        name="external-dependency", service="payment", bottleneck="external_dependency", trigger="dependency_failure",
        story=("Seed 000's payment: the bank API slows from 150 ms to ~1.8 s and fails 10 % of calls; "
               "payments time out at 2 s."),
        baseline=Load(12), incident=Load(12),
        incident_bank={"latency_ms": 1800.0, "latency_sigma": 0.4, "error_rate": 0.1},
        checks=(Check("bank p95 ≥ 1.5 s",
                      p95_over_window('http_client_request_duration_seconds', ''), ">=", 1.5),
                Check("the pool stays below 80 %", f"max_over_time(({POOL_RATIO}){W})", "<", 0.8)),
    ),
    Scenario(
        name="app-errors", service="booking", bottleneck="application_errors", trigger="deploy",
        story=("A deploy of release 2.0.0 (deployment generation 1 → 2): its promo-code support fails every "
               "booking sent without a promo code with HTTP 500, while nothing saturates."),
        baseline=Load(12), incident=Load(12),
        incident_settings={"version": "2.0.0", "bug_promo_code": True}, deploy=True,
        checks=(Check("5xx ≥ 5 % of requests", f"max_over_time(({ERROR_RATIO}){W})", ">=", 0.05),
                Check("a rollout happened",
                      'max(kube_deployment_metadata_generation{namespace="lab",deployment="$service"})', ">=", 2),
                _quiet_cpu()),
    ),
    Scenario(
        name="overselling", service="booking", bottleneck="none",
        story=("Seed 001 root cause 1: the naive booking (check availability, charge, then decrement: no lock, "
               "no guard) during an on-sale rush (150 released tickets, traffic ×1.7): concurrent bookings all pass "
               "the check and "
               "tickets_remaining goes below zero. No resource saturates: it is a correctness incident, caught "
               "by the no-overselling invariant, not by a bottleneck class."),
        baseline=Load(12), incident=Load(20, hot_share=0.9),
        service_settings={"naive_booking": True}, restock={1: 150},
        checks=(Check("tickets_remaining below zero",
                      'min(min_over_time(tickets_remaining{service="$service"}' + W + "))", "<", 0),),
        invariants=(NO_OVERSELLING,),
    ),
    Scenario(
        name="mysql-lock-contention", service="tickets", bottleneck="lock_contention", database_engine="mysql",
        story=("The on-sale on MariaDB: 90 % of bookings hit one concert, and the booking holds SELECT … FOR UPDATE "
               "on the event row across a 200 ms seat-map allocation: InnoDB row-lock waits pile up, bookings "
               "queue and some time out (innodb_lock_wait_timeout), reads stay fast."),
        baseline=Load(12), incident=Load(12, hot_share=0.9),
        incident_settings={"hot_lock_hold": 0.2},
        checks=(Check("InnoDB row-lock waits (≥ 1)",
                      'max_over_time(sum(mysql_global_status_innodb_row_lock_current_waits{stack="$service"})'
                      + W + ")", ">=", 1),
                Check("plain reads stay fast (p95 < 50 ms)",
                      p95_over_window('db_query_duration_seconds', ',operation="select"'), "<", 0.05)),
    ),
    Scenario(
        name="mysql-connection-limit", service="tickets", bottleneck="db_pool_exhaustion", database_engine="mysql",
        story=("A reporting job on the same MariaDB opens sessions and leaves them idle until the server's "
               "max_connections (40); the booking pool recycles its connections (max lifetime 5 s) and cannot "
               "open new ones (\"Too many connections\"): requests wait for the few connections left, then fail."),
        baseline=Load(12), incident=Load(12),
        service_settings={"pool_max_lifetime": 5.0, "pool_timeout": 3.0},
        database_settings={"max_connections": 40}, fill_connections=True,
        checks=(Check("the server's sessions at ≥ 90 % of max_connections",
                      "max_over_time((max(mysql_global_status_threads_connected{stack=\"$service\"}) "
                      "/ max(mysql_global_variables_max_connections{stack=\"$service\"}))" + W + ")", ">=", 0.9),
                Check("requests wait for a connection (p95 > 0.5 s)",
                      p95_over_window('db_connection_wait_duration_seconds', ''), ">", 0.5)),
    ),
)}

LIVE = ("db-pool", "external-dependency", "cpu")
LIVE_MYSQL = ("mysql-lock-contention", "mysql-connection-limit")


def render(query: str, service: str, window: str) -> str:
    return query.replace("$service", service).replace("$window", window)
