"""The scenario generator and the real backends, checked against each other.

``default_fleet()`` is loaded into a real Prometheus (promtool backfill) and a real
VictoriaMetrics (``/api/v1/import/prometheus``) and queried with plain ``requests``:
the numbers the scenarios promise must be what PromQL computes from the raw
counters and buckets, and both databases must agree.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import shutil
from collections import defaultdict

import pytest
import requests

from testing.backends import (
    BackendError,
    alertmanager,
    always_firing_rules,
    post_alerts,
    prometheus_from_openmetrics,
    victoria_metrics_from_import,
)
from testing.scenarios import generator as gen
from testing.scenarios import library as lib

CHECKOUT_P95 = ('histogram_quantile(0.95, sum by (le) '
                '(rate(http_request_duration_seconds_bucket{service="checkout"}[1m])))')
RPS_BY_SERVICE = 'sum by (service) (rate(http_requests_total[1m]))'
POOL_RATIO = ('sum by (service) (db_connection_pool_used) '
              '/ sum by (service) (db_connection_pool_size)')


def _need(binary: str) -> None:
    if shutil.which(binary) is None:
        msg = f"{binary} is not installed (apt-get install prometheus victoria-metrics ...)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


def _query(url: str, promql: str, at: float) -> dict[tuple, float]:
    """Instant query with plain requests: {sorted label items: value}."""
    s = requests.Session()
    s.trust_env = False
    r = s.get(url + "/api/v1/query", params={"query": promql, "time": at}, timeout=30)
    r.raise_for_status()
    body = r.json()
    assert body["status"] == "success", body
    return {tuple(sorted(x["metric"].items())): float(x["value"][1]) for x in body["data"]["result"]}


def _by_service(result: dict[tuple, float]) -> dict[str, float]:
    return {dict(k)["service"]: v for k, v in result.items()}


def _scalar(result: dict[tuple, float]) -> float:
    assert len(result) == 1, result
    return next(iter(result.values()))


# ---------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------

def _shared(request, name: str):
    """The project's session-wide fixture of that name when its conftest has one, else None."""
    try:
        return request.getfixturevalue(name)
    except pytest.FixtureLookupError:
        return None


@pytest.fixture(scope="module")
def fleet_texts(request) -> tuple[str, str]:
    """(OpenMetrics, VictoriaMetrics import) of default_fleet() alone.

    Not the conftest dataset, which adds services with counter resets (OOM restarts) where
    Prometheus and VictoriaMetrics legitimately compute rate() differently."""
    return lib.export_dataset(lib.default_fleet())


# The servers are this module's own (not the conftest's session ones): these tests
# talk to them with bare requests and must not depend on how those are configured.
@pytest.fixture(scope="module")
def prometheus(fleet_texts, tmp_path_factory):
    _need("promtool")
    _need("prometheus")
    with prometheus_from_openmetrics(fleet_texts[0], tmp_path_factory.mktemp("prom")) as b:
        yield b


@pytest.fixture(scope="module")
def victoria(fleet_texts, tmp_path_factory):
    _need("victoria-metrics")
    with victoria_metrics_from_import(fleet_texts[1], tmp_path_factory.mktemp("vm")) as b:
        yield b


@pytest.fixture(params=["prometheus", "victoria"])
def backend(request):
    return request.getfixturevalue(request.param)


# ---------------------------------------------------------------------------------------
# the generator on its own
# ---------------------------------------------------------------------------------------

_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+) (\S+)$')
_PAIR = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def _parse(text: str) -> dict[tuple, list[tuple[float, float]]]:
    series: dict[tuple, list[tuple[float, float]]] = defaultdict(list)
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        assert m, line
        name, labels, value, ts = m.groups()
        key = (name, tuple(sorted(_PAIR.findall(labels))))
        series[key].append((float(ts), float(value)))
    return series


RESET_SPEC = dataclasses.replace(lib.catalog(), name="catalog-reset", database="catalog_reset",
                                 counter_resets=((lib.at(19, 50), 1),))
RESET_POD = RESET_SPEC.pod_names()[1]


@pytest.fixture(scope="module")
def small_text() -> str:
    """checkout, payment and a catalog whose pod 1 has a counter reset at 19:50; 19:30..20:01."""
    return gen.to_openmetrics([lib.checkout(), lib.payment(), RESET_SPEC],
                              lib.at(19, 30), lib.DATA_END_S)


def test_generation_is_deterministic():
    a = gen.to_openmetrics([lib.search()], lib.at(19, 40), lib.at(19, 50))
    b = gen.to_openmetrics([lib.search()], lib.at(19, 40), lib.at(19, 50))
    assert a == b
    assert len(a) > 10_000


def test_openmetrics_shape(small_text):
    assert small_text.endswith("\n# EOF\n")
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", small_text, re.M))
    assert types["http_requests"] == "counter"
    assert types["http_request_duration_seconds"] == "histogram"
    assert types["container_cpu_usage_seconds"] == "counter"
    assert types["pg_stat_activity_count"] == "gauge"
    assert not any(name.endswith("_total") or name.endswith("_bucket") for name in types)
    # every family's samples follow its TYPE line and stay together
    seen, current = [], None
    for line in small_text.splitlines():
        if line.startswith("# TYPE "):
            current = line.split()[2]
            assert current not in seen
            seen.append(current)
        elif line and not line.startswith("#"):
            name = line.split("{", 1)[0]
            base = re.sub(r"_(total|bucket|count|sum)$", "", name)
            assert current in (name, base), (current, name)


def test_counters_monotonic_histograms_consistent(small_text):
    series = _parse(small_text)
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", small_text, re.M))

    def cumulative(name: str) -> bool:
        if name in types:
            return False       # a gauge such as pg_stat_activity_count
        base = re.sub(r"_(total|bucket|count|sum)$", "", name)
        return types.get(base) in ("counter", "histogram")

    by_metric: dict[tuple, dict[str, list]] = defaultdict(dict)
    resets = 0
    for (name, labels), points in series.items():
        times = [t for t, _ in points]
        assert times == sorted(times) and len(set(times)) == len(times), name
        if cumulative(name):
            drops = [(t, a, b) for (t, b), (_, a) in zip(points[1:], points) if b < a]
            if dict(labels).get("pod") == RESET_POD:    # (a counter still at 0 cannot drop)
                assert [t for t, _, _ in drops] in ([], [lib.at(19, 50)]), (name, labels, drops)
                resets += len(drops)
            else:
                assert not drops, (name, labels, drops[:3])
        if cumulative(name) and name.endswith(("_bucket", "_count")):
            base = name.rsplit("_", 1)[0]
            rest = tuple(kv for kv in labels if kv[0] != "le")
            le = dict(labels).get("le", "count")
            by_metric[(base, rest)][le] = [v for _, v in points]
    assert resets > 50
    checked = 0
    for (base, _), cols in by_metric.items():
        les = sorted((k for k in cols if k != "count"), key=float)
        assert les[-1] == "+Inf" and len(les) == len(gen.DEFAULT_BUCKETS) + 1
        assert cols["+Inf"] == cols["count"]
        for lo, hi in zip(les, les[1:]):
            assert all(a <= b for a, b in zip(cols[lo], cols[hi])), (base, lo, hi)
        checked += 1
    assert checked > 50


def test_every_contract_family_is_generated(fleet_texts):
    contract = """http_requests_total http_request_duration_seconds_bucket http_requests_inprogress
    db_query_duration_seconds_bucket db_connection_pool_size db_connection_pool_used
    db_connection_pool_available db_connection_wait_duration_seconds_bucket
    process_cpu_seconds_total process_resident_memory_bytes
    http_client_request_duration_seconds_bucket container_cpu_usage_seconds_total
    container_spec_cpu_quota container_spec_cpu_period container_cpu_cfs_throttled_periods_total
    container_cpu_cfs_periods_total container_memory_working_set_bytes
    container_spec_memory_limit_bytes kube_pod_container_status_restarts_total
    kube_deployment_status_replicas_available kube_deployment_spec_replicas
    kube_deployment_metadata_generation kube_deployment_status_observed_generation
    kube_horizontalpodautoscaler_status_current_replicas
    kube_horizontalpodautoscaler_spec_max_replicas kube_horizontalpodautoscaler_spec_min_replicas
    pg_stat_activity_count pg_locks_count pg_settings_max_connections ALERTS""".split()
    om = fleet_texts[0]
    missing = [name for name in contract if f"\n{name}{{" not in om]
    assert missing == []
    ops = [op for op in ("select", "insert", "update", "delete", "connect")
           if f'service="checkout",operation="{op}"}} ' in om]
    assert len(ops) == 5, ops
    # the optional ones exist in the generator too
    extra = gen.generate([lib.checkout().with_families("pgbouncer"), lib.memory_pressure()],
                         lib.at(19, 50), lib.at(19, 55)).metric_names()
    assert {"pgbouncer_pools_client_waiting_connections",
            "pgbouncer_pools_client_active_connections",
            "pgbouncer_pools_server_active_connections",
            "kube_pod_container_status_last_terminated_reason"} <= extra


def test_vm_text_has_millisecond_timestamps(fleet_texts):
    def first_sample(text: str) -> str:
        for line in text[:100_000].splitlines():
            if not line.startswith("#"):
                return line
        raise AssertionError("no sample")
    om_first, vm_first = first_sample(fleet_texts[0]), first_sample(fleet_texts[1])
    assert om_first.rsplit(" ", 1)[1] == str(lib.DATA_START_S)
    assert vm_first.rsplit(" ", 1)[1] == str(lib.DATA_START_S * 1000)
    assert "# EOF" not in fleet_texts[1]


def test_cart_has_partial_signals(fleet_texts):
    om = fleet_texts[0]          # (label order is the generator's own: container first)

    def has(fragment: str) -> bool:   # keeps pytest from diffing a 200 MB string
        return fragment in om

    cadvisor = ["container_cpu_usage_seconds_total", "container_spec_cpu_quota",
                "container_spec_cpu_period", "container_cpu_cfs_throttled_periods_total",
                "container_cpu_cfs_periods_total", "container_memory_working_set_bytes",
                "container_spec_memory_limit_bytes"]
    assert all(has(f'\n{name}{{container="checkout",') for name in cadvisor)
    assert not any(has(f'\n{name}{{container="cart",') for name in cadvisor)
    assert not has('\ndb_connection_pool_used{instance="cart-')
    assert not has('\ndb_connection_wait_duration_seconds_count{instance="cart-')
    assert has('\ndb_connection_pool_used{instance="checkout-')
    assert has('\nhttp_requests_total{handler="/api/cart",instance="cart-')
    assert has('\nkube_pod_container_status_restarts_total{container="cart",')


# ---------------------------------------------------------------------------------------
# the generator through real Prometheus and VictoriaMetrics
# ---------------------------------------------------------------------------------------

@pytest.mark.backend
def test_checkout_traffic(backend):
    now = _by_service(_query(backend.url, RPS_BY_SERVICE, lib.WINDOW_END_S))
    before = _by_service(_query(backend.url, RPS_BY_SERVICE, lib.at(19, 30)))
    assert now["checkout"] == pytest.approx(325, rel=0.15)
    assert before["checkout"] == pytest.approx(130, rel=0.15)
    assert now["frontend"] == pytest.approx(600, rel=0.15)
    assert now["catalog"] == pytest.approx(80, rel=0.15)


@pytest.mark.backend
def test_checkout_latency(backend):
    for t in (lib.at(19, 52), lib.at(19, 56), lib.WINDOW_END_S):
        assert 3.5 <= _scalar(_query(backend.url, CHECKOUT_P95, t)) <= 4.0, t
    for t in (lib.at(18, 50), lib.at(19, 30), lib.at(19, 44)):
        assert _scalar(_query(backend.url, CHECKOUT_P95, t)) < 0.5, t


@pytest.mark.backend
def test_checkout_pool_exhausted_only_in_window(backend):
    for t in (lib.at(19, 48), lib.at(19, 55), lib.WINDOW_END_S):
        assert _by_service(_query(backend.url, POOL_RATIO, t))["checkout"] == 1.0, t
    assert _by_service(_query(backend.url, POOL_RATIO, lib.at(19, 30)))["checkout"] < 0.5
    per_pod = _query(backend.url, 'db_connection_pool_used{service="checkout"}', lib.WINDOW_END_S)
    assert sorted(per_pod.values()) == [20.0, 20.0, 20.0]
    wait = _scalar(_query(backend.url, 'histogram_quantile(0.95, sum by (le) (rate('
                          'db_connection_wait_duration_seconds_bucket{service="checkout"}[5m])))',
                          lib.WINDOW_END_S))
    assert 2.0 <= wait <= 3.0
    db = _scalar(_query(backend.url, 'histogram_quantile(0.95, sum by (le) (rate('
                        'db_query_duration_seconds_bucket{service="checkout",operation!="connect"}[5m])))',
                        lib.WINDOW_END_S))
    assert db < 0.02


@pytest.mark.backend
def test_fleet_signals_in_window(backend):
    t = lib.WINDOW_END_S
    p95 = _by_service(_query(backend.url, 'histogram_quantile(0.95, sum by (service, le) '
                                          '(rate(http_request_duration_seconds_bucket[5m])))', t))
    err = _by_service(_query(backend.url, 'sum by (service) (rate(http_requests_total{status=~"5.."}[5m]))'
                                          ' / sum by (service) (rate(http_requests_total[5m]))', t))
    assert p95["catalog"] < 0.2 and err["catalog"] < 0.005
    assert 0.5 < p95["search"] < 3 and 0.01 < err["search"] < 0.05
    assert p95["checkout"] > 3 and err["checkout"] > 0.05
    assert p95["cart"] > 3 and err["cart"] > 0.05
    assert p95["frontend"] < 0.2 and err["frontend"] < 0.005
    assert p95["payment"] == pytest.approx(3.2, rel=0.1)
    assert p95["bank-api"] == pytest.approx(2.8, rel=0.1)
    cpu = {dict(k)["container"]: v for k, v in _query(
        backend.url, 'max by (container) (rate(container_cpu_usage_seconds_total[5m])) / max by (container)'
                     ' (container_spec_cpu_quota / container_spec_cpu_period)', t).items()}
    assert cpu["checkout"] == pytest.approx(0.45, abs=0.05)
    assert cpu["frontend"] == pytest.approx(0.55, abs=0.05)
    assert cpu["catalog"] == pytest.approx(0.30, abs=0.05)
    assert cpu["payment"] < 0.1
    dep = _query(backend.url, 'histogram_quantile(0.95, sum by (server_address, le) (rate('
                              'http_client_request_duration_seconds_bucket{service="payment"}[5m])))', t)
    assert _scalar(dep) == pytest.approx(2.8, rel=0.1)
    dep_err = _scalar(_query(backend.url, 'sum(rate(http_client_request_duration_seconds_count'
                                          '{service="payment",http_response_status_code="504"}[5m]))'
                                          ' / sum(rate(http_client_request_duration_seconds_count'
                                          '{service="payment"}[5m]))', t))
    assert 0.05 < dep_err < 0.12
    conns = _scalar(_query(backend.url, 'sum by (server) (pg_stat_activity_count{datname="checkout"}) / on (server)'
                                        ' group_left max by (server) (pg_settings_max_connections)', t))
    assert 0.85 <= conns <= 1.0
    alerts = {dict(k)["alertname"]: dict(k)["severity"] for k in _query(
        backend.url, 'ALERTS{alertstate="firing",service="checkout"}', t)}
    assert alerts == {"HighLatencyP95": "critical", "DBConnectionsHigh": "warning"}
    assert _query(backend.url, 'ALERTS{service="checkout"}', lib.at(19, 47, 30)) == {}


@pytest.mark.backend
def test_cart_has_no_cadvisor_series(backend):
    assert _query(backend.url, 'container_cpu_usage_seconds_total{container="cart"}',
                  lib.WINDOW_END_S) == {}
    assert _query(backend.url, 'db_connection_pool_used{service="cart"}', lib.WINDOW_END_S) == {}
    assert _query(backend.url, 'container_cpu_usage_seconds_total{container="checkout"}',
                  lib.WINDOW_END_S) != {}


AGREE = [
    RPS_BY_SERVICE,
    'histogram_quantile(0.95, sum by (service, le) (rate(http_request_duration_seconds_bucket[5m])))',
    ('sum by (service) (rate(http_requests_total{status=~"5.."}[5m])) '
     '/ sum by (service) (rate(http_requests_total[5m]))'),
    POOL_RATIO,
    'max by (container) (rate(container_cpu_usage_seconds_total[5m]))',
    'histogram_quantile(0.95, sum by (service, operation, le) (rate(db_query_duration_seconds_bucket[5m])))',
    'sum by (datname) (pg_stat_activity_count)',
    'avg by (service) (http_requests_inprogress)',
]


@pytest.mark.backend
@pytest.mark.parametrize("at", [lib.at(19, 30), lib.at(19, 53), lib.WINDOW_END_S])
def test_prometheus_and_victoria_metrics_agree(prometheus, victoria, at):
    for q in AGREE:
        p = _query(prometheus.url, q, at)
        v = _query(victoria.url, q, at)
        assert p and set(p) == set(v), q
        for k in p:
            if math.isnan(p[k]):
                assert math.isnan(v[k]), (q, k)
            else:
                assert v[k] == pytest.approx(p[k], rel=0.03, abs=1e-6), (q, k)


# ---------------------------------------------------------------------------------------
# alerts
# ---------------------------------------------------------------------------------------

@pytest.mark.backend
def test_alertmanager_roundtrip(tmp_path):
    _need("prometheus-alertmanager")
    with alertmanager(tmp_path) as am:
        got = post_alerts(am.url, [{
            "labels": {"alertname": "HighLatencyP95", "service": "checkout", "severity": "critical"},
            "annotations": {"summary": "checkout p95 > 3s"}}])
        mine = [a for a in got if a["labels"].get("service") == "checkout"]
        assert len(mine) == 1
        assert mine[0]["status"]["state"] == "active"
        assert mine[0]["annotations"]["summary"] == "checkout p95 > 3s"
        pid = am.pid
    assert not am.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@pytest.mark.backend
def test_prometheus_rules_fire_and_resets_are_handled(small_text, tmp_path):
    _need("promtool")
    _need("prometheus")
    rules = tmp_path / "rules.yml"
    rules.write_text(always_firing_rules([
        {"alertname": "HighLatencyP95", "service": "checkout", "severity": "critical"}]))
    with prometheus_from_openmetrics(small_text, tmp_path, rules_file=rules) as prom:
        body = requests.get(prom.url + "/api/v1/alerts", timeout=10).json()
        firing = [a for a in body["data"]["alerts"] if a["state"] == "firing"]
        assert [(a["labels"]["alertname"], a["labels"]["service"], a["labels"]["severity"])
                for a in firing] == [("HighLatencyP95", "checkout", "critical")]
        # a counter reset on one pod does not dent the rate
        rate = _by_service(_query(prom.url, 'sum by (service) (rate(http_requests_total'
                                            '{service="catalog-reset"}[5m]))', lib.at(19, 52)))
        assert rate["catalog-reset"] == pytest.approx(80, rel=0.1)
        resets = _query(prom.url, 'sum(resets(http_requests_total{service="catalog-reset",'
                                  'status="200"}[10m]))', lib.at(19, 55))
        assert _scalar(resets) == 1


@pytest.mark.backend
def test_failed_start_reports_the_log(tmp_path):
    _need("promtool")
    with pytest.raises(BackendError, match="does not end with # EOF"):
        prometheus_from_openmetrics('a{x="1"} 1 1794333600\n', tmp_path)
