"""OpenTelemetry and instrumentation-library metric names, read from the names alone.

Library scenarios exported under another instrumentation's HTTP names (testing/scenarios/
naming.py: OTel stable and pre-stable, Micrometer, starlette_exporter, Go promhttp,
express-prom-bundle), some named by `job` (`<service.namespace>/<service.name>` or a plain
job) instead of a `service` label, all in one real Prometheus: `detect` reads each service's
golden signals from its own family, and `rca` (per service and in one fleet pass) names the
class the library gives it.
"""

from __future__ import annotations

import json

import pytest

from testing.cli import run_cli
from testing.scenarios.rca_library import AT
from tests.conftest import need


@pytest.fixture(scope="module")
def naming_server(tmp_path_factory):
    need("prometheus")
    need("promtool")
    from testing.scenarios.naming import serve_naming

    with serve_naming(tmp_path_factory.mktemp("naming")) as server:
        yield server


def _families(detection: dict) -> dict[str, str]:
    """signal -> the catalog family of the alternative that answered it."""
    from triage.catalog import load_catalog

    catalog = load_catalog()
    return {name: catalog.spec(name).alternatives[s["alternative"] - 1].family
            for name, s in detection["signals"].items() if s.get("alternative")}


def test_detect_reads_each_instrumentation_without_a_config(naming_server):
    """No triage.yaml: the service is found by its name whether its series carry `service` or `job`."""
    wrong = []
    for named in naming_server.named:
        result = run_cli(["detect", "--service", named.name, "--prometheus-url", naming_server.url,
                          "--at", AT, "-o", "json"])
        assert result.stdout, result.stderr
        detection = json.loads(result.stdout)["services"][0]
        if detection["namespace"] != named.scenario.spec.namespace:
            wrong.append(f"{named.dialect} ({named.name}): namespace {detection['namespace']}")
        families = _families(detection)
        expected = {"rps": named.family, "error_ratio": named.family, "latency_p95": named.family}
        if named.dialect in ("go", "node"):   # same histogram name as the seed app's
            expected["latency_p95"] = "application"
        if named.dialect == "go":             # same counter name as the seed app's
            expected["rps"] = "application"
        got = {k: families.get(k) for k in expected}
        if got != expected:
            wrong.append(f"{named.dialect} ({named.name}): {got}, expected {expected}")
    assert not wrong, "\n".join(wrong)


def test_detect_judges_the_errors_read_from_other_names(naming_server):
    """The error ratio comes from the family's own status label (Go's `code`, OTel's
    `http_response_status_code`, starlette's `status_code`), not a 0 from a label that is not there."""
    by_name = {n.name: n for n in naming_server.named}
    for name in ("auth", "accounts", "notifications"):
        result = run_cli(["detect", "--service", name, "--prometheus-url", naming_server.url, "--at", AT, "-o", "json"])
        error = json.loads(result.stdout)["services"][0]["signals"]["error_ratio"]
        assert error["status"] == "critical" and error["window"] > 0.05, (by_name[name].dialect, error)


def test_rca_names_the_class_from_those_names(naming_server):
    wrong = []
    for named in naming_server.named:
        result = run_cli(["rca", "--service", named.name, "--prometheus-url", naming_server.url,
                          "--config", str(naming_server.config), "--at", AT, "-o", "json"])
        assert result.stdout, result.stderr
        got = json.loads(result.stdout)["bottleneck"]
        if not named.scenario.right(got):
            wrong.append(f"{named.dialect} ({named.name}): {got}, labelled {named.scenario.bottleneck}")
    assert not wrong, "\n".join(wrong)


def test_the_fleet_pass_groups_job_named_services(naming_server):
    """One fleet pass: the `job`-named series are grouped under their service like the others."""
    result = run_cli(["rca", "--all-services", "--prometheus-url", naming_server.url,
                      "--config", str(naming_server.config), "--at", AT, "-o", "json"])
    services = json.loads(result.stdout)["services"]
    wrong = [f"{n.dialect} ({n.name}): {services.get(n.name, {}).get('bottleneck')}"
             for n in naming_server.named if not n.scenario.right(services.get(n.name, {}).get("bottleneck"))]
    assert not wrong, "\n".join(wrong)


def test_the_otel_client_is_read_by_job_in_both_generations(naming_server):
    """The stable client named by `job`, and the pre-stable one in milliseconds with `net_peer_name`:
    the slow call is seen in seconds either way."""
    for name, metric in (("shipping", "http_client_request_duration_seconds_bucket"),
                         ("refunds", "http_client_duration_milliseconds_bucket")):
        result = run_cli(["rca", "--service", name, "--prometheus-url", naming_server.url,
                          "--config", str(naming_server.config), "--at", AT, "-o", "json"])
        dependency = json.loads(result.stdout)["signals"]["dependency_latency_p95"]
        assert metric in dependency["query"] and "job=~" in dependency["query"], dependency["query"]
        assert 0.5 < dependency["window"] < 30 and dependency["baseline"] < 0.5, (name, dependency)


def test_the_fleet_finds_otel_services_without_a_config(naming_server):
    """--all-services with no triage.yaml: a service with no `service` label is found through
    target_info's service_name (a plain scrape job is not taken for a service), in its namespace."""
    result = run_cli(["detect", "--all-services", "--prometheus-url", naming_server.url, "--at", AT, "-o", "json"])
    assert result.stdout, result.stderr
    found = {s["service"]: s["namespace"] for s in json.loads(result.stdout)["services"]}
    expected = {n.name: n.scenario.spec.namespace for n in naming_server.named if n.dialect != "starlette"}
    assert found == expected


def test_the_otel_client_is_read_through_target_info(naming_server):
    """An SDK scraped by a generic pod job: the client histogram carries only `job`/`instance`;
    the failing call (503 for a quarter of them, latency flat) is read through target_info's
    service_name, and the outbound p95 stays in seconds."""
    named = next(n for n in naming_server.named if n.dialect == "otel-target-info")
    result = run_cli(["rca", "--service", named.name, "--prometheus-url", naming_server.url,
                      "--config", str(naming_server.config), "--at", AT, "-o", "json"])
    signals = json.loads(result.stdout)["signals"]
    errors, latency = signals["dependency_error_ratio"], signals["dependency_latency_p95"]
    assert "target_info" in errors["query"] and "target_info" in latency["query"], (errors, latency)
    assert 0.1 < errors["window"] <= 0.3 and errors["baseline"] < 0.05, errors
    assert 0.05 < latency["window"] < 0.5, latency


# --------------------------------------------------------------------------------------
# target_info: the join leaves the numbers as they were, on both backends
# --------------------------------------------------------------------------------------

_SIGNALS = ("rps", "error_ratio", "latency_p95", "inflight")
_CLIENT = ("dependency_latency_p95", "dependency_error_ratio")


@pytest.fixture(scope="module", params=["prometheus", "victoria-metrics"])
def target_info_pair(request, tmp_path_factory):
    """One library service written twice, each in its own backend of the same kind: named by
    `job="<ns>/<name>"` (the job path), and by a generic scrape job with its name only in target_info."""
    backend = request.param
    need(backend)
    if backend == "prometheus":
        need("promtool")
    from testing.scenarios.naming import NamedScenario, naming_library, serve_naming

    scenario = next(n.scenario for n in naming_library() if n.dialect == "otel-target-info")
    base = tmp_path_factory.mktemp(f"target-info-{backend}")
    with serve_naming(base / "job", [NamedScenario(scenario, "otel")], backend) as by_job, \
            serve_naming(base / "target-info", [NamedScenario(scenario, "otel-target-info")], backend) as by_info:
        yield backend, scenario, by_job, by_info


def _detect(server, service: str) -> dict:
    result = run_cli(["detect", "--service", service, "--prometheus-url", server.url, "--at", AT, "-o", "json"])
    assert result.stdout, result.stderr
    return json.loads(result.stdout)["services"][0]


def test_target_info_join_keeps_the_numbers(target_info_pair):
    """rps and the error ratio (rates summed over pods), p95 (histogram_quantile over the joined
    buckets, `le` kept), in-flight and the client p95 read through target_info equal the job path's."""
    backend, scenario, by_job, by_info = target_info_pair
    want, got = _detect(by_job, scenario.name), _detect(by_info, scenario.name)
    assert got["namespace"] == want["namespace"] == scenario.spec.namespace
    fams = _families(got)
    assert {fams.get(s) for s in _SIGNALS} == {"otel-http-server-target-info"}, fams
    for signal in _SIGNALS:
        a, b = want["signals"].get(signal, {}), got["signals"].get(signal, {})
        assert a.get("window") is not None, (backend, signal, a)
        assert b.get("status") == a.get("status"), (backend, signal, a, b)
        for field in ("window", "baseline"):
            assert b.get(field) == pytest.approx(a.get(field), rel=1e-9), (backend, signal, field, a, b)
    assert "target_info" in got["signals"]["rps"]["query"] and "target_info" not in want["signals"]["rps"]["query"]
    want, got = _rca_signals(by_job, scenario.name), _rca_signals(by_info, scenario.name)
    for signal in _CLIENT:
        a, b = want.get(signal, {}), got.get(signal, {})
        assert a.get("window") is not None and "target_info" in b.get("query", ""), (backend, signal, a, b)
        for field in ("window", "baseline"):
            assert b.get(field) == pytest.approx(a.get(field), rel=1e-9), (backend, signal, field, a, b)


def _rca_signals(server, service: str) -> dict:
    result = run_cli(["rca", "--service", service, "--prometheus-url", server.url, "--config", str(server.config),
                      "--at", AT, "-o", "json"])
    assert result.stdout, result.stderr
    return json.loads(result.stdout)["signals"]


def test_target_info_services_in_the_fleet_pass(target_info_pair):
    """--all-services with no config: the service is discovered through target_info (its generic
    scrape job is not taken for a service) and rca names the class the library gives it."""
    backend, scenario, _, by_info = target_info_pair
    result = run_cli(["detect", "--all-services", "--prometheus-url", by_info.url, "--at", AT, "-o", "json"])
    found = {s["service"]: s["namespace"] for s in json.loads(result.stdout)["services"]}
    assert found == {scenario.name: scenario.spec.namespace}, (backend, found)
    result = run_cli(["rca", "--all-services", "--prometheus-url", by_info.url, "--config", str(by_info.config),
                      "--at", AT, "-o", "json"])
    services = json.loads(result.stdout)["services"]
    assert scenario.right(services.get(scenario.name, {}).get("bottleneck")), (backend, services)


def test_queries_check_reports_the_target_info_families(naming_server):
    named = next(n for n in naming_server.named if n.dialect == "otel-target-info")
    result = run_cli(["queries", "check", "--service", named.name, "--prometheus-url", naming_server.url,
                      "--at", AT, "-o", "json"])
    families = json.loads(result.stdout)["families"]
    assert set(families["otel-http-server-target-info"]["signals"]) == {"rps", "error_ratio", "latency_p95", "inflight"}
    assert "dependency_error_ratio" in families["otel-http-client-target-info"]["signals"]


def test_recording_rules_hold_the_target_info_services(naming_server, tmp_path):
    """`triage rules` joins the target_info alternative after the others: promtool accepts the file,
    and each record answers for the target_info-named service what detect reads from the raw series."""
    import subprocess

    import requests
    import yaml

    from testing.scenarios.rca_library.labelled import WINDOW_END_S

    named = next(n for n in naming_server.named if n.dialect == "otel-target-info")
    rules = tmp_path / "rules.yaml"
    assert run_cli(["rules", "--out", str(rules), "--rate", "1m"]).code == 0
    check = subprocess.run(["promtool", "check", "rules", str(rules)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    exprs = {r["record"]: r["expr"] for g in yaml.safe_load(rules.read_text())["groups"] for r in g["rules"]}
    for signal in ("rps", "error_ratio", "latency_p95", "dependency_error_ratio"):
        answer = requests.get(f"{naming_server.url}/api/v1/query", timeout=30,
                              params={"query": exprs[f"service:triage_{signal}:1m"], "time": WINDOW_END_S}).json()
        assert answer["status"] == "success", answer
        got = {s["metric"].get("service"): float(s["value"][1]) for s in answer["data"]["result"]}
        assert got.get(named.name, 0) > 0 and "batch-a" not in got, (signal, got)
