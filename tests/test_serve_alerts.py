"""The webhook bodies `triage serve` takes (Alertmanager v4, Grafana) and the ones it refuses."""

from __future__ import annotations

import json

import pytest

from testing.serve import alert, notification
from triage.serve.alerts import InvalidBody, parse, service_of

LABELS = ("service", "app.kubernetes.io/name", "container", "job")


def body(doc) -> bytes:
    return json.dumps(doc).encode()


def test_alertmanager_v4_body_becomes_a_notification():
    doc = notification([alert("HighLatency", "checkout", 1_789_000_000.0)], group_key='{}:{alertname="HighLatency"}')
    doc["alerts"][0]["startsAt"] = "2026-11-10T20:01:00.123456789Z"
    n = parse(body(doc))
    assert n.status == "firing" and n.group_key == '{}:{alertname="HighLatency"}'
    item = n.alerts[0]
    assert item.starts_at == pytest.approx(1_794_340_860.123456)
    assert item.ends_at is None  # Go's zero time
    assert item.annotations["runbook_url"].startswith("https://")
    assert service_of(n, LABELS) == ("checkout", "shop")


def test_service_label_order_is_configurable():
    doc = notification([alert("Down", "ignored", 1e9, job="api", container="web")], group_key="g")
    for a in doc["alerts"]:
        del a["labels"]["service"]
    doc["commonLabels"] = {}
    n = parse(body(doc))
    assert service_of(n, LABELS) == ("web", "shop")
    assert service_of(n, ("job",)) == ("api", "shop")
    assert service_of(n, ("app",)) is None


def test_grafana_unified_and_legacy_bodies():
    unified = notification([alert("CPU", "orders", 1e9)], group_key="grafana-g")
    unified.update({"version": "1", "orgId": 1, "state": "alerting", "title": "[FIRING:1] CPU"})
    assert parse(body(unified)).source == "grafana"
    legacy = {"ruleName": "Checkout latency", "ruleId": 7, "state": "alerting", "title": "[Alerting] x",
              "message": "p95 high", "tags": {"service": "checkout"}, "evalMatches": []}
    n = parse(body(legacy))
    assert (n.status, n.group_key, n.source) == ("firing", "grafana-legacy:7", "grafana")
    assert service_of(n, LABELS) == ("checkout", None)
    assert parse(body({**legacy, "state": "ok"})).status == "resolved"


@pytest.mark.parametrize("raw, status, words", [
    (b"not json", 400, "not JSON"),
    (b"[1, 2]", 422, "JSON object"),
    (body({"version": "4", "status": "firing", "alerts": []}), 422, "non-empty"),
    (body({"version": "9", "status": "firing", "alerts": [{}]}), 422, "version"),
    (body({"status": "burning", "alerts": [{"labels": {"a": "b"}}]}), 422, "'firing' or 'resolved'"),
    (body({"status": "firing", "alerts": [{"labels": {"a": 1}}]}), 422, "alerts[0].labels.a must be a string"),
    (body({"status": "firing", "alerts": [{"labels": {"a": "b"}, "startsAt": "yesterday"}]}), 422, "RFC 3339"),
    (body({"status": "firing", "alerts": [{"labels": {}}]}), 422, "labels is empty"),
])
def test_malformed_bodies_say_what_is_wrong(raw, status, words):
    with pytest.raises(InvalidBody) as caught:
        parse(raw)
    assert caught.value.status == status
    assert words in caught.value.message
