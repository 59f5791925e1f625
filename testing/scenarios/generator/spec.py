"""What a generated service is: its curves, pods, families, dependencies, alerts and restarts."""

from __future__ import annotations

import dataclasses
import random
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from testing.scenarios.generator.vocabulary import DEFAULT_FAMILIES, FAMILIES, CurveLike

# --------------------------------------------------------------------------------------
# Specs
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Dependency:
    """An outbound HTTP dependency, seen from the caller's client instrumentation."""
    server_address: str                      # e.g. "bank-api.shop"
    calls_per_request: float = 1.0
    latency_p50: CurveLike = 0.03
    latency_p95: CurveLike = 0.08
    error_ratio: CurveLike = 0.0
    error_status: str = "504"
    ok_status: str = "200"


@dataclass(frozen=True)
class Alert:
    alertname: str
    severity: str
    start: float
    end: float | None = None              # None: still firing at the end of the data


@dataclass(frozen=True)
class Restart:
    at: float
    pod: int = 0                             # pod index
    reason: str = "Error"                    # e.g. "OOMKilled", "Error", "Completed"


@dataclass(frozen=True)
class PodState:
    """A pod that is not running normally for a while, as kube-state-metrics shows it."""
    start: float
    end: float | None = None                 # None: until the end of the data
    pod: int = 0                             # pod index (may be past ``pods``: a pod that never ran)
    waiting: str | None = None               # the container's waiting reason, e.g. "CrashLoopBackOff"
    phase: str = "Running"                   # the pod's phase meanwhile, e.g. "Pending"


DEFAULT_DB_OPS = {"select": 3.0, "insert": 0.5, "update": 0.5, "delete": 0.05, "connect": 0.001}
DEFAULT_DB_P50 = {"select": 0.002, "insert": 0.003, "update": 0.003, "delete": 0.003, "connect": 0.004}
DEFAULT_DB_P95 = {"select": 0.008, "insert": 0.012, "update": 0.012, "delete": 0.01, "connect": 0.015}
DEFAULT_LOCKS = {"accesssharelock": 12.0, "rowexclusivelock": 3.0, "rowsharelock": 1.0}


@dataclass(frozen=True)
class ServiceSpec:
    """One service and everything its exporters would show, as curves over unix time.

    Per-service quantities (``rps``, ``error_ratio``, latencies, pg_*) are for the
    whole service; per-pod quantities (``cpu_usage_cores``, ``memory_working_set_bytes``,
    ``pool_used``, ``inflight``) are for the average pod (each pod gets a small fixed
    offset).  ``pool_used`` is the *demand*: it is clamped to ``pool_size``, so a
    demand above the size shows as a pool exactly full on every pod.
    """

    name: str
    namespace: str = "default"
    database: str | None = None           # postgres datname; None: the service name
    pg_server: str | None = None          # postgres host:port; None: "postgres.<ns>:5432"
    pg_max_connections: int = 100
    pods: int = 2                            # most pods ever running; pod i exists while i < replicas(t)
    replicas: CurveLike | None = None     # None: always ``pods``
    spec_replicas: CurveLike | None = None  # None: same as replicas
    cpu_limit_cores: float = 1.0
    memory_limit_bytes: int = 512 * 1024 * 1024
    pool_size: int = 10
    families: frozenset[str] = DEFAULT_FAMILIES
    tier: int = 3                            # config metadata only (not emitted)
    depends_on: tuple[str, ...] = ()         # config metadata only (not emitted)

    handlers: tuple[tuple[str, str, float], ...] = ()  # (handler, method, weight); () -> one default
    error_statuses: Mapping[str, float] = field(default_factory=lambda: {"500": 1.0})

    rps: CurveLike = 50.0
    error_ratio: CurveLike = 0.002
    latency_p50: CurveLike = 0.04
    latency_p95: CurveLike = 0.12
    inflight: CurveLike | None = None     # per pod; None: Little's law

    db_ops: Mapping[str, float] = field(default_factory=dict)            # per request; missing -> defaults
    db_latency_p50: Mapping[str, CurveLike] = field(default_factory=dict)
    db_latency_p95: Mapping[str, CurveLike] = field(default_factory=dict)

    pool_used: CurveLike = 3.0
    pool_wait_p50: CurveLike = 0.0002
    pool_wait_p95: CurveLike = 0.002

    cpu_usage_cores: CurveLike = 0.2
    cpu_throttle_ratio: CurveLike | None = None   # None: derived from usage / limit
    memory_working_set_bytes: CurveLike | None = None  # None: 40 % of the limit

    restarts: tuple[Restart, ...] = ()
    pod_states: tuple[PodState, ...] = ()    # kube-state-metrics' waiting reasons and phases; () emits none
    counter_resets: tuple[tuple[float, int], ...] = ()   # (t, pod index): its counters start again at 0
    deploys: tuple[float, ...] = ()
    rollout_seconds: float | None = 15.0          # observed_generation lag; None: never observed
    generation_base: int = 7
    hpa_min: int | None = None                    # None: pods
    hpa_max: int | None = None                    # None: 2 * pods

    pg_active: CurveLike | None = None            # None: from pool use
    pg_idle: CurveLike | None = None
    pg_idle_in_transaction: CurveLike | None = None
    locks: Mapping[str, CurveLike] = field(default_factory=dict)     # mode -> count; missing -> defaults

    pgbouncer_client_waiting: CurveLike = 0.0
    pgbouncer_client_active: CurveLike | None = None   # None: pool connections in use
    pgbouncer_server_active: CurveLike | None = None   # None: pg active

    dependencies: tuple[Dependency, ...] = ()
    alerts: tuple[Alert, ...] = ()

    noise: float = 0.03                      # relative sigma applied to every quantity
    seed: int | None = None               # None: crc32 of the name

    @property
    def db_name(self) -> str:
        return self.database or self.name

    @property
    def server(self) -> str:
        return self.pg_server or f"postgres.{self.namespace}:5432"

    def without(self, *families: str) -> ServiceSpec:
        unknown = set(families) - FAMILIES
        if unknown:
            raise ValueError(f"unknown families: {sorted(unknown)}")
        return dataclasses.replace(self, families=self.families - set(families))

    def with_families(self, *families: str) -> ServiceSpec:
        unknown = set(families) - FAMILIES
        if unknown:
            raise ValueError(f"unknown families: {sorted(unknown)}")
        return dataclasses.replace(self, families=self.families | set(families))

    def pod_names(self) -> list[str]:
        """Deterministic Kubernetes-looking pod names: <deployment>-<rs hash>-<suffix>."""
        rng = random.Random(self._seed() ^ 0x5EED)
        alphabet = "bcdfghjklmnpqrstvwxz2456789"   # what Kubernetes uses for generated names
        rs = "".join(rng.choice(alphabet) for _ in range(10))
        return [f"{self.name}-{rs}-" + "".join(rng.choice(alphabet) for _ in range(5))
                for _ in range(self.pods)]

    def _seed(self) -> int:
        return self.seed if self.seed is not None else zlib.crc32(self.name.encode())


