"""End to end on real parts: a real Prometheus evaluates an alert rule over a generated incident
(checkout's pool exhaustion, moved to end now), a real prometheus-alertmanager groups the alert
and posts it to a real `triage serve`, which writes the record and the draft and tells a local
Slack-shaped receiver; when the rule stops firing the resolved notification closes it."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
import yaml

from testing.backends import alertmanager, free_port, prometheus_from_openmetrics
from testing.scenarios.library import DATA_END_S, STEP_S, checkout, export_dataset, shift_openmetrics
from testing.serve import TOKEN, FakeSlack, start, write_config
from testing.servers.fault_proxy import FaultProxy
from tests.conftest import need

pytestmark = pytest.mark.backend

RATIO = 'max(db_connection_pool_used{service="checkout"}) / max(db_connection_pool_size{service="checkout"})'


def _rules(path: Path, firing: bool) -> None:
    expr = f"{RATIO} >= 0.9" if firing else f"{RATIO} >= 0.9 and on() vector(0) > 1"
    path.write_text(yaml.safe_dump({"groups": [{"name": "checkout", "interval": "1s", "rules": [
        {"alert": "CheckoutPoolExhausted", "expr": expr, "for": "0s",
         "labels": {"service": "checkout", "namespace": "shop", "severity": "page"},
         "annotations": {"summary": "checkout's DB pool is exhausted",
                         "runbook_url": "https://runbooks.example/checkout-pool"}}]}]}))


def test_prometheus_alertmanager_serve_slack(tmp_path):
    need("prometheus")
    need("promtool")
    need("prometheus-alertmanager")
    now = int(time.time())
    delta = (now - DATA_END_S) // STEP_S * STEP_S
    openmetrics, _ = export_dataset([checkout()])
    serve_port = free_port()
    (tmp_path / "token").write_text(TOKEN)
    am_config = {
        "route": {"receiver": "triage", "group_by": ["alertname", "service"], "group_wait": "1s",
                  "group_interval": "1s", "repeat_interval": "5s"},
        "receivers": [{"name": "triage", "webhook_configs": [{
            "url": f"http://127.0.0.1:{serve_port}/v1/alertmanager", "send_resolved": True,
            "http_config": {"authorization": {"type": "Bearer", "credentials_file": str(tmp_path / "token")}}}]}],
    }
    rules = tmp_path / "rules.yml"
    _rules(rules, firing=True)
    # triage serve listens before Alertmanager first posts (a refused first delivery would make
    # Alertmanager back off for a minute); its Prometheus URL is a proxy pointed at the real one
    # once that is up.
    with FakeSlack() as slack, FaultProxy("http://127.0.0.1:9") as proxy:
        (tmp_path / "serve").mkdir()
        (tmp_path / "serve" / "slack").write_text(slack.url)
        config = write_config(tmp_path / "serve", prometheus=proxy.url,
                              sinks=[{"type": "slack", "url_file": "slack"}])
        server = start(config, port=serve_port)
        try:
            with alertmanager(tmp_path / "am", config_doc=am_config) as am, \
                    prometheus_from_openmetrics(shift_openmetrics(openmetrics, delta), tmp_path / "prom",
                                                rules_file=rules,
                                                alertmanagers=[am.url.removeprefix("http://")],
                                                extra_args=["--rules.alert.resend-delay=1s"]) as prom:
                proxy.upstream = prom.url
                _walk(server, slack, rules, prom)
        finally:
            assert server.stop() == 143


def _walk(server, slack, rules: Path, prom) -> None:
    rows = server.wait_for(lambda: [r for r in server.incidents() if r["run"] in ("done", "failed")],
                           timeout=90, what="the incident triaged")
    row = rows[0]
    assert row["run"] == "done" and row["service"] == "checkout"
    assert row["bottleneck"] == "db_pool_exhaustion"
    record = json.loads(Path(row["record"]).read_text())
    assert record["notification"]["alerts"][0]["runbook_url"] == "https://runbooks.example/checkout-pool"
    assert Path(row["record"]).with_name("postmortem.md").exists()
    server.wait_for(lambda: slack.received, what="the Slack message")
    assert "db_pool_exhaustion" in slack.received[0]["text"]

    _rules(rules, firing=False)
    prom.proc.send_signal(signal.SIGHUP)
    server.wait_for(lambda: server.incidents()[0]["status"] == "resolved", timeout=90,
                    what="the resolved notification")
    server.wait_for(lambda: len(slack.received) >= 2, what="the resolved message")
    record = json.loads(Path(row["record"]).read_text())
    assert record["notification"]["resolved"]
    assert len(server.incidents()) == 1       # repeats every 5 s added to it, never a second run
    assert 'triage_serve_runs_total{result="done"} 1' in server.get("/metrics").text
