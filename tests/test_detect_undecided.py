"""A pass whose deciding query failed is never "ok" (issue 17): `detect` exits 3 naming the
signal and its query, at one service and over the fleet, against a real Prometheus whose
latency query fails behind a fault proxy."""

from __future__ import annotations

import json

import pytest

from testing.cli import run_cli
from testing.servers.fault_proxy import FaultProxy, Reply

AT = "2026-11-10T20:01:00Z"
LATENCY = "http_request_duration_seconds_bucket"


@pytest.fixture
def failing_latency(prometheus_server):
    def fault(r):
        if LATENCY in r.query and "histogram_quantile(0.95" in r.query:
            return Reply(500, {"status": "error", "errorType": "timeout", "error": "query timed out"})
        return None

    with FaultProxy(prometheus_server.url, fault) as proxy:
        yield proxy


@pytest.mark.parametrize("target", [["--all-services"], ["--service", "checkout", "--namespace", "shop"]])
def test_detect_whose_latency_query_failed_exits_3_naming_it(failing_latency, tmp_path, target):
    config = tmp_path / "triage.yaml"
    config.write_text(f"prometheus:\n  url: {failing_latency.url}\n  timeout: 5s\n")
    result = run_cli(["detect", *target, "--at", AT, "-o", "json", "--config", str(config)], cwd=tmp_path)
    assert result.code == 3, (result.code, result.stdout[:500], result.stderr)
    assert "latency_p95 query failed" in result.stderr and LATENCY in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2, result.stderr


def test_detect_with_every_query_answered_still_decides(prometheus_server, tmp_path):
    config = tmp_path / "triage.yaml"
    config.write_text(f"prometheus:\n  url: {prometheus_server.url}\n")
    result = run_cli(["detect", "--all-services", "--at", AT, "-o", "json", "--config", str(config)], cwd=tmp_path)
    assert result.code in (1, 2), result.stderr
    assert {s["status"] for s in json.loads(result.stdout)["services"]} - {"ok", "warning", "critical"} == set()
