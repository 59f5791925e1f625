from __future__ import annotations

import json

from testing.cli import run_cli

AT = "2026-11-10T20:01:00Z"


def test_queries_list_shows_every_signal_with_its_source():
    result = run_cli(["queries", "list", "-o", "json"])
    assert result.code == 0
    data = json.loads(result.stdout)
    names = [s["signal"] for s in data["signals"]]
    from triage.models import SIGNAL_NAMES

    assert names[:3] == ["rps", "error_ratio", "latency_p95"] and names[:22] == list(SIGNAL_NAMES)
    p95 = next(s for s in data["signals"] if s["signal"] == "latency_p95")
    assert (p95["warning"], p95["critical"]) == (0.5, 3.0) and "seed 001" in p95["source"]
    table = run_cli(["queries", "list"])
    assert table.code == 0 and "db_pool_usage_ratio" in table.stdout


def test_queries_check_shows_which_alternatives_have_data(metrics_backend):
    result = run_cli(["queries", "check", "--prometheus-url", metrics_backend.url, "--at", AT, "-o", "json"])
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert "latency_p95" in data["signals_with_data"]
    assert "db_connections_ratio" in data["signals_with_data"]
    by_alt = {(a["signal"], a["alternative"]): a for a in data["alternatives"]}
    cpu_cadvisor = by_alt[("cpu_usage_ratio", 0)]
    assert cpu_cadvisor["status"] == "data" and "checkout" in cpu_cadvisor["services"]
    assert "cart" not in cpu_cadvisor["services"]  # cart has no cAdvisor series
    assert by_alt[("cpu_usage_ratio", 1)]["status"] == "empty"  # no kube_pod_container_resource_limits here


def test_queries_check_for_one_service(prometheus_server):
    result = run_cli(["queries", "check", "--prometheus-url", prometheus_server.url, "--at", AT,
                      "--service", "cart", "--namespace", "shop"])
    assert result.code == 0, result.stderr
    assert "signals have data" in result.stdout
    summary = next(line for line in result.stdout.splitlines() if "signals have data" in line)
    assert "memory_usage_ratio" in summary  # listed as missing for cart


def test_queries_check_against_nothing_is_exit_3():
    result = run_cli(["queries", "check", "--prometheus-url", "http://127.0.0.1:9", "--at", AT])
    assert result.code == 3 and "unreachable" in result.stderr
