"""The library's vocabulary and building blocks: the classes, triggers and signals of the
contract, the labelled scenario, the timeline, curve helpers and the `svc` factory."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from testing.scenarios.generator import (
    CurveLike,
    ServiceSpec,
    as_curve,
    piecewise,
)
from testing.scenarios.library import BASELINE_START_S, WINDOW_END_S, at, iso

GiB = 1024 ** 3
MiB = 1024 ** 2

#: ``--at`` of every run over the library: the end of the incident window.
AT = iso(WINDOW_END_S)                       # "2026-11-10T20:01:00Z"
WINDOW = {"start": "2026-11-10T19:46:00Z", "end": "2026-11-10T20:01:00Z"}
EXPORT_START_S = BASELINE_START_S - 5 * 60   # 18:41
EXPORT_END_S = WINDOW_END_S                  # 20:01
EXPORT_STEP_S = 30

#: CONTRACT.md, `triage rca --output json`.
CLASSES: tuple[str, ...] = (
    "cpu_saturation", "memory_pressure", "db_pool_exhaustion", "db_latency", "lock_contention",
    "connection_churn", "external_dependency", "application_errors", "none", "unknown",
)
INCIDENT_CLASSES: tuple[str, ...] = CLASSES[:8]
TRIGGERS: tuple[str, ...] = ("traffic_surge", "deploy", "dependency_failure", "none", "unknown")
#: CONTRACT.md, "Signals".
SIGNALS: tuple[str, ...] = (
    "rps", "error_ratio", "latency_p95", "inflight", "cpu_usage_ratio", "cpu_throttle_ratio",
    "memory_usage_ratio", "restarts", "oom_kills", "db_latency_p95", "db_read_latency_p95",
    "db_write_latency_p95", "db_connect_share", "db_pool_usage_ratio", "db_pool_wait_p95",
    "db_connections_ratio", "db_lock_waits", "dependency_latency_p95", "dependency_error_ratio",
    "replicas", "replicas_max", "deploys",
)

#: The dependency chain, root cause first: bank-api is slow, payment waits on it, checkout
#: waits on payment.  A fleet ranking must put payment above checkout.
CHAIN: tuple[str, ...] = ("bank-api", "payment", "checkout")


@dataclass(frozen=True)
class LabelledScenario:
    """One service of the library and what `triage rca` must answer for it.

    ``bottleneck`` is the CONTRACT class; ``acceptable`` lists other answers that are also
    right (rare: only where the signals genuinely cannot separate them).  ``trigger`` is the
    expected trigger when the scenario is built around one (None: not judged).
    ``missing`` names signals an honest ``unknown`` must list in ``missing_signals``.
    """

    spec: ServiceSpec
    bottleneck: str
    trigger: str | None
    note: str
    acceptable: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def answers(self) -> tuple[str, ...]:
        """Every verdict that counts as right."""
        return (self.bottleneck, *tuple(a for a in self.acceptable if a != self.bottleneck))

    def right(self, verdict: str | None) -> bool:
        return verdict in self.answers


# --------------------------------------------------------------------------------------
# Timeline and curve helpers
# --------------------------------------------------------------------------------------

W0 = at(19, 46)          # window start
EARLY = at(19, 45)       # onset a minute before the window opens
LATE = at(19, 50)        # onset inside the window
SLOW = at(19, 30)        # slow ramp, starting in the last quarter hour of the baseline
END = WINDOW_END_S


def follows(load: CurveLike, ref: float, base: float, power: float = 2.0) -> Callable[[float], float]:
    """A latency that follows load: ``base`` at or below ``ref``, growing as (load/ref)^power."""
    f = as_curve(load)
    return lambda t: base * max(1.0, f(t) / ref) ** power


def scaled(curve: CurveLike, factor: float) -> Callable[[float], float]:
    f = as_curve(curve)
    return lambda t: f(t) * factor


def capped(curve: CurveLike, hi: float) -> Callable[[float], float]:
    f = as_curve(curve)
    return lambda t: min(hi, f(t))


def sawtooth(lo: float, hi: float, start: float, peaks: Sequence[float]) -> Callable[[float], float]:
    """``lo`` until ``start``, then climbing to ``hi`` at each peak and dropping back to ``lo``
    (a container that fills its memory and is OOM-killed, again and again)."""
    pts: list[tuple[float, float]] = [(start, lo)]
    for p in peaks:
        pts += [(p - 1, hi), (p, lo)]
    pts.append((END + 60, lo + (hi - lo) * 0.3))
    return piecewise(pts)


_HEALTHY_DB_P50 = {"select": 0.003, "insert": 0.004, "update": 0.004, "delete": 0.004, "connect": 0.003}
_HEALTHY_DB_P95 = {"select": 0.010, "insert": 0.015, "update": 0.015, "delete": 0.012, "connect": 0.008}


def db(p50: Mapping[str, CurveLike] | None = None, p95: Mapping[str, CurveLike] | None = None,
       scale: float = 1.0) -> dict:
    """Healthy query latencies (times ``scale``) with some operations overridden."""
    lo: dict[str, CurveLike] = {k: v * scale for k, v in _HEALTHY_DB_P50.items()}
    hi: dict[str, CurveLike] = {k: v * scale for k, v in _HEALTHY_DB_P95.items()}
    lo.update(p50 or {})
    hi.update(p95 or {})
    return {"db_latency_p50": lo, "db_latency_p95": hi}


def writes(curve: CurveLike) -> dict:
    return {"insert": curve, "update": curve, "delete": curve}


def reads_and_writes(curve: CurveLike) -> dict:
    return {"select": curve, **writes(curve)}


# Postgres servers shared by several databases (max_connections must agree per server).
PG_SHOP = ("postgres-shop.shop:5432", 200)
PG_CHECKOUT = ("postgres-checkout.shop:5432", 100)
PG_TICKETS = ("postgres-tickets.tickets:5432", 100)
PG_PLATFORM = ("postgres-platform.platform:5432", 300)
PG_CATALOG = ("postgres-catalog.catalog:5432", 200)
PG_LEGACY = ("postgres-legacy.billing:5432", 100)

APP = frozenset({"http", "inflight", "db", "pool", "process", "cadvisor", "ksm", "hpa", "postgres",
                 "client", "alerts"})
K8S_ONLY = frozenset({"http", "cadvisor", "ksm"})
#: A service without a database of its own (gateways, proxies).
NO_DB = APP - {"db", "pool", "postgres"}


def svc(name: str, namespace: str, pg: tuple[str, int] = PG_SHOP, **kw) -> ServiceSpec:
    """A healthy service: 1 pod, one handler, 20-45 % CPU, half its memory, fast queries."""
    base: dict = {
        "name": name, "namespace": namespace, "database": name.replace("-", "_"), "pods": 1, "tier": 2,
        "pg_server": pg[0], "pg_max_connections": pg[1], "families": APP,
        "handlers": ((f"/api/{name}", "GET", 1.0),),
        "rps": 50.0, "error_ratio": 0.002, "latency_p50": 0.045, "latency_p95": 0.16,
        "cpu_limit_cores": 1.0, "cpu_usage_cores": 0.3,
        "memory_limit_bytes": 1 * GiB, "memory_working_set_bytes": 0.5 * GiB,
        "pool_size": 10, "pool_used": 3.0, "noise": 0.03,
    }
    base.update(db())
    for k in ("db_latency_p50", "db_latency_p95"):
        if k in kw:
            merged = dict(base[k])
            merged.update(kw.pop(k))
            base[k] = merged
    base.update(kw)
    return ServiceSpec(**base)


