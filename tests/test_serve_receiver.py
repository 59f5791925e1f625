"""A real `triage serve` (uvicorn on 127.0.0.1) with a real Prometheus holding the scenario
library: an Alertmanager v4 notification becomes one incident, its record, its draft and a
message at a local Slack-shaped receiver; repeats add to it; `resolved` closes it."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from testing.scenarios.library import WINDOW_END_S
from testing.serve import FakeSlack, alert, notification, start, write_config

GROUP = '{}/{service="checkout"}:{alertname="CheckoutLatency"}'

pytestmark = pytest.mark.backend


def _done(server, n: int = 1):
    def check():
        rows = server.incidents()
        return rows if len(rows) >= n and all(r["run"] in ("done", "failed") for r in rows) else None
    return check


def test_a_firing_group_is_triaged_once_told_and_closed(prometheus_server, tmp_path):
    with FakeSlack() as slack:
        (tmp_path / "slack-url").write_text(slack.url)
        config = write_config(tmp_path, prometheus=prometheus_server.url, sinks=[
            {"type": "slack", "name": "oncall", "url_file": "slack-url"},
            {"type": "directory", "name": "files", "path": "out"}])
        server = start(config)
        try:
            first = alert("CheckoutLatency", "checkout", WINDOW_END_S, fingerprint="aaaa000000000001")
            second = alert("CheckoutErrors", "checkout", WINDOW_END_S + 5, fingerprint="aaaa000000000002")
            assert server.post(notification([first], group_key=GROUP)).status_code == 200
            assert server.post(notification([first], group_key=GROUP)).status_code == 200   # repeat_interval
            assert server.post(notification([first, second], group_key=GROUP)).status_code == 200
            rows = server.wait_for(_done(server), what="the run")
            assert len(rows) == 1
            row = rows[0]
            assert row["run"] == "done" and row["bottleneck"] == "db_pool_exhaustion"
            assert row["status"] == "firing" and row["alerts"] == 2
            record = json.loads(Path(row["record"]).read_text())
            assert record["id"] == row["id"]
            assert record["rca"]["schema"] == "triage.rca/v1"
            assert record["notification"]["alerts"][0]["runbook_url"] == "https://runbooks.example/CheckoutLatency"
            draft = Path(row["record"]).with_name("postmortem.md").read_text()
            assert "db pool exhaustion" in draft  # the post-mortem names the class in words
            assert "Runbook: https://runbooks.example/CheckoutLatency" in draft and "Still firing" in draft
            assert server.get(f"/incidents/{row['id']}").json()["id"] == row["id"]

            server.wait_for(lambda: slack.received, what="the Slack message")
            message = slack.received[0]
            assert "db_pool_exhaustion" in message["text"]
            shown = json.dumps(message["blocks"])
            assert "Top evidence" in shown and row["record"] in shown and "runbook" in shown
            event = server.wait_for(lambda: list((tmp_path / "out").glob("*.triaged.json")), what="the file sink")
            doc = json.loads(event[0].read_text())
            assert doc["incident"] == row["id"] and doc["rca"]["bottleneck"] == "db_pool_exhaustion"

            resolved = dict(first, status="resolved", endsAt="2026-11-10T20:20:00Z")
            assert server.post(notification([resolved], group_key=GROUP, status="resolved")).status_code == 200
            server.wait_for(lambda: len(slack.received) >= 2, what="the resolved message")
            row = server.incidents()[0]
            assert row["status"] == "resolved" and row["resolved"] == "2026-11-10T20:20:00Z"
            record = json.loads(Path(row["record"]).read_text())
            assert record["notification"]["resolved"] == "2026-11-10T20:20:00Z"
            assert slack.received[1]["text"].startswith("resolved:")
            draft = Path(row["record"]).with_name("postmortem.md").read_text()
            assert "Resolved at 2026-11-10T20:20:00Z, 19 min after it started" in draft
            metrics = server.get("/metrics", token=None).text
            assert 'triage_serve_runs_total{result="done"} 1' in metrics
            assert 'triage_serve_incidents_total{event="merged"} 2' in metrics
            assert slack.url.split("/")[-1] not in server.stderr()
        finally:
            assert server.stop() == 143


def test_a_hanging_sink_delays_no_run_and_loses_nothing(prometheus_server, tmp_path):
    with FakeSlack(mode="hang") as slack:
        (tmp_path / "slack-url").write_text(slack.url)
        config = write_config(tmp_path, prometheus=prometheus_server.url, sinks=[
            {"type": "slack", "name": "stuck", "url_file": "slack-url", "timeout": "1s", "retries": 1},
            {"type": "directory", "name": "files", "path": "out"}])
        server = start(config)
        try:
            assert server.post(notification([alert("Lat", "checkout", WINDOW_END_S)], group_key=GROUP)).ok
            rows = server.wait_for(_done(server), what="the run")
            assert rows[0]["run"] == "done" and Path(rows[0]["record"]).exists()
            server.wait_for(lambda: list((tmp_path / "out").glob("*.json")), what="the file sink")
            state = tmp_path / "spool" / "incidents" / f"{rows[0]['id']}.json"
            server.wait_for(lambda: "failed" in json.loads(state.read_text())["sinks"].get("stuck:triaged", ""),
                            timeout=30, what="the stuck sink given up")
            reason = json.loads(state.read_text())["sinks"]["stuck:triaged"]
            assert "no answer within 1s" in reason and "XXXXSECRET" not in reason
            assert slack.attempts == 2
            assert "XXXXSECRET" not in server.stderr()
        finally:
            assert server.stop() == 143


def test_sigterm_mid_run_drains_then_restart_resumes(prometheus_server, tmp_path):
    from testing.servers.fault_proxy import Delay, FaultProxy

    slow = {"on": True}
    with FaultProxy(prometheus_server.url, lambda req: Delay(0.4) if slow["on"] else None) as proxy:
        config = write_config(tmp_path, prometheus=proxy.url, serve={"workers": 1})
        server = start(config)
        assert server.post(notification([alert("Lat", "checkout", WINDOW_END_S)], group_key=GROUP)).ok
        other = '{}/{service="orders"}:{alertname="OrdersCPU"}'
        assert server.post(notification([alert("CPU", "orders", WINDOW_END_S)], group_key=other)).ok
        server.wait_for(lambda: proxy.count > 0 and any(r["run"] == "running" for r in server.incidents()),
                        what="a run in flight")
        assert server.stop(signal.SIGTERM) == 143
        assert "terminated" in server.stderr()
        states = {json.loads(p.read_text())["service"]: json.loads(p.read_text())
                  for p in (tmp_path / "spool" / "incidents").glob("*.json")}
        assert states["checkout"]["run"] == "done"                 # in flight: drained, written
        assert states["orders"]["run"] == "pending"                # not started: left for the restart
        done = Path(states["checkout"]["record"])
        written = done.stat().st_mtime_ns
        slow["on"] = False
        again = start(config, log_name="serve-2.log")
        try:
            rows = again.wait_for(_done(again, 2), what="the resumed run")
            assert {r["service"]: r["run"] for r in rows} == {"checkout": "done", "orders": "done"}
            assert done.stat().st_mtime_ns == written                # not run a second time
            assert 'triage_serve_runs_total{result="done"} 1' in again.get("/metrics").text
            assert len(list((tmp_path / "records").iterdir())) == 2
        finally:
            assert again.stop(signal.SIGINT) == 130


def test_a_backend_that_comes_back_within_the_retry_time_is_waited_for(prometheus_server, tmp_path):
    from testing.servers.fault_proxy import FaultProxy, Reply

    down = {"on": True}

    def fault(req):
        return Reply(503, b"service unavailable") if down["on"] else None

    with FaultProxy(prometheus_server.url, fault) as proxy:
        config = write_config(tmp_path, prometheus=proxy.url, serve={"retry_for": "60s"})
        server = start(config)
        try:
            assert server.post(notification([alert("Lat", "checkout", WINDOW_END_S)], group_key=GROUP)).ok
            server.wait_for(lambda: "triage_serve_run_retries_total" in server.get("/metrics").text,
                            what="a retry")
            down["on"] = False
            rows = server.wait_for(_done(server), what="the run after the outage")
            assert rows[0]["run"] == "done" and rows[0]["bottleneck"] == "db_pool_exhaustion"
        finally:
            assert server.stop() == 143
