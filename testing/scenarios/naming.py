"""Naming variants: scenarios of the labelled library exported under other instrumentations' names.

The same services, curves and faults as :mod:`testing.scenarios.rca_library`, but the HTTP
server (and client) families are written the way another instrumentation would have written
them, so a test can show that `triage detect`/`rca` read each of them from the names alone:

=====================  ====================================================================
dialect                what the service exports (and how it is named)
=====================  ====================================================================
``otel``               OpenTelemetry semantic conventions, stable: ``http_server_request_
                       duration_seconds{http_request_method, http_response_status_code,
                       http_route}``, ``http_server_active_requests``, ``http_client_request_
                       duration_seconds{server_address, server_port, http_response_status_
                       code}``; named by ``job="<service.namespace>/<service.name>"`` as the
                       OTel Prometheus exporter writes it (no ``service`` label), with
                       ``target_info{service_name, service_namespace}``
``otel-target-info``   the stable conventions scraped straight from an SDK's Prometheus exporter
                       (or a collector's without ``resource_to_telemetry_conversion``): the series
                       carry only the scrape's generic ``job="kubernetes-pods"`` and ``instance``;
                       the service is named in ``target_info{service_name, service_namespace}``
                       alone, joined on ``job``/``instance``; beside it a collector scraped by the
                       same job without honor_labels (two services' target_info on one instance)
``otel-old-ms``        pre-stable conventions: ``http_server_duration_milliseconds{http_method,
                       http_status_code}``, ``http_client_duration_milliseconds{net_peer_name,
                       net_peer_port, http_status_code}``, buckets in ms; named by ``job``
``otel-old-s``         pre-stable names with the ``_seconds`` unit, scraped with a ``service``
                       label (a ServiceMonitor in front of the collector)
``micrometer``         Spring Boot / Micrometer: ``http_server_requests_seconds{method, status,
                       uri, outcome, exception}`` (percentiles-histogram on),
                       ``http_server_requests_active_seconds_active_count``
``starlette``          starlette_exporter: ``starlette_requests_total``, ``starlette_request_
                       duration_seconds{method, path, status_code, app_name}``,
                       ``starlette_requests_in_progress``; named by a plain ``job``
``go``                 Go promhttp: ``http_requests_total{code, method}``,
                       ``http_request_duration_seconds{code, method}`` (status is ``code``)
``node``               express-prom-bundle (prom-client): only ``http_request_duration_seconds
                       {status_code, method, path}``, no request counter
``custom``             a service's own names (``myshop_http_requests_total{code}``, ``myshop_http_
                       request_latency_seconds``), which only a ``signals:`` override reads
                       (not in :func:`naming_library`: `queries check` suggests that override)
=====================  ====================================================================

Every other family (cAdvisor, kube-state-metrics, the database, process metrics) is written as
the library writes it, so the class still has its evidence and only the HTTP names change.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from testing.scenarios.generator.dataset import (
    Dataset,
    _Family,
    _fmt_float,
    _labels,
    _Series,
    timeline,
)
from testing.scenarios.generator.emit import ServiceGen
from testing.scenarios.generator.spec import Dependency
from testing.scenarios.generator.vocabulary import DEFAULT_BUCKETS
from testing.scenarios.rca_library import EXPORT_END_S, EXPORT_START_S, EXPORT_STEP_S, LabelledScenario, rca_config
from testing.scenarios.rca_library import by_name as library_by_name

DIALECTS = ("otel", "otel-target-info", "otel-old-ms", "otel-old-s", "micrometer", "starlette", "go", "node", "custom")

#: dialect -> the families of the catalog (`family:` in queries/*.yaml) that must read it.
FAMILY_OF = {
    "otel": "otel-http-server", "otel-target-info": "otel-http-server-target-info", "otel-old-ms": "otel-http-server-old", "otel-old-s": "otel-http-server-old",
    "micrometer": "micrometer", "starlette": "starlette-exporter", "go": "go-promhttp",
    "node": "express-prom-bundle", "custom": "override",
}


@dataclass(frozen=True)
class _Names:
    """How one dialect writes the HTTP families."""

    histogram: str                        # server request duration family
    method: str
    status: str | None                    # status label on the histogram (None: not on it)
    route: str
    counter: str | None = None            # a separate request counter family (sample name + _total)
    counter_status: str = "status"
    active: str | None = None             # in-flight gauge
    millis: bool = False
    by_job: str | None = None             # "namespaced" (job = ns/name), "plain" (job = name),
                                          # "generic" (job = the scrape job, GENERIC_JOB), None (service label)
    client: str | None = None             # client histogram family
    client_peer: str = "server_address"
    client_status: str = "http_response_status_code"
    extra: tuple[tuple[str, str], ...] = ()


#: the scrape job of a generic pod-scraping config: names no service
GENERIC_JOB = "kubernetes-pods"

NAMES = {
    "otel": _Names("http_server_request_duration_seconds", "http_request_method", "http_response_status_code",
                   "http_route", active="http_server_active_requests", by_job="namespaced",
                   client="http_client_request_duration_seconds", extra=(("url_scheme", "http"),)),
    "otel-target-info": _Names("http_server_request_duration_seconds", "http_request_method",
                               "http_response_status_code", "http_route", active="http_server_active_requests",
                               by_job="generic", client="http_client_request_duration_seconds",
                               extra=(("url_scheme", "http"),)),
    "otel-old-ms": _Names("http_server_duration_milliseconds", "http_method", "http_status_code", "http_route",
                          active="http_server_active_requests", millis=True, by_job="namespaced",
                          client="http_client_duration_milliseconds", client_peer="net_peer_name",
                          client_status="http_status_code", extra=(("http_scheme", "http"),)),
    "otel-old-s": _Names("http_server_duration_seconds", "http_method", "http_status_code", "http_route",
                         active="http_server_active_requests", extra=(("http_scheme", "http"),)),
    "micrometer": _Names("http_server_requests_seconds", "method", "status", "uri",
                         active="http_server_requests_active_seconds_active_count"),
    "starlette": _Names("starlette_request_duration_seconds", "method", "status_code", "path",
                        counter="starlette_requests", counter_status="status_code",
                        active="starlette_requests_in_progress", by_job="plain",
                        extra=(("app_name", "starlette"),)),
    "go": _Names("http_request_duration_seconds", "method", None, "handler", counter="http_requests",
                 counter_status="code"),
    "node": _Names("http_request_duration_seconds", "method", "status_code", "path"),
    # names no catalog family knows: `queries check` has to suggest the override
    "custom": _Names("myshop_http_request_latency_seconds", "method", None, "route", counter="myshop_http_requests",
                     counter_status="code", active="myshop_inflight_requests"),
}

_HELP = {
    "histogram": ("histogram", "Duration of HTTP server requests."),
    "counter": ("counter", "Total requests."),
    "gauge": ("gauge", "Requests in flight."),
    "info": ("gauge", "Target metadata"),
}


def _family(ds: Dataset, name: str, kind: str) -> None:
    if name not in ds.families:
        typ, hlp = _HELP[kind]
        ds.families[name] = _Family(name, typ, hlp)


class NamedGen(ServiceGen):
    """A library service whose HTTP families are written in another instrumentation's names."""

    names: _Names = NAMES["otel"]

    def http_labels(self, i: int) -> list[tuple[str, str]]:
        sp, how = self.spec, self.names.by_job
        if how is None:
            return self.app_labels(i)
        job = {"namespaced": f"{sp.namespace}/{sp.name}", "generic": GENERIC_JOB}.get(how, sp.name)
        return [("instance", f"{self.pods[i]}:8000"), ("job", job), ("namespace", sp.namespace),
                ("pod", self.pods[i])]

    def _histogram(self, family: str, i: int, labels: list[tuple[str, str]], counts: Sequence[int],
                   cdfs: Sequence[Sequence[float]], means: Sequence[float]) -> None:
        _family(self.ds, family, "histogram")
        self.histogram(family, i, labels, counts, cdfs, means)
        if self.names.millis:
            _to_millis(self.ds.families[family].groups[-1], f"{family}_sum")

    def emit_http(self) -> None:
        sp, nm = self.spec, self.names
        cdfs = self.cdf_rows(self.lat50, self.lat95)
        statuses = ["200", *sp.error_statuses]
        for i in range(sp.pods):
            base = self.http_labels(i)
            for h, (handler, method, _) in enumerate(self.handlers):
                common = [*base, (nm.method, method), (nm.route, handler), *nm.extra]
                if nm.counter is not None:
                    _family(self.ds, nm.counter, "counter")
                    for s in statuses:
                        self.add(nm.counter, f"{nm.counter}_total", [*common, (nm.counter_status, s)],
                                 self.counter(i, self.req_hs[i][h][s], integer=True))
                if nm.status is None:
                    self._histogram(nm.histogram, i, common, self.req_h[i][h], cdfs, self.lat_mean)
                    continue
                for s in statuses:
                    labels = [*common, (nm.status, s)]
                    if nm.status == "status":      # Micrometer's outcome and exception tags
                        labels += [("exception", "none"), ("outcome", "SERVER_ERROR" if s[0] == "5" else "SUCCESS")]
                    self._histogram(nm.histogram, i, labels, self.req_hs[i][h][s], cdfs, self.lat_mean)
        if nm.histogram.startswith("http_server_") and nm.by_job is not None:   # an OTel SDK's resource
            self._target_info()

    def _target_info(self) -> None:
        sp = self.spec
        _family(self.ds, "target_info", "info")
        for i in range(sp.pods):
            labels = [*self.http_labels(i), ("service_name", sp.name), ("service_namespace", sp.namespace),
                      ("telemetry_sdk_language", "python")]
            self.add("target_info", "target_info", labels, ["1" if p else None for p in self.present[i]])
        if self.names.by_job == "generic":
            self._collector_target()

    def _collector_target(self) -> None:
        """A collector scraped by the same generic job without honor_labels: one job and instance
        carrying two services' target_info and requests, which no join can tell apart (no service
        may be named from it, and it must not break the others' queries)."""
        sp, nm = self.spec, self.names
        at = [("instance", "otel-collector:8889"), ("job", GENERIC_JOB), ("namespace", sp.namespace),
              ("pod", "otel-collector-0")]
        for other in ("batch-a", "batch-b"):
            self.add("target_info", "target_info", [*at, ("service_name", other), ("service_namespace", sp.namespace)],
                     ["1" if p else None for p in self.present[0]])
        handler, method, _ = self.handlers[0]
        labels = [*at, (nm.method, method), (nm.route, handler), *nm.extra, (nm.status or "code", "200")]
        self._histogram(nm.histogram, 0, labels, self.req_hs[0][0]["200"], self.cdf_rows(self.lat50, self.lat95),
                        self.lat_mean)

    def emit_inflight(self) -> None:
        sp, nm = self.spec, self.names
        if nm.active is None:
            return
        _family(self.ds, nm.active, "gauge")
        over = self.sample(sp.inflight, "inflight") if sp.inflight is not None else None
        for i in range(sp.pods):
            vals: list = []
            for k in range(self.n):
                if not self.present[i][k]:
                    vals.append(None)
                elif over is not None:
                    vals.append(str(int(round(over[k] * self.podf[i]))))
                else:
                    vals.append(str(int(round(self.req[i][k] / self.step * self.lat_mean[k]))))
            self.add(nm.active, nm.active, [*self.http_labels(i), *nm.extra], vals)

    def emit_client(self) -> None:
        if self.names.client is not None:
            _family(self.ds, self.names.client, "histogram")
        super().emit_client()

    def client_histogram(self, i: int, d: Dependency, status: str, counts: list[int],
                         cdfs: Sequence[Sequence[float]], means: Sequence[float]) -> None:
        nm = self.names
        if nm.client is None:
            return super().client_histogram(i, d, status, counts, cdfs, means)
        port = "server_port" if nm.client_peer == "server_address" else "net_peer_port"
        labels = [*self.http_labels(i), (nm.client_status, status), (nm.client_peer, d.server_address), (port, "443")]
        self._histogram(nm.client, i, labels, counts, cdfs, means)
        return None


def _to_millis(group: list[_Series], sum_name: str) -> None:
    """One histogram's buckets and sum in milliseconds (what a `ms` instrument exposes)."""
    les = {f'le="{b!r}"': f'le="{_fmt_float(b * 1000)}"' for b in map(float, DEFAULT_BUCKETS)}
    for s in group:
        if s.name.endswith("_bucket"):
            for old, new in les.items():
                if old in s.labels:
                    s.labels = s.labels.replace(old, new)
                    break
        elif s.name == sum_name:
            s.values = [None if v is None else _fmt_float(float(v) * 1000) for v in s.values]


# --------------------------------------------------------------------------------------
# The variants
# --------------------------------------------------------------------------------------

#: dialect -> the library scenario it is written for (one service each, all in one dataset).
ASSIGNED = {
    "otel": "shipping",            # external dependency: the client metrics by job
    "otel-target-info": "fraud-check",  # external dependency: server and client named by target_info only
    "otel-old-ms": "refunds",      # external dependency: the pre-stable client in ms
    "otel-old-s": "notifications",  # application errors
    "micrometer": "orders",        # CPU saturation (latency from the Micrometer histogram)
    "starlette": "auth",           # application errors
    "go": "accounts",              # application errors, status in `code`
    "node": "render",              # CPU saturation, no request counter
}


@dataclass(frozen=True)
class NamedScenario:
    scenario: LabelledScenario
    dialect: str

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def family(self) -> str:
        return FAMILY_OF[self.dialect]


def naming_library() -> list[NamedScenario]:
    library = library_by_name()
    return [NamedScenario(library[name], dialect) for dialect, name in ASSIGNED.items()]


def generate_named(named: Sequence[NamedScenario], start: float = EXPORT_START_S, end: float = EXPORT_END_S,
                   step: float = EXPORT_STEP_S) -> Dataset:
    """The dataset of every variant (the database families as the library writes them)."""
    ds = Dataset(timeline(start, end, step))
    servers: dict[str, int] = {}
    for item in named:
        spec = item.scenario.spec
        gen = type(f"Gen_{item.dialect}", (NamedGen,), {"names": NAMES[item.dialect]})(spec, ds, step)
        gen.run()
        if "postgres" in spec.families:
            servers.setdefault(spec.server, spec.pg_max_connections)
    for server, maxc in servers.items():
        host = server.split(":")[0]
        labels = _labels([("instance", f"{host}-exporter:9187"), ("job", "postgres-exporter"), ("server", server)])
        ds.add("pg_settings_max_connections",
               [_Series("pg_settings_max_connections", labels, [str(maxc)] * len(ds.timestamps))])
    return ds


@dataclass
class NamingServer:
    url: str
    config: Path
    named: list[NamedScenario]
    seconds_load: float


@contextlib.contextmanager
def serve_naming(workdir: Path, named: Sequence[NamedScenario] | None = None,
                 backend: str = "prometheus") -> Iterator[NamingServer]:
    """Generate the variants, load them into a real Prometheus (backfilled) or VictoriaMetrics
    (imported), write the config next to it."""
    from testing.backends import prometheus_from_openmetrics, victoria_metrics_from_import

    named = list(named if named is not None else naming_library())
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "triage.yaml"
    config.write_text(rca_config([n.scenario for n in named]), encoding="utf-8")
    ds = generate_named(named)
    t0 = time.perf_counter()
    if backend == "prometheus":
        served = prometheus_from_openmetrics(ds.openmetrics(), workdir)
    elif backend == "victoria-metrics":
        served = victoria_metrics_from_import(ds.prometheus_text(millis=True), workdir)
    else:
        raise ValueError(f"unknown backend {backend!r} (prometheus, victoria-metrics)")
    with served as running:
        yield NamingServer(running.url, config, named, time.perf_counter() - t0)
