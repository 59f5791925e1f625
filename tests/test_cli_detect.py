"""`triage detect` against real Prometheus and VictoriaMetrics holding the scenario library."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testing.cli import run_cli

AT = "2026-11-10T20:01:00Z"
AT_UNIX = "1794340860"

CONFIG = """\
services:
  checkout:
    namespace: shop
    database: checkout
    tier: 1
  catalog: {namespace: shop}
  search: {namespace: shop}
  cart: {namespace: shop, tier: 2}
  frontend: {namespace: shop}
  payment: {namespace: shop, depends_on: [bank-api]}
  bank-api:
    namespace: shop
    tier: 1
"""


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "triage.yaml"
    path.write_text(CONFIG)
    return path


def detect(backend, config: Path, *args: str):
    result = run_cli(["detect", "--prometheus-url", backend.url, "--config", str(config), "--at", AT,
                      "--output", "json", *args])
    payload = json.loads(result.stdout) if result.stdout.strip() else None
    return result, payload


def service(payload: dict, name: str) -> dict:
    return next(s for s in payload["services"] if s["service"] == name)


def test_healthy_service_is_ok(metrics_backend, config):
    result, payload = detect(metrics_backend, config, "--service", "catalog")
    assert result.code == 0, result.stderr
    svc = service(payload, "catalog")
    assert svc["status"] == "ok" and svc["severity"] is None
    sig = svc["signals"]
    assert 60 < sig["rps"]["window"] < 100
    assert sig["latency_p95"]["window"] < 0.5
    assert svc["missing_signals"] == []
    assert payload["schema"] == "triage.detect/v1"
    assert payload["window"] == {"start": "2026-11-10T19:46:00Z", "end": "2026-11-10T20:01:00Z"}


def test_warning_service(metrics_backend, config):
    result, payload = detect(metrics_backend, config, "--service", "search")
    assert result.code == 1, result.stderr
    svc = service(payload, "search")
    assert svc["status"] == "warning"
    assert svc["severity"] == "P3"  # tier 2 (default), warning
    assert svc["signals"]["latency_p95"]["status"] == "warning"
    assert 0.5 < svc["signals"]["latency_p95"]["window"] < 3.0
    assert svc["signals"]["latency_p95"]["baseline"] < 0.5


def test_critical_incident_with_alerts_and_severity_from_tier(metrics_backend, config):
    result, payload = detect(metrics_backend, config, "--service", "checkout")
    assert result.code == 2, result.stderr
    svc = service(payload, "checkout")
    assert svc["status"] == "critical"
    assert svc["severity"] == "P0"  # tier 1, critical
    sig = svc["signals"]
    assert sig["latency_p95"]["status"] == "critical" and sig["latency_p95"]["window"] > 3.0
    assert sig["error_ratio"]["status"] == "critical"
    assert sig["db_pool_usage_ratio"]["window"] > 0.95
    assert 2.0 < sig["rps"]["change"] < 3.0
    alerts = {a["alertname"]: a for a in svc["alerts"]}
    assert "HighLatencyP95" in alerts and alerts["HighLatencyP95"]["source"] == "ALERTS"
    assert alerts["HighLatencyP95"]["starts_at"].startswith("2026-11-10T19:5")
    assert "traffic ×2" in svc["affected"] and "failing" in svc["affected"]


def test_missing_signals_are_named(metrics_backend, config):
    result, payload = detect(metrics_backend, config, "--service", "cart")
    assert result.code == 2, result.stderr
    svc = service(payload, "cart")
    for name in ("memory_usage_ratio", "db_pool_usage_ratio"):
        assert name in svc["missing_signals"], svc["missing_signals"]
        assert svc["missing_reasons"][name].startswith("no data from")
    assert "latency_p95" not in svc["missing_signals"]
    # no cAdvisor: CPU falls back to the process metrics, and the report says which query won
    cpu = svc["signals"]["cpu_usage_ratio"]
    assert "process_cpu_seconds_total" in cpu["query"] and cpu["alternative"] == 3


def test_absorbed_surge_is_ok(metrics_backend, config):
    result, payload = detect(metrics_backend, config, "--service", "frontend")
    assert result.code == 0, result.stderr
    svc = service(payload, "frontend")
    assert svc["signals"]["rps"]["change"] > 2.5
    assert "traffic ×" in svc["affected"]


def test_at_in_both_formats_gives_the_same_answer(prometheus_server, config):
    a = run_cli(["detect", "--prometheus-url", prometheus_server.url, "--config", str(config),
                 "--service", "checkout", "--at", AT, "-o", "json"])
    b = run_cli(["detect", "--prometheus-url", prometheus_server.url, "--config", str(config),
                 "--service", "checkout", "--at", AT_UNIX, "-o", "json"])
    assert a.code == b.code == 2
    assert json.loads(a.stdout) == json.loads(b.stdout)


def test_table_and_markdown_say_the_same(prometheus_server, config):
    table = run_cli(["detect", "--prometheus-url", prometheus_server.url, "--config", str(config),
                     "--service", "checkout", "--at", AT])
    assert table.code == 2
    assert "checkout" in table.stdout and "CRITICAL" in table.stdout and "P0" in table.stdout
    assert "\x1b[" not in table.stdout  # not a terminal: no colour codes
    md = run_cli(["detect", "--prometheus-url", prometheus_server.url, "--config", str(config),
                  "--service", "checkout", "--at", AT, "-o", "markdown"])
    assert md.code == 2
    assert "## checkout (shop, tier 1): CRITICAL, P0" in md.stdout
    assert "| latency\\_p95 |" in md.stdout or "| latency_p95 |" in md.stdout


def test_unknown_service_has_no_data(prometheus_server, config):
    result, _ = detect(prometheus_server, config, "--service", "no-such-svc")
    assert result.code == 3
    assert "no data for service no-such-svc" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreachable_prometheus_is_one_line_and_exit_3(config):
    result = run_cli(["detect", "--prometheus-url", "http://127.0.0.1:9", "--config", str(config),
                      "--service", "checkout", "--at", AT])
    assert result.code == 3
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert "prometheus at http://127.0.0.1:9 is unreachable: connection refused" in line
    assert "Traceback" not in result.stderr


def test_malformed_override_names_service_and_signal(prometheus_server, tmp_path):
    path = tmp_path / "triage.yaml"
    path.write_text(CONFIG + "    signals:\n      latency_p95: 'histogram_quantile(0.95, sum(rate(x[1m]) by (le)'\n")
    result = run_cli(["detect", "--prometheus-url", prometheus_server.url, "--config", str(path),
                      "--service", "bank-api", "--at", AT])
    assert result.code == 3
    [line] = result.stderr.strip().splitlines()
    assert "latency_p95" in line and "'bank-api'" in line and f"{path}:15" in line


def test_a_service_name_that_would_break_promql_is_escaped(prometheus_server, config):
    result, _ = detect(prometheus_server, config, "--service", 'x"} or vector(1) or {a="')
    assert result.code == 3
    assert "no data for service" in result.stderr


def test_all_services_in_one_pass(metrics_backend, config):
    result, payload = detect(metrics_backend, config, "--all-services")
    assert result.code == 2, result.stderr
    by_name = {s["service"]: s for s in payload["services"]}
    assert {"checkout", "catalog", "search", "cart", "frontend", "payment", "bank-api"} <= set(by_name)
    assert by_name["checkout"]["status"] == "critical"
    assert by_name["catalog"]["status"] == "ok"
    assert by_name["search"]["status"] == "warning"
    assert payload["services"][0]["status"] == "critical"  # worst first
