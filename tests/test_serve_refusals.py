"""What `triage serve` refuses, and how: a bad token (401), an oversized body (413), a malformed
one (4xx) — with nothing spooled; a burst that starts no more runs than incidents; a backend
that is down; a config it cannot use (one line, exit 3)."""

from __future__ import annotations

import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from testing.backends import free_port
from testing.cli import run_cli
from testing.serve import (
    TOKEN,
    FakeSlack,
    alert,
    notification,
    start,
    write_config,
)

DOWN = "http://127.0.0.1:9"  # discard port: nothing answers there


def _spooled(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "spool").rglob("*") if p.is_file()]


def test_refused_bodies_leave_nothing_behind(tmp_path):
    config = write_config(tmp_path, prometheus=DOWN, serve={"max_body_bytes": "4KiB"})
    server = start(config)
    try:
        good = notification([alert("Lat", "checkout", time.time())], group_key="g1")
        assert server.post(good, token=None).status_code == 401
        wrong = server.post(good, token="not-the-token")
        assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"] == "Bearer"
        assert TOKEN not in wrong.text
        huge = notification([alert("Lat", "checkout", time.time())], group_key="g1")
        huge["alerts"][0]["annotations"]["description"] = "x" * 3000
        huge["alerts"] = huge["alerts"] * 3
        assert server.post(huge).status_code == 413
        assert server.post(None, raw=b"{not json").status_code == 400
        no_service = notification([alert("Lat", "checkout", time.time())], group_key="g1")
        for where in (no_service["commonLabels"], no_service["alerts"][0]["labels"]):
            where.pop("service", None)
        refused = server.post(no_service)
        assert refused.status_code == 422 and "service_labels" in refused.json()["error"]
        assert server.post({"status": "firing", "alerts": "none"}).status_code == 422
        assert server.get("/incidents", token=None).status_code == 401
        assert server.get("/incidents").json() == []
        assert _spooled(tmp_path) == []
        metrics = server.get("/metrics", token=None).text
        assert 'triage_serve_notifications_total{result="unauthorized"} 2' in metrics
        assert 'triage_serve_notifications_total{result="invalid"} 3' in metrics
        assert server.get("/healthz", token=None).text == "ok\n"
    finally:
        server.stop()


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_a_burst_of_1000_alerts_starts_one_run_per_incident(tmp_path):
    config = write_config(tmp_path, prometheus=DOWN, serve={"retry_for": "1ms", "workers": 2})
    server = start(config)
    try:
        now = time.time()
        bodies = [notification([alert(f"A{i % 5}", f"svc{i % 5}", now - 60, fingerprint=f"{i:016x}")],
                               group_key=f"group-{i % 5}") for i in range(1000)]
        server.post(bodies[0])
        before = _rss_kib(server.proc.pid)
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda b: server.post(b).status_code, bodies[1:]))
        assert set(codes) == {200}
        server.wait_for(lambda: server.get("/metrics").text.count("triage_serve_spool_depth 0") and
                        len(server.incidents()) == 5 and all(r["run"] == "failed" for r in server.incidents()),
                        what="the burst applied")
        rows = server.incidents()
        assert sorted(r["service"] for r in rows) == [f"svc{i}" for i in range(5)]
        assert all(r["alerts"] == 200 and r["notifications"] == 200 for r in rows)
        metrics = server.get("/metrics").text
        assert 'triage_serve_runs_total{result="failed"} 5' in metrics
        assert 'triage_serve_notifications_total{result="accepted"} 1000' in metrics
        assert _rss_kib(server.proc.pid) - before < 60 * 1024
        assert list((tmp_path / "spool" / "queue").iterdir()) == []
    finally:
        server.stop()


def test_a_backend_that_stays_down_is_retried_then_recorded_failed(tmp_path):
    with FakeSlack() as slack:
        (tmp_path / "hook").write_text(slack.url)
        config = write_config(tmp_path, prometheus=DOWN, serve={"retry_for": "3s"},
                              sinks=[{"type": "webhook", "name": "json", "url_file": "hook"}])
        server = start(config)
        try:
            assert server.post(notification([alert("Lat", "checkout", time.time() - 30)], group_key="g")).ok
            rows = server.wait_for(lambda: [r for r in server.incidents() if r["run"] == "failed"], timeout=30,
                                   what="the failed run")
            record = json.loads(Path(rows[0]["record"]).read_text())
            detect = record["phases"]["detect"]
            assert detect["status"] == "failed" and "unreachable" in detect["reason"] and "retried" in detect["reason"]
            assert Path(rows[0]["record"]).with_name("postmortem.md").exists()
            assert "triage_serve_run_retries_total" in server.get("/metrics").text
            server.wait_for(lambda: slack.received, what="the JSON webhook")
            doc = slack.received[0]
            assert doc["incident"] == rows[0]["id"] and doc["event"] == "triaged" and doc["rca"] is None
        finally:
            server.stop()


def _config(tmp_path: Path, serve: dict) -> Path:
    path = tmp_path / "triage.yaml"
    path.write_text(yaml.safe_dump({"prometheus": {"url": DOWN}, "serve": serve}))
    return path


def test_a_config_it_cannot_use_is_one_line_and_exit_3(tmp_path):
    result = run_cli(["serve", "--config", str(_config(tmp_path, {"listen": "127.0.0.1:1", "colour": "red"}))])
    assert result.code == 3 and "unknown key 'serve.colour'" in result.stderr
    result = run_cli(["serve", "--config", str(_config(tmp_path, {"token_env": "NOPE_NOT_SET"}))])
    assert result.code == 3 and "$NOPE_NOT_SET" in result.stderr
    result = run_cli(["serve", "--config", str(_config(tmp_path, {})), "--listen", "0.0.0.0:8080"])
    assert result.code == 3 and "needs a bearer token" in result.stderr
    result = run_cli(["serve", "--config", str(_config(tmp_path, {})), "--listen", "nowhere"])
    assert result.code == 3 and "HOST:PORT" in result.stderr
    with socket.socket() as taken:
        port = free_port()
        taken.bind(("127.0.0.1", port))
        taken.listen(1)
        result = run_cli(["serve", "--config", str(_config(tmp_path, {})), "--listen", f"127.0.0.1:{port}"])
    assert result.code == 3 and "cannot listen" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2
