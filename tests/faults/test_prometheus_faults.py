"""Prometheus / VictoriaMetrics faults (a fault proxy in front of the real backend) for every
command that reads metrics: one line naming the backend and what failed with exit 3, or a
report naming what is missing; never a traceback, never a hang, never a verdict built on a
failed query."""

from __future__ import annotations

import json

import pytest

from tests.faults.conftest import AT, LIMIT, cell, check, free_port, run_bounded, write_config
from tests.faults.proxy import (
    Delay, Drop, Reply, Rewrite, Truncate, empty_result, huge_result, map_values,
)

pytestmark = pytest.mark.backend

TARGET = ["--service", "checkout", "--at", AT]


def commands(tmp_path):
    return {
        "detect": ["detect", *TARGET, "-o", "json"],
        "rca": ["rca", *TARGET, "-o", "json"],
        "rca --all-services": ["rca", "--all-services", "--at", AT, "-o", "json"],
        "run": ["run", *TARGET, "--no-kubernetes", "--no-docker", "--out", str(tmp_path / "out")],
        "queries check": ["queries", "check", "--service", "checkout", "--at", AT, "-o", "json"],
    }


COMMANDS = ["detect", "rca", "rca --all-services", "run", "queries check"]

# fault name → (what the proxy does, the phrase the one line must carry)
HARD_FAULTS = {
    "delay past the timeout": (lambda r: Delay(30), "did not answer within 2s"),
    "HTTP 500": (lambda r: Reply(500, {"status": "error", "errorType": "internal", "error": "boom"}), "HTTP 500"),
    "HTTP 503": (lambda r: Reply(503, "overloaded", {"Retry-After": "0"}), "HTTP 503"),
    "HTTP 429 + Retry-After": (lambda r: Reply(429, "slow down", {"Retry-After": "1"}), "HTTP 429"),
    "HTTP 401": (lambda r: Reply(401, "Unauthorized"), "HTTP 401"),
    "HTTP 403": (lambda r: Reply(403, "Forbidden"), "HTTP 403"),
    "body not JSON": (lambda r: Reply(200, "<html><body>502 Bad Gateway</body></html>",
                                      {"Content-Type": "text/html"}), "not the Prometheus API's JSON"),
    "status: error (HTTP 200)": (lambda r: Reply(200, {"status": "error", "errorType": "execution",
                                                       "error": "too many samples"}), "prometheus at"),
    "status: error (HTTP 422)": (lambda r: Reply(422, {"status": "error", "errorType": "execution",
                                                       "error": "query processing would load too many samples"}),
                                 "too many samples"),
    "truncated body": (lambda r: Truncate(0.5), "prometheus at"),
}

QC_WAITS = ("`queries check` sends all ~38 alternatives even once the backend has plainly failed: each waits out "
            "its own timeout / retries, so it returns after ~5 x timeout (retry storm: 3 x 38 requests)")
BUGS: dict = {}  # fixed: a backend that failed fatally is not asked again; check exits 3 on errors
VM_FAULTS = ("HTTP 500", "truncated body")


@pytest.mark.parametrize("fault,command", [cell(BUGS, f, c) for f in HARD_FAULTS for c in COMMANDS])
def test_backend_fault_is_one_line_exit_3(proxied, tmp_path, fault, command):
    action, phrase = HARD_FAULTS[fault]
    proxied.fault = action
    config = write_config(tmp_path / "triage.yaml", proxied.url)
    result = run_bounded([*commands(tmp_path)[command], "--config", str(config)], proxy=proxied, cwd=tmp_path)
    check(result, {3})
    if command == "queries check" and result.stdout.strip():
        # some alternatives answered before the fault: a report of what has no data
        assert json.loads(result.stdout)["signals_with_data"] == []
        return
    [line] = result.stderr.strip().splitlines()
    assert phrase in line and "prometheus at" in line, line
    assert not (tmp_path / "out" / "incident.json").exists() or json.loads(
        (tmp_path / "out" / "incident.json").read_text())


@pytest.mark.parametrize("proxied", ["victoria-metrics"], indirect=True)
@pytest.mark.parametrize("fault,command", [(f, c) for f in VM_FAULTS for c in COMMANDS])
def test_victoria_metrics_fault_is_one_line_exit_3(proxied, tmp_path, fault, command):
    test_backend_fault_is_one_line_exit_3(proxied, tmp_path, fault, command)


@pytest.mark.parametrize("fault,command", [cell(BUGS, "HTTP 429 + Retry-After", c) for c in COMMANDS])
def test_no_retry_storm_on_429(proxied, tmp_path, fault, command):
    """A backend answering 429 gets at most 3 attempts per concurrent slot, not 3 per query."""
    proxied.fault = lambda r: Reply(429, "slow down", {"Retry-After": "0"})
    config = write_config(tmp_path / "triage.yaml", proxied.url)
    args = commands(tmp_path)[command]
    result = run_bounded([*args, "--config", str(config), "--max-concurrency", "8"], proxy=proxied, cwd=tmp_path)
    check(result, {3}, one_line=False)
    assert proxied.count <= 3 * 8, f"{proxied.count} requests to a backend answering 429"


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("where", ["connection refused", "DNS failure"])
def test_unreachable_backend(tmp_path, where, command):
    url = f"http://127.0.0.1:{free_port()}" if where == "connection refused" else "http://no-such-host.invalid:9090"
    config = write_config(tmp_path / "triage.yaml", url)
    result = run_bounded([*commands(tmp_path)[command], "--config", str(config)], cwd=tmp_path)
    check(result, {3})
    [line] = result.stderr.strip().splitlines()
    assert ("connection refused" if where == "connection refused" else "does not resolve") in line, line


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("values", ["NaN", "+Inf", "empty vectors"])
def test_values_nobody_can_use_are_missing_not_judged(proxied, tmp_path, values, command):
    proxied.fault = {"NaN": lambda r: Rewrite(map_values(lambda v: "NaN")),
                     "+Inf": lambda r: Rewrite(map_values(lambda v: "+Inf")),
                     "empty vectors": lambda r: Rewrite(empty_result)}[values]
    config = write_config(tmp_path / "triage.yaml", proxied.url)
    result = run_bounded([*commands(tmp_path)[command], "--config", str(config)], proxy=proxied, cwd=tmp_path)
    check(result, {3})
    if result.stdout.strip() and command == "queries check":
        assert json.loads(result.stdout)["signals_with_data"] == []
    else:
        assert "no data" in result.stderr or "no service" in result.stderr, result.stderr


@pytest.mark.parametrize("command", ["rca", "rca --all-services", "queries check"])
def test_huge_response_is_bounded(proxied, tmp_path, command):
    """100,000 extra series on the first range query: no crash, no hang, the verdict stands."""
    first = []

    def fault(r):
        if r.path.endswith("/query_range") and not first:
            first.append(r.n)
            return Rewrite(huge_result(100_000))
        return None

    proxied.fault = fault
    config = write_config(tmp_path / "triage.yaml", proxied.url)
    result = run_bounded([*commands(tmp_path)[command], "--config", str(config)], proxy=proxied, cwd=tmp_path,
                         limit=LIMIT + 20)
    check(result, {0, 2, 3})
    if command == "rca":
        assert json.loads(result.stdout)["bottleneck"] in ("db_pool_exhaustion", "unknown")


@pytest.mark.parametrize("fault,command", [cell(BUGS, "killed mid-run", c) for c in COMMANDS])
def test_backend_killed_mid_run(proxied, tmp_path, fault, command):
    """The backend stops answering after 3 requests: exit 3 naming it, or a report naming what is missing.
    rca runs one query at a time, so which answers arrived is the same on every run."""
    proxied.fault = lambda r: Drop() if r.n > 3 else None
    config = write_config(tmp_path / "triage.yaml", proxied.url)
    serial = ["--max-concurrency", "1"] if command == "rca" else []
    result = run_bounded([*commands(tmp_path)[command], "--config", str(config), *serial],
                         proxy=proxied, cwd=tmp_path)
    check(result, {2, 3}, one_line=False)
    text = result.stdout + result.stderr
    assert "closed mid-answer" in text or "missing" in text or "skipped" in text, text[-1500:]
    if command == "rca" and result.stdout.strip():
        payload = json.loads(result.stdout)
        assert payload["missing_signals"], payload
        assert any("query failed" in why for why in payload["missing_reasons"].values())
    if command == "run" and (tmp_path / "out" / "incident.json").exists():
        record = json.loads((tmp_path / "out" / "incident.json").read_text())
        assert any(p.get("status") == "skipped" for p in record["phases"].values()) or record["rca"]


@pytest.mark.parametrize("proxied", ["prometheus", "victoria-metrics"], indirect=True)
@pytest.mark.parametrize("how", ["HTTP 500", "NaN"])
def test_failed_pool_query_is_never_a_confident_pool_verdict(proxied, tmp_path, how):
    """checkout's real cause is pool exhaustion; when the pool signals' queries fail, rca must not
    claim it anyway, and must say what is missing."""
    def fault(r):
        if "pool" in r.query:
            return Reply(500, {"status": "error", "error": "boom"}) if how == "HTTP 500" else \
                Rewrite(map_values(lambda v: "NaN"))
        return None

    proxied.fault = fault
    config = write_config(tmp_path / "triage.yaml", proxied.url)
    result = run_bounded(["rca", *TARGET, "-o", "json", "--config", str(config)], proxy=proxied, cwd=tmp_path)
    check(result, {2, 3})
    payload = json.loads(result.stdout)
    assert not (payload["bottleneck"] == "db_pool_exhaustion" and payload["confidence"] >= 0.5), payload
    assert "db_pool_usage_ratio" in payload["missing_signals"]


def test_failed_pool_query_in_the_fleet_pass(proxied, tmp_path):
    proxied.fault = lambda r: Reply(500, {"status": "error", "error": "boom"}) if "pool" in r.query else None
    config = write_config(tmp_path / "triage.yaml", proxied.url)
    result = run_bounded(["rca", "--all-services", "--at", AT, "-o", "json", "--config", str(config)],
                         proxy=proxied, cwd=tmp_path)
    check(result, {2, 3})
    checkout = json.loads(result.stdout)["services"]["checkout"]
    assert not (checkout["bottleneck"] == "db_pool_exhaustion" and checkout["confidence"] >= 0.5), checkout


def test_failed_db_latency_query_is_never_a_confident_pool_verdict(proxied, tmp_path):
    proxied.fault = lambda r: Reply(500, {"status": "error", "error": "boom"}) if "db_query_duration" in r.query \
        else None
    config = write_config(tmp_path / "triage.yaml", proxied.url)
    result = run_bounded(["rca", *TARGET, "-o", "json", "--config", str(config)], proxy=proxied, cwd=tmp_path)
    check(result, {2, 3})
    payload = json.loads(result.stdout)
    assert "db_latency_p95" in payload["missing_signals"]
    assert not (payload["bottleneck"] == "db_pool_exhaustion" and payload["confidence"] >= 0.5), payload
