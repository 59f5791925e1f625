"""`triage queries check` on a new cluster: the families it found, the signals that will be
missing, and a `signals:` override that, pasted into triage.yaml, fills them."""

from __future__ import annotations

import json

import pytest
import yaml

from testing.cli import run_cli
from testing.scenarios.rca_library import AT
from tests.conftest import need


@pytest.fixture(scope="module")
def custom_server(tmp_path_factory):
    need("prometheus")
    need("promtool")
    from testing.scenarios.naming import NamedScenario, serve_naming
    from testing.scenarios.rca_library import by_name

    named = [NamedScenario(by_name()["auth"], "custom"), NamedScenario(by_name()["shipping"], "otel")]
    with serve_naming(tmp_path_factory.mktemp("custom"), named) as server:
        yield server


def _check(server, *extra: str) -> dict:
    result = run_cli(["queries", "check", "--prometheus-url", server.url, "--at", AT, "--service", "auth",
                      "--namespace", "platform", "-o", "json", *extra])
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def test_check_says_which_families_it_found(custom_server):
    data = _check(custom_server)
    fams = data["families"]
    assert fams["cadvisor"]["found"] and "cpu_usage_ratio" in fams["cadvisor"]["signals"]
    assert not fams["application"]["signals"] or "rps" not in fams["application"]["signals"]
    assert not fams["otel-http-server"]["found"]      # shipping's, not auth's: asked for auth only
    assert {"rps", "error_ratio", "latency_p95", "inflight"} <= set(data["missing_signals"])


def test_the_suggested_override_fills_the_missing_signals(custom_server, tmp_path):
    data = _check(custom_server)
    suggested = data["suggested_signals"]
    assert set(suggested) >= {"rps", "error_ratio", "latency_p95", "inflight"}
    assert "myshop_http_requests_total" in suggested["error_ratio"] and 'code=~"5.."' in suggested["error_ratio"]
    assert "myshop_http_request_latency_seconds_bucket" in suggested["latency_p95"]
    # pasted as it is printed
    config = yaml.safe_load(data["suggested_config"])
    config["services"] = {"auth": {"namespace": "platform"}}
    path = tmp_path / "triage.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    detect = run_cli(["detect", "--service", "auth", "--prometheus-url", custom_server.url, "--config", str(path),
                      "--at", AT, "-o", "json"])
    signals = json.loads(detect.stdout)["services"][0]["signals"]
    assert signals["error_ratio"]["status"] == "critical" and signals["error_ratio"]["window"] > 0.05
    assert signals["latency_p95"]["window"] is not None and signals["inflight"]["window"] is not None
    rca = run_cli(["rca", "--service", "auth", "--prometheus-url", custom_server.url, "--config", str(path),
                   "--at", AT, "-o", "json"])
    assert json.loads(rca.stdout)["bottleneck"] == "application_errors"


def test_the_table_prints_the_yaml_to_paste(custom_server):
    result = run_cli(["queries", "check", "--prometheus-url", custom_server.url, "--at", AT, "--service", "auth",
                      "--namespace", "platform"])
    assert result.code == 0, result.stderr
    text = result.stdout
    assert "families found: " in text and "cadvisor (" in text
    block = text[text.index("to fill the missing signals, in triage.yaml:"):].split("\n", 1)[1]
    pasted = yaml.safe_load(block)
    assert "myshop_http_requests_total" in pasted["signals"]["rps"]
    assert all(len(line) < 1000 for line in block.splitlines())


def test_a_cluster_with_every_family_suggests_nothing_for_them(custom_server):
    data = _check(custom_server)
    other = run_cli(["queries", "check", "--prometheus-url", custom_server.url, "--at", AT, "--service", "shipping",
                     "--namespace", "shop", "-o", "json"])
    shipping = json.loads(other.stdout)
    assert shipping["families"]["otel-http-server"]["found"]
    assert "rps" not in shipping["suggested_signals"] and "rps" not in shipping["missing_signals"]
    assert data["suggested_signals"] != shipping["suggested_signals"]
