"""Every option with an out-of-range or malformed value: exit 3, one line, no traceback; and
service names that would break PromQL are escaped, never spliced."""

from __future__ import annotations

import json

import pytest

from tests.faults.conftest import AT, cell, check, run_bounded, write_config

DEAD = ["--prometheus-url", "http://127.0.0.1:9"]
BASE = {
    "detect": ["detect", "--service", "checkout", *DEAD],
    "rca": ["rca", "--service", "checkout", *DEAD],
    "rca --all-services": ["rca", "--all-services", *DEAD],
    "run": ["run", "--service", "checkout", "--no-kubernetes", "--no-docker", *DEAD],
    "queries check": ["queries", "check", "--service", "checkout", *DEAD],
    "capacity": ["capacity", "--service", "checkout", *DEAD],
    "health": ["health", "--no-kubernetes", "--no-docker"],
}
BAD = {
    "--window -5m": ["--window", "-5m"],
    "--window 0": ["--window", "0"],
    "--window 5 minutes": ["--window", "5 minutes"],
    "--at in the future": ["--at", "2999-01-01T00:00:00Z"],
    "--at garbage": ["--at", "yesterday"],
    "--at without zone": ["--at", "2026-11-10T20:01:00"],
    "--at 1e300": ["--at", "1e300"],
    "--baseline 0": ["--baseline", "0"],
    "--baseline -1h": ["--baseline", "-1h"],
    "--output xml": ["--output", "xml"],
    "--max-concurrency 0": ["--max-concurrency", "0"],
    "--max-concurrency 65": ["--max-concurrency", "65"],
    "--timeout 0": ["--timeout", "0"],
    "--prometheus-url ftp://": ["--prometheus-url", "ftp://x"],
    "--prometheus-url port 99999": ["--prometheus-url", "http://127.0.0.1:99999"],
    "--service and --all-services": ["--all-services", "--service", "x"],
}
# which options each command has (an option it does not have is also exit 3, one line: a usage error)
BUGS: dict = {}  # fixed: display_url() tolerates an out-of-range port


@pytest.mark.parametrize("bad,command", [cell(BUGS, b, c) for b in BAD for c in BASE])
def test_malformed_option(tmp_path, bad, command):
    result = run_bounded([*BASE[command], *BAD[bad]], cwd=tmp_path)
    check(result, {3})
    line = result.stderr.strip().splitlines()[0]
    assert "unreachable" not in line, f"{bad} reached the network: {line}"


@pytest.mark.backend
@pytest.mark.parametrize("name", ['check"out{x="y"}', 'a\\"}) or vector(1) #', "ch\neckout"])
@pytest.mark.parametrize("command", ["detect", "rca", "queries check"])
def test_service_name_that_would_break_promql(proxied, tmp_path, name, command):
    """The backend never sees a query it cannot parse (an unescaped name would be HTTP 400) and the answer
    is 'no data', not a verdict about some other service."""
    statuses = []

    def fault(r):
        statuses.append(r.query)
        return None

    proxied.fault = fault
    config = write_config(tmp_path / "triage.yaml", proxied.url)
    args = {"detect": ["detect"], "rca": ["rca"], "queries check": ["queries", "check"]}[command]
    result = run_bounded([*args, "--service", name, "--at", AT, "--config", str(config), "-o", "json"],
                         proxy=proxied, cwd=tmp_path)
    check(result, {3})
    assert "rejected the query" not in result.stderr, result.stderr
    if command == "queries check":
        assert json.loads(result.stdout)["signals_with_data"] == []
    else:
        assert "no data for service" in result.stderr, result.stderr


@pytest.mark.backend
@pytest.mark.parametrize("command", ["detect", "rca", "run"])
def test_at_before_the_data(proxied, tmp_path, command):
    config = write_config(tmp_path / "triage.yaml", proxied.url)
    extra = ["--no-kubernetes", "--no-docker", "--out", str(tmp_path / "o")] if command == "run" else []
    result = run_bounded([command, "--service", "checkout", "--at", "2020-01-01T00:00:00Z", "--config", str(config),
                          *extra], proxy=proxied, cwd=tmp_path)
    check(result, {3})
    assert "no data for service checkout" in result.stderr
    assert not (tmp_path / "o").exists()
