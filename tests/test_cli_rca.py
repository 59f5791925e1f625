"""`triage rca` on the default fleet and one service per bottleneck class, in real backends."""

from __future__ import annotations

import json

import pytest
import yaml

from testing.cli import run_cli
from testing.scenarios.library import EXPECTED, bottleneck_fleet, default_fleet, triage_config
from triage.models import SIGNAL_NAMES

AT = "2026-11-10T20:01:00Z"
LABELLED = {name: exp["bottleneck"] for name, exp in EXPECTED.items() if "bottleneck" in exp}


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    path = tmp_path_factory.mktemp("rca") / "triage.yaml"
    cfg = triage_config(default_fleet() + bottleneck_fleet())
    cfg["services"]["checkout"]["invariants"] = [
        {"name": "no overselling", "query": 'min(db_connection_pool_size{service="$service"}) - 25', "min": 0}]
    path.write_text(yaml.safe_dump(cfg))
    return path


def rca(backend, config, *args):
    result = run_cli(["rca", "--prometheus-url", backend.url, "--config", str(config), "--at", AT, "-o", "json",
                      *args])
    return result, (json.loads(result.stdout) if result.stdout.strip() else None)


@pytest.mark.parametrize("service", sorted(LABELLED))
def test_each_class_is_classified_with_evidence(metrics_backend, config, service):
    result, payload = rca(metrics_backend, config, "--service", service)
    expected = LABELLED[service]
    assert payload is not None, result.stderr
    assert payload["schema"] == "triage.rca/v1"
    assert payload["bottleneck"] == expected, json.dumps(payload["candidates"], indent=1)[:3000]
    if expected == "none":
        assert result.code == 0 and payload["confidence"] >= 0.5
    elif expected == "unknown":
        assert result.code == 3 and payload["missing_signals"]
    else:
        assert result.code in (1, 2)
        assert payload["confidence"] >= 0.7
        top = payload["candidates"][0]
        assert top["bottleneck"] == expected
        assert any(ev["signal"] in SIGNAL_NAMES and isinstance(ev["window"], float) for ev in top["evidence"])
    if "trigger" in EXPECTED[service]:
        assert payload["trigger"] == EXPECTED[service]["trigger"]


def test_seed_000_story_in_words_and_capacity(prometheus_server, config):
    result = run_cli(["rca", "--prometheus-url", prometheus_server.url, "--config", str(config), "--at", AT,
                      "--service", "checkout"])
    assert result.code == 2
    text = result.stdout
    assert "checkout is waiting for DB connections" in text
    assert "while queries stay at 12 ms" in text
    assert "traffic ×2.5 (trigger)" in text
    assert "HPA on CPU will not react" in text
    assert "invariant no overselling: VIOLATED" in text


def test_invariant_violation_is_critical(prometheus_server, config):
    _, payload = rca(prometheus_server, config, "--service", "checkout")
    [inv] = payload["invariants"]
    assert inv["violated"] and inv["observed_min"] == -5.0
    assert payload["severity"] == "P0" and payload["status"] == "critical"


def test_capacity_command(prometheus_server, config):
    result = run_cli(["capacity", "--prometheus-url", prometheus_server.url, "--config", str(config), "--at", AT,
                      "--service", "checkout", "-o", "json"])
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schema"] == "triage.capacity/v1"
    assert data["pool_per_pod"] == 20
    assert data["db_connections_needed"] < 60  # queries alone would not exhaust 3 × 20 connections
    assert any("Little's law" in line for line in data["lines"])


def test_fleet_ranks_the_root_cause_first(metrics_backend, config):
    result, payload = rca(metrics_backend, config, "--all-services")
    assert payload["schema"] == "triage.fleet/v1", result.stderr
    order = [row["service"] for row in payload["ranking"]]
    assert order.index("bank-api") < order.index("payment")  # payment is a symptom of bank-api
    assert order.index("catalog") > order.index("checkout")
    assert payload["services"]["checkout"]["bottleneck"] == "db_pool_exhaustion"
    payment_row = next(r for r in payload["ranking"] if r["service"] == "payment")
    assert payment_row["symptom_of"] == ["bank-api"]


def test_rca_markdown_escapes_and_explains(prometheus_server, config):
    result = run_cli(["rca", "--prometheus-url", prometheus_server.url, "--config", str(config), "--at", AT,
                      "--service", "orders", "-o", "markdown"])
    assert result.code in (1, 2)
    assert result.stdout.startswith("# Root cause: orders")
    assert "**cpu\\_saturation**" in result.stdout or "**cpu_saturation**" in result.stdout


def test_a_window_with_few_samples_still_decides(prometheus_server, config):
    _, payload = rca(prometheus_server, config, "--service", "checkout", "--window", "1m", "--baseline", "5m",
                     "--at", "2026-11-10T20:00:00Z")
    assert payload["bottleneck"] == "db_pool_exhaustion"


def test_a_service_with_no_data_is_exit_3(prometheus_server, config):
    result, payload = rca(prometheus_server, config, "--service", "ghost")
    assert result.code == 3 and payload is None
    assert "no data for service ghost" in result.stderr


def test_a_failing_signal_query_is_missing_not_fatal(prometheus_server, tmp_path):
    cfg = tmp_path / "triage.yaml"
    cfg.write_text("services:\n  orders:\n    namespace: shop\n    signals:\n"
                   "      cpu_usage_ratio: 'max(rate(does_not_exist_total{service=\"$service\"}[1m]))'\n")
    result, payload = rca(prometheus_server, cfg, "--service", "orders")
    assert "cpu_usage_ratio" in payload["missing_signals"]
    assert payload["missing_reasons"]["cpu_usage_ratio"].startswith("no data from 1 query (override)")
    # throttling still shows the CPU limit: the verdict accounts for what it could see
    assert payload["bottleneck"] == "cpu_saturation"
