"""The second hold-out set's timeline, Postgres servers, chain and the `base`/`L` helpers."""

from __future__ import annotations

from collections.abc import Sequence

from testing.scenarios.generator import (
    CurveLike,
    ServiceSpec,
    as_curve,
)
from testing.scenarios.library import at
from testing.scenarios.rca_library import (
    LabelledScenario,
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


