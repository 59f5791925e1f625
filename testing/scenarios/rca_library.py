"""The labelled scenario library for `triage rca`: one service per case, all in one dataset.

Every scenario is a :class:`ServiceSpec` on the standard timeline of
:mod:`testing.scenarios.library` (incident window 19:46..20:01, baseline 18:46..19:46 on
2026-11-10) plus the label a correct classifier must give it.  All of them live in the
*same* Prometheus, so each service is a decoy for the others: a CPU-bound service shares
its namespace with a lock-bound one, several databases share a Postgres server, the
dependency chain ``bank-api → payment → checkout`` sits next to a third-party timeout and
a dependency that only returns 503s.

Magnitudes follow the seeds: healthy p95 well under 500 ms, DB p95 10..25 ms, CPU 20..70 %
of the limit, pool 20/20 with queries at 12 ms for seed 000's checkout, connect ≈ 46 % of
DB time for seed 001's booking service.  Per-service noise is 2..6 %.  Onsets vary: at
19:45 (just before the window), at 19:50 (inside it) and slow ramps from 19:30.

The data is exported from 18:41 (five minutes before the baseline, so the first ``rate``
of the baseline has samples behind it) to 20:01 at a 30 s scrape step: ``rate(...[1m])``
always sees at least two samples, and the text stays small (see :func:`dataset_stats`).

Public API::

    rca_library() -> list[LabelledScenario]
    rca_config(scenarios) -> str                  # triage.yaml text, contract keys only
    rca_openmetrics(scenarios) -> str             # the OpenMetrics text for promtool
    serve_library(workdir, scenarios=None)        # context manager -> LibraryServer(url, config, backend)
    CHAIN, AT, CLASSES, SIGNALS, TRIGGERS, by_name(), labels()
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from testing.scenarios.generator import (
    Alert,
    CurveLike,
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


# --------------------------------------------------------------------------------------
# cpu_saturation
# --------------------------------------------------------------------------------------

def _cpu() -> list[LabelledScenario]:
    out = []
    # orders: an 11.11 promo surge (x2.5) pins both pods at their 1-core limit; the HPA is
    # already at its maximum; latency follows the load wave inside the window.
    rps = piecewise([(EARLY, 120), (at(19, 48), 300), (at(19, 53), 330), (at(19, 57), 280), (END, 310)])
    out.append(LabelledScenario(
        svc("orders", "shop", pods=2, tier=1, rps=rps, hpa_min=2, hpa_max=2,
            cpu_usage_cores=scaled(rps, 0.45 / 120 * 2 / 2),         # 0.45 core/pod at 120 rps
            latency_p50=follows(rps, 150, 0.06, 2.3), latency_p95=follows(rps, 150, 0.22, 2.4),
            error_ratio=follows(rps, 200, 0.003, 2.0),
            pool_used=follows(rps, 120, 3.5, 0.5), noise=0.03),
        "cpu_saturation", "traffic_surge",
        "Seed 001 rule 'high RPS + high CPU + high latency': traffic x2.5 at 19:45, CPU at the "
        "1-core limit on both pods, CFS throttling ~80 %, p95 0.22 s -> ~2 s following the load "
        "wave; DB and pool unremarkable; HPA at max (2/2)."))

    # render: a deploy at 19:50 ships a CPU-heavy code path; traffic flat, CPU demand 2.3
    # cores against a 2-core limit, throttled; latency x4.  Not application_errors: errors flat.
    cpu = ramp(0.7, 2.3, LATE, at(19, 51))
    out.append(LabelledScenario(
        svc("render", "platform", pg=PG_PLATFORM, tier=3, rps=40.0,
            cpu_limit_cores=2.0, cpu_usage_cores=cpu,
            memory_limit_bytes=2 * GiB, memory_working_set_bytes=0.9 * GiB,
            latency_p50=ramp(0.12, 0.6, LATE, at(19, 51)), latency_p95=ramp(0.35, 1.4, LATE, at(19, 51)),
            deploys=(at(19, 49, 30),), noise=0.04),
        "cpu_saturation", "deploy",
        "A deploy at 19:49:30 makes each request CPU-heavier: usage from 35 % to the 2-core limit "
        "at 19:50 with RPS flat, throttling up, p95 0.35 -> 1.4 s, errors flat.  The deploy is "
        "the trigger, CPU the bottleneck."))

    # recommender: organic evening growth from 19:30; CPU reaches the 1.5-core limit about
    # 19:50; p95 rises to ~0.75 s (warning, not critical).  Noisier (5 %).
    rps = ramp(80, 150, SLOW, at(19, 55))
    out.append(LabelledScenario(
        svc("recommender", "catalog", pg=PG_CATALOG, tier=3, rps=rps,
            cpu_limit_cores=1.5, cpu_usage_cores=scaled(rps, 0.75 / 80 * 1.35),
            latency_p50=follows(rps, 110, 0.08, 3.0), latency_p95=follows(rps, 110, 0.25, 3.5),
            noise=0.05),
        "cpu_saturation", "traffic_surge",
        "Slow ramp: RPS 80 -> 150 from 19:30 to 19:55, CPU from ~68 % to the 1.5-core limit "
        "(reached ~19:44), throttling follows, p95 0.25 -> ~0.75 s; noise 5 %.  The baseline's last 16 minutes "
        "already climb."))

    # thumbnailer: partial signals, only cAdvisor + kube-state-metrics + http.
    out.append(LabelledScenario(
        svc("thumbnailer", "platform", pg=PG_PLATFORM, tier=3, families=K8S_ONLY, rps=30.0,
            cpu_limit_cores=0.5, cpu_usage_cores=ramp(0.15, 0.62, LATE, at(19, 51)),
            latency_p50=ramp(0.15, 0.9, LATE, at(19, 51)), latency_p95=ramp(0.4, 2.5, LATE, at(19, 51)),
            noise=0.02),
        "cpu_saturation", None,
        "Partial signals (cAdvisor, kube-state-metrics, http only): a batch of large images at "
        "19:50, CPU 30 % -> pinned at the 0.5-core limit, throttling ~80 %, p95 0.4 -> 2.5 s.  "
        "cAdvisor alone decides CPU."))

    # pdf-export: no cAdvisor; one single-threaded worker per pod, so the process CPU's limit
    # is one core (the catalog's third alternative).  Month-end exports at 19:50.
    rps = ramp(20.0, 45.0, LATE, at(19, 51))
    out.append(LabelledScenario(
        svc("pdf-export", "billing", pg=PG_LEGACY, tier=3, rps=rps, families=APP - {"cadvisor"},
            cpu_usage_cores=scaled(rps, 0.4 / 20),
            latency_p50=follows(rps, 24, 0.2, 2.5), latency_p95=follows(rps, 24, 0.5, 3.0), noise=0.04),
        "cpu_saturation", "traffic_surge",
        "No cAdvisor: one single-threaded worker per pod; month-end exports (x2.25 at 19:50) take "
        "process CPU from 0.4 to ~0.97 core, p95 0.5 -> ~3 s.  Only process_cpu_seconds_total "
        "shows the CPU."))

    # api-gateway: CFS throttling without the average at the limit (bursty, many threads):
    # usage 45 -> 70 %, throttled periods 2 -> 45 %, latency x4 under a x1.6 surge.  No DB.
    rps = ramp(300.0, 480.0, EARLY, at(19, 47))
    out.append(LabelledScenario(
        svc("api-gateway", "platform", pods=2, tier=1, rps=rps, families=NO_DB, database=None,
            cpu_usage_cores=scaled(rps, 0.45 / 300 * 0.97),
            cpu_throttle_ratio=follows(rps, 300, 0.02, 6.8),
            latency_p50=follows(rps, 300, 0.03, 2.5), latency_p95=follows(rps, 300, 0.12, 3.3),
            dependencies=(Dependency("catalog-api.catalog", 1.0, latency_p50=0.03, latency_p95=0.12),),
            noise=0.03),
        "cpu_saturation", "traffic_surge",
        "Throttled, not pinned: under a x1.6 surge at 19:45 average CPU only reaches ~70 % of the "
        "limit but 45 % of CFS periods are throttled (bursts on many threads); p95 0.12 -> ~0.55 s; "
        "its upstream (catalog-api) stays at 120 ms.  No database."))

    # quotes: CPU-starved asyncio app.  With the event loop pinned, the *client-measured* DB
    # time rises too (12 -> 90 ms) although Postgres is idle: a decoy for db_latency.
    rps = ramp(70.0, 150.0, LATE, at(19, 51, 30))
    out.append(LabelledScenario(
        svc("quotes", "shop", tier=2, rps=rps, cpu_usage_cores=scaled(rps, 0.5 / 70),
            db_latency_p50={"select": follows(rps, 100, 0.004, 3.0), **writes(follows(rps, 100, 0.005, 3.0))},
            db_latency_p95={"select": follows(rps, 100, 0.012, 5.0), **writes(follows(rps, 100, 0.016, 5.0))},
            pool_used=follows(rps, 70, 3.5, 0.8), pg_active=4.0,
            latency_p50=follows(rps, 95, 0.06, 3.0), latency_p95=follows(rps, 95, 0.2, 3.5), noise=0.04),
        "cpu_saturation", "traffic_surge",
        "Traffic x2.1 at 19:50 pins the single asyncio worker at its 1-core limit (throttled); "
        "the event loop stalls, so the app's own DB timings rise 12 -> ~90 ms while Postgres is "
        "idle (active connections flat, locks flat); pool 60 %; p95 0.2 -> ~1 s.  CPU moved first "
        "and is at its limit: cpu_saturation, not db_latency."))
    return out


# --------------------------------------------------------------------------------------
# memory_pressure
# --------------------------------------------------------------------------------------

def _memory() -> list[LabelledScenario]:
    out = []
    # reviews: a leak all afternoon; both pods reach the 512 MiB limit and are OOM-killed at
    # 19:51-19:52, then climb again.  GC thrash raises latency before the kill.
    mem = piecewise([(at(18, 0), 200 * MiB), (at(19, 51), 515 * MiB), (at(19, 51, 30), 180 * MiB),
                     (END, 260 * MiB)])
    out.append(LabelledScenario(
        svc("reviews", "shop", pods=2, tier=3, rps=30.0, memory_limit_bytes=512 * MiB,
            memory_working_set_bytes=mem,
            restarts=(Restart(at(19, 51, 30), pod=0, reason="OOMKilled"),
                      Restart(at(19, 52), pod=1, reason="OOMKilled")),
            latency_p50=ramp(0.045, 0.25, at(19, 40), at(19, 51)),
            latency_p95=piecewise([(at(19, 40), 0.15), (at(19, 51), 1.2), (at(19, 53), 0.5), (END, 0.35)]),
            error_ratio=pulse(0.002, 0.05, at(19, 51, 30), at(19, 53, 30)), noise=0.03),
        "memory_pressure", None,
        "Leak: working set grows linearly 200 -> 512 MiB (the limit) from 18:00 to 19:51, both "
        "pods OOMKilled at 19:51-19:52 (restarts, last_terminated_reason=OOMKilled), 5xx during "
        "the restarts, p95 up to 1.2 s from GC thrash before the kill."))

    # sessions: a slow leak since a rollout at 19:20 (outside the window); no OOM yet, working
    # set 55 % -> 95 % of 1 GiB, latency drifting up with GC pauses.
    out.append(LabelledScenario(
        svc("sessions", "platform", pg=PG_PLATFORM, tier=2, rps=90.0,
            memory_working_set_bytes=ramp(0.55 * GiB, 0.95 * GiB, at(19, 20), END),
            cpu_usage_cores=ramp(0.3, 0.62, at(19, 40), END),
            latency_p50=ramp(0.03, 0.06, at(19, 40), END), latency_p95=ramp(0.12, 0.45, at(19, 40), END),
            deploys=(at(19, 20),), noise=0.02),
        "memory_pressure", None,
        "Slow leak, no OOM yet: working set 55 % -> 95 % of the 1 GiB limit between 19:20 and "
        "20:01 (a clear positive slope), p95 0.12 -> 0.45 s from GC pauses, and the GC raises "
        "CPU from 30 % to 62 % (a decoy: below the limit, no throttling); DB and errors normal.  "
        "The rollout at 19:20 is before the window."))

    # pricing: a deploy at 19:50 loads a model too big for the limit: an OOM crash loop.
    mem = sawtooth(0.45 * GiB, 1.02 * GiB, LATE, [at(19, 52), at(19, 55), at(19, 58)])
    out.append(LabelledScenario(
        svc("pricing", "shop", tier=2, rps=60.0, memory_working_set_bytes=mem,
            deploys=(at(19, 50),),
            restarts=(Restart(at(19, 52), 0, "OOMKilled"), Restart(at(19, 55), 0, "OOMKilled"),
                      Restart(at(19, 58), 0, "OOMKilled")),
            error_ratio=ramp(0.002, 0.08, at(19, 51), at(19, 53)),
            latency_p50=ramp(0.05, 0.2, LATE, at(19, 53)), latency_p95=ramp(0.18, 0.9, LATE, at(19, 53)),
            noise=0.04),
        "memory_pressure", "deploy",
        "OOM crash loop after a deploy at 19:50: working set hits the 1 GiB limit every ~3 min, "
        "3 OOMKilled restarts, 5xx 8 %, p95 0.9 s.  A decoy for application_errors (deploy + "
        "errors + restarts): the OOMKilled reason and the memory at its limit decide."))

    # imgproxy: partial signals (cAdvisor + kube-state-metrics + http): leak to the limit,
    # OOMKilled at 19:56.
    mem = piecewise([(at(18, 30), 300 * MiB), (at(19, 56), 770 * MiB), (at(19, 56, 30), 250 * MiB),
                     (END, 280 * MiB)])
    out.append(LabelledScenario(
        svc("imgproxy", "platform", pg=PG_PLATFORM, tier=3, families=K8S_ONLY, rps=25.0,
            memory_limit_bytes=768 * MiB, memory_working_set_bytes=mem,
            restarts=(Restart(at(19, 56, 30), 0, "OOMKilled"),),
            latency_p95=piecewise([(at(19, 44), 0.2), (at(19, 56), 0.9), (at(19, 57), 0.25)]),
            error_ratio=pulse(0.002, 0.06, at(19, 56, 30), at(19, 58)), noise=0.03),
        "memory_pressure", None,
        "Partial signals (cAdvisor, kube-state-metrics, http only): working set climbs from 300 "
        "to 768 MiB (the limit) since 18:30, OOMKilled at 19:56:30, errors around the restart."))

    # ws-gateway: a fast leak inside the window (slow consumers, buffers piling up); no OOM
    # yet at 20:01.  No database.
    out.append(LabelledScenario(
        svc("ws-gateway", "platform", tier=2, rps=120.0, families=NO_DB, database=None,
            memory_limit_bytes=512 * MiB, memory_working_set_bytes=ramp(0.4 * 512 * MiB, 0.93 * 512 * MiB, LATE, END),
            latency_p50=0.02, latency_p95=ramp(0.08, 0.2, at(19, 55), END), noise=0.03),
        "memory_pressure", None,
        "A fast leak that starts at 19:50: working set 40 % -> 93 % of 512 MiB in 11 minutes (a "
        "steep slope, OOM imminent), p95 0.08 -> 0.2 s; nothing else moves.  No database."))
    return out


# --------------------------------------------------------------------------------------
# db_pool_exhaustion
# --------------------------------------------------------------------------------------

def _pool() -> list[LabelledScenario]:
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

def _db_latency() -> list[LabelledScenario]:
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

def _locks() -> list[LabelledScenario]:
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


def _churn() -> list[LabelledScenario]:
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


# --------------------------------------------------------------------------------------
# external_dependency (and the chain)
# --------------------------------------------------------------------------------------

def _chain() -> list[LabelledScenario]:
    dep_p95 = ramp(0.25, 2.8, W0, at(19, 49))
    bank = svc("bank-api", "shop", tier=2, rps=40.0,
               families=frozenset({"http", "inflight", "process", "cadvisor", "ksm", "hpa"}),
               database=None, error_statuses={"504": 1.0},
               latency_p50=ramp(0.08, 1.4, W0, at(19, 49)), latency_p95=dep_p95,
               error_ratio=ramp(0.001, 0.006, W0, at(19, 49)), cpu_usage_cores=0.22, noise=0.03)
    payment = svc("payment", "shop", pods=2, tier=1, rps=40.0, depends_on=("bank-api",),
                  error_statuses={"504": 0.8, "502": 0.2},
                  latency_p50=ramp(0.10, 1.6, W0, at(19, 49)), latency_p95=ramp(0.30, 3.2, W0, at(19, 49)),
                  error_ratio=ramp(0.002, 0.08, W0, at(19, 49)),
                  cpu_usage_cores=ramp(0.18, 0.10, W0, at(19, 49)),
                  dependencies=(Dependency("bank-api.shop", 1.0, latency_p50=ramp(0.08, 1.4, W0, at(19, 49)),
                                           latency_p95=dep_p95, error_ratio=ramp(0.001, 0.08, W0, at(19, 49)),
                                           error_status="504"),),
                  noise=0.03)
    checkout = svc("checkout", "shop", tier=1, rps=90.0, depends_on=("payment",),
                   handlers=(("/checkout", "POST", 1.0),), error_statuses={"504": 1.0},
                   latency_p50=ramp(0.12, 1.7, W0, at(19, 49, 30)), latency_p95=ramp(0.35, 3.4, W0, at(19, 49, 30)),
                   error_ratio=ramp(0.002, 0.06, W0, at(19, 49, 30)),
                   cpu_usage_cores=ramp(0.35, 0.3, W0, at(19, 49)),
                   dependencies=(Dependency("payment.shop", 0.45,
                                            latency_p50=ramp(0.10, 1.6, W0, at(19, 49, 30)),
                                            latency_p95=ramp(0.30, 3.3, W0, at(19, 49, 30)),
                                            error_ratio=ramp(0.002, 0.08, W0, at(19, 49, 30)),
                                            error_status="504"),
                                 Dependency("catalog-api.catalog", 1.0, latency_p50=0.03, latency_p95=0.12)),
                   noise=0.03)
    return [
        LabelledScenario(
            bank, "unknown", None,
            "Root of the chain, seen from inside: a thin gateway to the bank with no outbound "
            "client instrumentation and no database.  Its p95 goes 0.25 -> 2.8 s at 19:46 while "
            "CPU (22 %), memory, restarts and errors (< 1 %) stay flat.  Something behind it is "
            "slow but nothing it exports says what: the honest verdict is 'unknown', naming the "
            "dependency and DB signals it lacks.  (It is still the root cause of the chain; a "
            "fleet ranking may put it first.)",
            missing=("dependency_latency_p95",)),
        LabelledScenario(
            payment, "external_dependency", "dependency_failure",
            "Outbound to bank-api.shop: p95 0.25 -> 2.8 s and 504s 8 % from 19:46; own p95 3.2 s, "
            "5xx 8 %; CPU falls (it is waiting, not working), DB and pool normal.  depends_on: "
            "bank-api."),
        LabelledScenario(
            checkout, "external_dependency", "dependency_failure",
            "A symptom: outbound to payment.shop p95 0.3 -> 3.3 s with 504s, own p95 3.4 s, 5xx 6 %; "
            "its other dependency (catalog-api) and its own CPU, DB and pool are normal.  "
            "depends_on: payment, so a fleet ranking puts payment above it."),
    ]


def _external() -> list[LabelledScenario]:
    out = _chain()
    # geo: a third-party maps API starts timing out at 19:50 (client timeout 5 s).
    out.append(LabelledScenario(
        svc("geo", "platform", pg=PG_PLATFORM, tier=2, rps=45.0, error_statuses={"504": 1.0},
            cpu_usage_cores=ramp(0.2, 0.12, LATE, at(19, 51)),
            dependencies=(Dependency("maps.googleapis.com", 1.0,
                                     latency_p50=ramp(0.06, 2.5, LATE, at(19, 51)),
                                     latency_p95=ramp(0.15, 4.8, LATE, at(19, 51)),
                                     error_ratio=ramp(0.001, 0.35, LATE, at(19, 51)), error_status="504"),
                          Dependency("geo-cache.platform", 2.0, latency_p50=0.002, latency_p95=0.006)),
            latency_p50=ramp(0.07, 2.6, LATE, at(19, 51)), latency_p95=ramp(0.2, 5.0, LATE, at(19, 51)),
            error_ratio=ramp(0.002, 0.3, LATE, at(19, 51)), noise=0.04),
        "external_dependency", "dependency_failure",
        "A third-party maps API times out from 19:50: outbound p95 0.15 -> 4.8 s, 35 % 504s; own "
        "p95 5 s, 5xx 30 %; CPU drops, DB normal; the internal geo-cache dependency stays at 6 ms."))

    # shipping: a carrier API degrades slowly from 19:30; no errors.
    out.append(LabelledScenario(
        svc("shipping", "shop", tier=3, rps=20.0,
            dependencies=(Dependency("api.carrier.example", 1.0,
                                     latency_p50=ramp(0.12, 0.6, SLOW, at(19, 55)),
                                     latency_p95=ramp(0.3, 1.6, SLOW, at(19, 55))),),
            latency_p50=ramp(0.16, 0.7, SLOW, at(19, 55)), latency_p95=ramp(0.4, 1.8, SLOW, at(19, 55)),
            noise=0.05),
        "external_dependency", "dependency_failure",
        "Slow ramp from 19:30: the carrier API's p95 0.3 -> 1.6 s, no errors; own p95 0.4 -> 1.8 s "
        "tracking it; CPU 30 %, DB fast; noise 5 %."))

    # fraud-check: the scoring API answers 503 for a quarter of calls; latency barely moves.
    out.append(LabelledScenario(
        svc("fraud-check", "shop", tier=1, rps=55.0, error_statuses={"502": 1.0},
            dependencies=(Dependency("scoring.risk-vendor.example", 1.0,
                                     latency_p50=0.05, latency_p95=ramp(0.12, 0.2, EARLY, at(19, 46)),
                                     error_ratio=ramp(0.001, 0.25, EARLY, at(19, 46)), error_status="503"),),
            error_ratio=ramp(0.002, 0.22, EARLY, at(19, 46)), noise=0.03),
        "external_dependency", "dependency_failure",
        "A decoy for application_errors: from 19:45 the risk vendor's scoring API returns 503 "
        "for 25 % of calls and fraud-check's own 5xx follow (22 %), latency flat; nothing "
        "saturated.  The outbound error ratio explains the errors."))

    # refunds: holds a DB transaction while calling the payment gateway, so the pool fills as
    # a consequence two minutes after the gateway slows down.
    out.append(LabelledScenario(
        svc("refunds", "shop", tier=2, rps=35.0, error_statuses={"504": 1.0},
            dependencies=(Dependency("payments-gateway.example", 1.0,
                                     latency_p50=ramp(0.1, 1.8, EARLY, at(19, 47)),
                                     latency_p95=ramp(0.3, 4.0, EARLY, at(19, 47)),
                                     error_ratio=ramp(0.001, 0.1, EARLY, at(19, 47)), error_status="504"),),
            pool_used=ramp(3.0, 15.0, at(19, 46), at(19, 48)),
            pool_wait_p50=ramp(0.0002, 0.5, at(19, 47), at(19, 49)),
            pool_wait_p95=ramp(0.002, 1.5, at(19, 47), at(19, 49)),
            pg_idle_in_transaction=ramp(0.5, 16.0, at(19, 46), at(19, 48)),
            cpu_usage_cores=ramp(0.3, 0.2, EARLY, at(19, 47)),
            latency_p50=ramp(0.12, 2.2, EARLY, at(19, 48)), latency_p95=ramp(0.35, 5.0, EARLY, at(19, 48)),
            error_ratio=ramp(0.002, 0.1, EARLY, at(19, 48)), noise=0.03),
        "external_dependency", "dependency_failure",
        "The gateway slows first (outbound p95 0.3 -> 4 s, 504s 10 % from 19:45); refunds holds a "
        "transaction across the call, so its pool fills 10/10 from ~19:47 (wait p95 1.5 s, 'idle "
        "in transaction' 16) with queries still fast.  The pool is a consequence: the dependency "
        "moved first."))
    return out


# --------------------------------------------------------------------------------------
# application_errors
# --------------------------------------------------------------------------------------

def _app_errors() -> list[LabelledScenario]:
    out = []
    out.append(LabelledScenario(
        svc("notifications", "platform", pg=PG_PLATFORM, tier=3, rps=45.0,
            error_ratio=step(0.002, 0.12, at(19, 45, 30)), latency_p50=0.04, latency_p95=0.13,
            deploys=(EARLY,), restarts=(Restart(at(19, 47), pod=0, reason="Error"),), noise=0.03),
        "application_errors", "deploy",
        "A bad deploy at 19:45: 5xx 0.2 % -> 12 % within 30 s, one container restart (Error), "
        "latency, CPU, memory, DB flat."))

    # accounts: no deploy: a bad feature-flag / data shape at 19:50 makes some requests 500.
    out.append(LabelledScenario(
        svc("accounts", "shop", tier=2, rps=75.0,
            error_ratio=ramp(0.003, 0.045, LATE, at(19, 51)),
            latency_p95=ramp(0.16, 0.15, LATE, at(19, 51)), noise=0.05),
        "application_errors", None,
        "No deploy: from 19:50 a feature flag makes ~4.5 % of requests fail with 500 (warning "
        "level); latency unchanged, nothing saturated, noise 5 %."))

    # auth: a deploy at 19:52 crash-loops (exit 1, not OOM): five restarts, 503s.
    out.append(LabelledScenario(
        svc("auth", "platform", pg=PG_PLATFORM, pods=2, tier=1, rps=150.0, error_statuses={"503": 1.0},
            deploys=(at(19, 52),),
            restarts=(Restart(at(19, 53), 0), Restart(at(19, 54), 1), Restart(at(19, 55, 30), 0),
                      Restart(at(19, 57), 1), Restart(at(19, 58, 30), 0)),
            error_ratio=ramp(0.001, 0.25, at(19, 52, 30), at(19, 54)),
            latency_p95=ramp(0.12, 0.3, at(19, 52, 30), at(19, 54)), latency_p50=0.03,
            cpu_usage_cores=0.25, noise=0.03),
        "application_errors", "deploy",
        "A deploy at 19:52 crash-loops (reason Error, not OOMKilled): 5 restarts over 2 pods, "
        "503s 25 %, p95 0.12 -> 0.3 s; CPU 25 %, memory 50 %, DB normal."))

    # suggest: a deploy at 19:47 fails 30 % of requests fast; clients retry, so RPS rises x1.4
    # and p95 *drops*.  A decoy for traffic_surge and for 'latency is fine, so none'.  No DB.
    out.append(LabelledScenario(
        svc("suggest", "catalog", tier=3, families=NO_DB, database=None,
            rps=ramp(100.0, 140.0, at(19, 47), at(19, 48)), error_ratio=ramp(0.002, 0.3, at(19, 47), at(19, 48)),
            latency_p50=ramp(0.04, 0.015, at(19, 47), at(19, 48)), latency_p95=ramp(0.2, 0.09, at(19, 47), at(19, 48)),
            cpu_usage_cores=ramp(0.3, 0.36, at(19, 47), at(19, 48)), deploys=(at(19, 46, 45),),
            dependencies=(Dependency("search.catalog", 1.0, latency_p50=0.03, latency_p95=0.1),),
            noise=0.03),
        "application_errors", "deploy",
        "A deploy at 19:46:45 fails 30 % of requests fast (500); clients retry, so RPS x1.4 and "
        "p95 falls 0.2 -> 0.09 s; its dependency (search) is healthy, CPU 36 %.  The retries are "
        "not the trigger, the deploy is."))
    return out


# --------------------------------------------------------------------------------------
# none (controls)
# --------------------------------------------------------------------------------------

def _controls() -> list[LabelledScenario]:
    out = []
    rps = ramp(200.0, 600.0, EARLY, at(19, 48))
    out.append(LabelledScenario(
        svc("frontend", "shop", tier=1, rps=rps,
            cpu_usage_cores=scaled(rps, 0.18 / 200), pool_used=scaled(rps, 2.0 / 200),
            error_ratio=0.001, latency_p50=0.035, latency_p95=0.10, noise=0.03),
        "none", "traffic_surge",
        "A x3 surge at 19:45 that it absorbs: CPU 18 -> 54 %, pool 20 -> 60 %, latency and errors "
        "flat.  A surge the service absorbs is 'none'."))

    # catalog: noisy but healthy, with short latency blips in the baseline and the window.
    blips: CurveLike = 0.16
    for t in (at(19, 5), at(19, 27), at(19, 55)):
        blips = pulse(blips, 0.4, t, t + 60)
    out.append(LabelledScenario(
        svc("catalog", "catalog", pg=PG_CATALOG, tier=2, rps=80.0, latency_p95=blips,
            error_ratio=0.003, cpu_usage_cores=0.4, noise=0.06),
        "none", None,
        "Noisy but healthy (6 % noise, errors noise ~18 %), with one-minute p95 blips to 0.4 s at "
        "19:05, 19:27 and 19:55 (under the 500 ms SLA); nothing moved."))

    # reports: the evening's slow daily drift.
    rps = ramp(50.0, 85.0, EXPORT_START_S, END)
    out.append(LabelledScenario(
        svc("reports", "platform", pg=PG_PLATFORM, tier=3, rps=rps, cpu_usage_cores=scaled(rps, 0.3 / 50),
            latency_p95=ramp(0.18, 0.2, EXPORT_START_S, END), noise=0.03),
        "none", None,
        "Daily drift: RPS climbs slowly 50 -> 85 over 80 minutes, CPU with it (30 -> 50 %), p95 "
        "0.18 -> 0.2 s; within normal."))

    # indexer: memory high but flat (a JVM-style heap sized to its limit); no slope, no OOM.
    out.append(LabelledScenario(
        svc("indexer", "catalog", pg=PG_CATALOG, tier=3, rps=30.0, memory_limit_bytes=2 * GiB,
            memory_working_set_bytes=0.84 * 2 * GiB, cpu_usage_cores=0.45, noise=0.03),
        "none", None,
        "A decoy for memory_pressure: working set a steady 84 % of its limit all afternoon "
        "(no slope, no OOM, no restarts), latency and errors flat."))

    # cms: a healthy rollout at 19:48 (generation bump), one slow minute, no errors.
    out.append(LabelledScenario(
        svc("cms", "platform", pg=PG_PLATFORM, tier=3, rps=35.0, deploys=(at(19, 48),),
            latency_p95=pulse(0.16, 0.3, at(19, 48), at(19, 49)), noise=0.04),
        "none", None,
        "A decoy for application_errors: a routine rollout at 19:48, p95 0.3 s for one minute, "
        "errors and everything else flat."))

    # search-api: had an incident in the baseline (19:05-19:15) that resolved; the window is
    # normal.  A robust baseline must not make the window look 'better' or 'worse'.
    out.append(LabelledScenario(
        svc("search-api", "catalog", pg=PG_CATALOG, tier=2, rps=65.0,
            latency_p95=pulse(0.17, 2.5, at(19, 5), at(19, 15)), latency_p50=pulse(0.05, 0.8, at(19, 5), at(19, 15)),
            error_ratio=pulse(0.002, 0.04, at(19, 5), at(19, 15)),
            db_latency_p95={"select": pulse(0.01, 0.9, at(19, 5), at(19, 15))},
            noise=0.04),
        "none", None,
        "Recovered: an incident inside the baseline (19:05-19:15: p95 2.5 s, 4 % errors, select "
        "p95 0.9 s) and a normal window.  Nothing is wrong now."))

    # ml-scorer: runs hot on purpose (75 % CPU, ~10 % of periods throttled) all afternoon;
    # latency flat.  A decoy for cpu_saturation.  No DB.
    out.append(LabelledScenario(
        svc("ml-scorer", "catalog", tier=2, rps=40.0, families=NO_DB, database=None,
            cpu_usage_cores=0.75, cpu_throttle_ratio=0.1, latency_p50=0.09, latency_p95=0.3, noise=0.03),
        "none", None,
        "Hot but healthy: CPU a steady 75 % of its limit with ~10 % of CFS periods throttled, in "
        "the baseline as in the window; p95 flat at 0.3 s.  A decoy for cpu_saturation."))
    return out


# --------------------------------------------------------------------------------------
# unknown (deciding signals absent)
# --------------------------------------------------------------------------------------

def _unknown() -> list[LabelledScenario]:
    out = []
    out.append(LabelledScenario(
        svc("legacy-web", "billing", pg=PG_LEGACY, tier=2, rps=35.0, database=None,
            families=frozenset({"http", "inflight", "ksm"}),
            latency_p50=ramp(0.06, 0.7, EARLY, at(19, 48)), latency_p95=ramp(0.2, 2.2, EARLY, at(19, 48)),
            error_ratio=ramp(0.002, 0.008, EARLY, at(19, 48)), noise=0.03),
        "unknown", None,
        "Latency x11 from 19:45 (p95 2.2 s) but only HTTP, in-flight and kube-state-metrics "
        "exist: no CPU, memory, DB, pool or dependency metrics at all.  'unknown', naming them.",
        missing=("cpu_usage_ratio", "memory_usage_ratio", "db_latency_p95", "dependency_latency_p95")))

    # basket: seed 000's pool story with the pool metrics absent.  Queries fast, CPU fine, no
    # dependency, server connections far from max: what is slow is between the handler and
    # the DB, and the deciding signal (the pool) is missing.
    out.append(LabelledScenario(
        svc("basket", "shop", tier=2, rps=ramp(70.0, 150.0, EARLY, at(19, 48)),
            families=APP - {"pool"}, pool_used=ramp(4.0, 15.0, EARLY, at(19, 48)),
            latency_p50=ramp(0.05, 1.2, W0, at(19, 49)), latency_p95=ramp(0.18, 2.8, W0, at(19, 49)),
            error_ratio=ramp(0.002, 0.01, W0, at(19, 49)), cpu_usage_cores=ramp(0.25, 0.45, EARLY, at(19, 48)),
            noise=0.03),
        "unknown", "traffic_surge",
        "Pool exhaustion with the pool metrics absent: traffic x2 at 19:45, p95 0.18 -> 2.8 s, "
        "queries 10 ms, CPU 45 %, no dependency.  The deciding signals (pool usage, pool wait) "
        "are missing, so 'unknown' naming them is honest; 'db_pool_exhaustion' inferred from "
        "'slow but queries fast, in-flight up' is also accepted.",
        acceptable=("db_pool_exhaustion",),
        missing=("db_pool_usage_ratio", "db_pool_wait_p95")))
    return out


# --------------------------------------------------------------------------------------
# The library
# --------------------------------------------------------------------------------------

def rca_library() -> list[LabelledScenario]:
    """Every labelled scenario, in one list: load them all into one Prometheus."""
    scenarios = (_cpu() + _memory() + _pool() + _db_latency() + _locks() + _churn() + _external()
                 + _app_errors() + _controls() + _unknown())
    names = [s.name for s in scenarios]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ValueError(f"duplicate scenario names: {sorted(dupes)}")
    for s in scenarios:
        for label in s.answers:
            if label not in CLASSES:
                raise ValueError(f"{s.name}: {label!r} is not a CONTRACT class")
        if s.trigger is not None and s.trigger not in TRIGGERS:
            raise ValueError(f"{s.name}: {s.trigger!r} is not a CONTRACT trigger")
        for m in s.missing:
            if m not in SIGNALS:
                raise ValueError(f"{s.name}: {m!r} is not a CONTRACT signal")
    return scenarios


def by_name(scenarios: Sequence[LabelledScenario] | None = None) -> dict[str, LabelledScenario]:
    return {s.name: s for s in (scenarios if scenarios is not None else rca_library())}


def labels(scenarios: Sequence[LabelledScenario] | None = None) -> dict[str, str]:
    """service -> class, the shape of a recording's labels.json."""
    return {s.name: s.bottleneck for s in (scenarios if scenarios is not None else rca_library())}


def _has_database(spec: ServiceSpec) -> bool:
    return bool({"db", "pool", "postgres"} & set(spec.families)) and spec.database is not None


def rca_config(scenarios: Sequence[LabelledScenario]) -> str:
    """triage.yaml text: every service with namespace, database, tier, depends_on."""
    services: dict[str, dict] = {}
    for s in scenarios:
        spec = s.spec
        entry: dict = {"namespace": spec.namespace}
        if _has_database(spec):
            entry["database"] = spec.db_name
        entry["tier"] = spec.tier
        if spec.depends_on:
            entry["depends_on"] = list(spec.depends_on)
        services[spec.name] = entry
    return yaml.safe_dump({"services": services}, sort_keys=False)


def rca_openmetrics(scenarios: Sequence[LabelledScenario], step_s: float = EXPORT_STEP_S) -> str:
    """The library as OpenMetrics text for promtool (18:41..20:01 at ``step_s``)."""
    ds = generate([s.spec for s in scenarios], EXPORT_START_S, EXPORT_END_S, step_s)
    return ds.openmetrics()


def dataset_stats(scenarios: Sequence[LabelledScenario], step_s: float = EXPORT_STEP_S) -> dict:
    ds = generate([s.spec for s in scenarios], EXPORT_START_S, EXPORT_END_S, step_s)
    return {"services": len(scenarios), "pods": sum(s.spec.pods for s in scenarios),
            "series": ds.series_count, "samples": ds.sample_count}


@dataclass
class LibraryServer:
    url: str
    config: Path
    backend: object
    scenarios: list
    seconds_generate: float
    seconds_load: float
    megabytes: float


@contextlib.contextmanager
def serve_library(workdir: Path, scenarios: Sequence[LabelledScenario] | None = None
                  ) -> Iterator[LibraryServer]:
    """Generate the library, backfill it into a real Prometheus, write the config next to it."""
    from testing.backends import prometheus_from_openmetrics

    scenarios = list(scenarios if scenarios is not None else rca_library())
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "triage.yaml"
    config.write_text(rca_config(scenarios), encoding="utf-8")
    t0 = time.perf_counter()
    text = rca_openmetrics(scenarios)
    t1 = time.perf_counter()
    size = len(text) / 1e6
    with prometheus_from_openmetrics(text, workdir) as backend:
        t2 = time.perf_counter()
        del text
        yield LibraryServer(backend.url, config, backend, scenarios, t1 - t0, t2 - t1, size)


def with_families(s: LabelledScenario, families: frozenset) -> LabelledScenario:
    """The same scenario with other families (for ad-hoc partial-signal experiments)."""
    return replace(s, spec=replace(s.spec, families=families))


__all__ = [
    "AT", "CHAIN", "CLASSES", "INCIDENT_CLASSES", "SIGNALS", "TRIGGERS", "WINDOW", "LabelledScenario",
    "LibraryServer", "by_name", "dataset_stats", "labels", "rca_config", "rca_library", "rca_openmetrics",
    "serve_library", "with_families",
]
