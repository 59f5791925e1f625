"""Prometheus / VictoriaMetrics faults (a fault proxy in front of the real backend) for every
command that reads metrics: one line naming the backend and what failed with exit 3, or a
report naming what is missing; never a traceback, never a hang, never a verdict built on a
failed query."""

from __future__ import annotations

import json

import pytest

from testing.servers.fault_proxy import (
    Delay,
    Drop,
    Reply,
    Rewrite,
    Stream,
    Truncate,
    empty_result,
    gzip_bomb,
    huge_result,
    map_values,
    plain_body,
)
from tests.faults.conftest import AT, LIMIT, TARGET, cell, check, commands, free_port, run_bounded, write_config

pytestmark = pytest.mark.backend



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
    # The proxy rewrites a 100,000-series answer in this process: on a loaded machine that alone
    # can take longer than the suite's 2 s timeout, and this cell is about size, not time.
    config = tmp_path / "triage.yaml"
    config.write_text(f"prometheus:\n  url: {proxied.url}\n  timeout: 30s\n")
    result = run_bounded([*commands(tmp_path)[command], "--config", str(config)], proxy=proxied, cwd=tmp_path,
                         limit=120)
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
    # Fleets send one query a request (issue 17): only the pool queries fail, and the pool wait
    # (db_connection_wait_duration_seconds) still answers. A pool verdict may stand on that wait —
    # never on the failed usage query, which is named missing — and below full-data confidence.
    assert "db_pool_usage_ratio" in checkout["missing_signals"], checkout["missing_signals"]
    if checkout["bottleneck"] == "db_pool_exhaustion" and checkout["confidence"] >= 0.5:
        used = {e["signal"] for c in checkout["candidates"] for e in c["evidence"]}
        assert "db_pool_usage_ratio" not in used and "db_pool_wait_p95" in used, used
        proxied.fault = None
        whole = run_bounded(["rca", "--all-services", "--at", AT, "-o", "json", "--config", str(config)],
                            proxy=proxied, cwd=tmp_path)
        full = json.loads(whole.stdout)["services"]["checkout"]
        assert full["bottleneck"] == "db_pool_exhaustion", full["bottleneck"]
        assert checkout["confidence"] < full["confidence"], (checkout["confidence"], full["confidence"])


def test_failed_db_latency_query_is_never_a_confident_pool_verdict(proxied, tmp_path):
    proxied.fault = lambda r: Reply(500, {"status": "error", "error": "boom"}) if "db_query_duration" in r.query \
        else None
    config = write_config(tmp_path / "triage.yaml", proxied.url)
    result = run_bounded(["rca", *TARGET, "-o", "json", "--config", str(config)], proxy=proxied, cwd=tmp_path)
    check(result, {2, 3})
    payload = json.loads(result.stdout)
    assert "db_latency_p95" in payload["missing_signals"]
    assert not (payload["bottleneck"] == "db_pool_exhaustion" and payload["confidence"] >= 0.5), payload


# ---- bounded answers (issue 13, item 4) --------------------------------------------------------

_BOMBS: dict = {}


def _bomb(decoded: int) -> bytes:
    if decoded not in _BOMBS:
        _BOMBS[decoded] = gzip_bomb(decoded)
    return _BOMBS[decoded]


MiB = 1024 * 1024
# (what the proxy sends for every range query, the cap configured or None for the default)
BIG_ANSWERS = {
    "gzip bomb, 300 MiB decoded, default cap": (lambda: Reply(200, _bomb(300 * MiB), {"Content-Encoding": "gzip"}),
                                                None),
    "gzip bomb, 64 MiB decoded, 8MiB cap": (lambda: Reply(200, _bomb(64 * MiB), {"Content-Encoding": "gzip"}),
                                            "8MiB"),
    "plain body 300 MiB, Content-Length, default cap": (lambda: Stream(plain_body(300 * MiB), length=300 * MiB),
                                                        None),
    "plain body 48 MiB, no Content-Length, 4MiB cap": (lambda: Stream(plain_body(48 * MiB)), "4MiB"),
    "gzip bomb, 48 MiB decoded, cap in bytes": (lambda: Reply(200, _bomb(48 * MiB), {"Content-Encoding": "gzip"}),
                                                   "4194304"),
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("answer", list(BIG_ANSWERS))
def test_an_answer_past_the_cap_is_one_line(proxied, tmp_path, answer, command):
    make, cap = BIG_ANSWERS[answer]
    proxied.fault = lambda r: make() if r.path.endswith(("/query_range", "/query")) else None
    extra = f"  max_response_bytes: {cap}\n" if cap else ""
    # A timeout long enough for inflating 256 MiB on a loaded machine: the cap ends these, not time.
    config = tmp_path / "triage.yaml"
    config.write_text(f"prometheus:\n  url: {proxied.url}\n  timeout: 30s\n{extra}")
    result = run_bounded([*commands(tmp_path)[command], "--config", str(config)], proxy=proxied, cwd=tmp_path,
                         limit=120)
    check(result, {3})
    [line] = result.stderr.strip().splitlines()
    shown = {"8MiB": "8 MiB", "4MiB": "4 MiB", "4194304": "4 MiB"}.get(cap, "256 MiB")
    assert "prometheus at" in line and "max_response_bytes" in line and shown in line, line
    assert "query" in line, line
    assert not (tmp_path / "out" / "incident.json").exists()


def test_a_cap_that_fits_the_answers_changes_nothing(proxied, tmp_path):
    """A cap of 64 MiB holds every real answer of the fleet pass: same report as without one."""
    config = tmp_path / "triage.yaml"
    config.write_text(f"prometheus:\n  url: {proxied.url}\n  timeout: 30s\n  max_response_bytes: 64MiB\n")
    with_cap = run_bounded(["rca", "--all-services", "--at", AT, "-o", "json", "--config", str(config)],
                           proxy=proxied, cwd=tmp_path, limit=120)
    config.write_text(f"prometheus:\n  url: {proxied.url}\n  timeout: 30s\n")
    without = run_bounded(["rca", "--all-services", "--at", AT, "-o", "json", "--config", str(config)],
                          proxy=proxied, cwd=tmp_path, limit=120)
    check(with_cap, {0, 1, 2})
    assert json.loads(with_cap.stdout)["ranking"] == json.loads(without.stdout)["ranking"]


@pytest.mark.parametrize("answer", ["gzip bomb", "plain body", "no Content-Length"])
def test_alertmanager_answer_past_the_cap(answer):
    """Alertmanager's live alerts (the source asked directly: they are only read for a window
    ending now) answered with 64 MiB: a SourceError naming the cap, never the whole body read."""
    from testing.servers.fault_proxy import FaultProxy
    from tests.faults.conftest import call_bounded
    from triage.config import BackendSettings
    from triage.errors import SourceError
    from triage.sources.alertmanager import AlertmanagerSource

    with FaultProxy("http://127.0.0.1:9") as am:
        am.fault = {
            "gzip bomb": lambda r: Reply(200, _bomb(64 * MiB), {"Content-Encoding": "gzip"}),
            "plain body": lambda r: Stream(plain_body(64 * MiB, b"["), length=64 * MiB),
            "no Content-Length": lambda r: Stream(plain_body(64 * MiB, b"[")),
        }[answer]
        source = AlertmanagerSource(BackendSettings(url=am.url, timeout=10.0, max_response_bytes=MiB))
        _, raised = call_bounded(source.alerts, proxy=am, limit=LIMIT + 20)
    assert isinstance(raised, SourceError), raised
    assert "alertmanager at" in raised.message and "1 MiB" in raised.message, raised.message
    assert "max_response_bytes" in raised.message
