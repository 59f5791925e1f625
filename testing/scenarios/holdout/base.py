"""The hold-out set's timeline, Postgres servers, family sets and the `hs`/`L` helpers."""

from __future__ import annotations

from testing.scenarios.generator import (
    DEFAULT_FAMILIES,
    ServiceSpec,
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
