"""Alerts as Prometheus' and Alertmanager's APIs list them, built one way (Alert.from_api): an
answer whose labels or annotations are not maps reads as an alert without them — never a crash.
Served over HTTP on 127.0.0.1, as the sources read them."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from triage.config import BackendSettings
from triage.models import Alert
from triage.sources.alertmanager import AlertmanagerSource
from triage.sources.prometheus import PrometheusSource

ODD = [
    {"labels": ["alertname", "HighLatency"], "annotations": "slow", "startsAt": 5, "activeAt": 5,
     "status": "firing", "state": 3},
    {"labels": {"alertname": "CPU", "severity": "page", "n": 3}, "annotations": {"summary": 7},
     "startsAt": "2026-11-10T19:50:00.123456789Z", "activeAt": "2026-11-10T19:50:00Z",
     "status": {"state": "active"}, "state": "firing"},
    "not an alert",
]


@pytest.fixture()
def server():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            path = self.path.split("?", 1)[0]
            body = {"/api/v2/alerts": ODD,
                    "/api/v1/alerts": {"status": "success", "data": {"alerts": ODD}}}.get(path)
            data = json.dumps(body).encode()
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_labels_that_are_not_a_map_read_as_none():
    alert = Alert.from_api({"labels": "x", "annotations": ["y"]}, source="prometheus", state="firing",
                           starts_at=None)
    assert (alert.name, alert.labels, alert.summary, alert.severity) == ("?", {}, "", None)


@pytest.mark.parametrize("kind", ["alertmanager", "prometheus"])
def test_each_source_reads_odd_answers_without_a_crash(server, kind):
    source = (AlertmanagerSource if kind == "alertmanager" else PrometheusSource)(BackendSettings(url=server))
    alerts = source.alerts()
    assert [a.name for a in alerts] == ["?", "CPU"]
    odd, cpu = alerts
    assert odd.labels == {} and odd.summary == "" and odd.starts_at is None
    assert cpu.labels == {"alertname": "CPU", "severity": "page", "n": "3"}
    assert cpu.severity == "page" and cpu.summary == "7" and cpu.source == kind
    assert cpu.starts_at is not None and cpu.starts_at.minute == 50
    assert {a.state for a in alerts} == ({"active"} if kind == "alertmanager" else {"3", "firing"})
