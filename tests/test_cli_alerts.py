"""`triage alerts` and `triage run --alerts` on real parts: a real Prometheus evaluates alert rules
over a generated incident (checkout's pool exhaustion, moved to end now) and sends them to a real
prometheus-alertmanager, which also holds alerts posted to it directly (one named by its
`container`, one naming no service; Alertmanager refuses `app.kubernetes.io/name` as a label name)."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
import requests
import yaml

from testing.backends import alertmanager, free_port, post_alerts, prometheus_from_openmetrics
from testing.cli import run_cli
from testing.scenarios.library import DATA_END_S, STEP_S, checkout, export_dataset, shift_openmetrics
from tests.conftest import need

pytestmark = pytest.mark.backend

RATIO = 'max(db_connection_pool_used{service="checkout"}) / max(db_connection_pool_size{service="checkout"})'
RUNBOOK = "https://runbooks.example/checkout-pool"


def checkout_now() -> str:
    openmetrics, _ = export_dataset([checkout()])
    return shift_openmetrics(openmetrics, (int(time.time()) - DATA_END_S) // STEP_S * STEP_S)


def _rule(name: str, expr: str, labels: dict, annotations: dict | None = None, for_: str = "0s") -> dict:
    return {"alert": name, "expr": expr, "for": for_, "labels": labels, "annotations": annotations or {}}


FIRING = [
    _rule("CheckoutPoolExhausted", f"{RATIO} >= 0.9",
          {"service": "checkout", "namespace": "shop", "severity": "page"},
          {"summary": "checkout's DB pool is exhausted", "description": "every pooled connection is in use",
           "runbook_url": RUNBOOK}),
    _rule("CheckoutErrors", "vector(1)", {"service": "checkout", "namespace": "shop", "severity": "warning"},
          {"summary": "checkout answers 5xx"}),
    _rule("PaymentSlow", "vector(1)", {"job": "payment", "namespace": "shop", "severity": "warning"},
          {"summary": "payment is slow"}),
]
PENDING = _rule("CheckoutSoon", "vector(1)", {"service": "checkout", "namespace": "shop", "severity": "critical"},
                {"summary": "not yet"}, for_="1h")


def _write_rules(path: Path, rules: list[dict]) -> None:
    path.write_text(yaml.safe_dump({"groups": [{"name": "t", "interval": "1s", "rules": rules}]}))


def _wait(fn, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def backends(tmp_path_factory):
    need("prometheus")
    need("promtool")
    need("prometheus-alertmanager")
    tmp = tmp_path_factory.mktemp("alerts")
    rules = tmp / "rules.yml"
    _write_rules(rules, FIRING)
    with alertmanager(tmp / "am") as am, \
            prometheus_from_openmetrics(checkout_now(), tmp / "prom", rules_file=rules,
                                        alertmanagers=[am.url.removeprefix("http://")],
                                        extra_args=["--rules.alert.resend-delay=1s"]) as prom:
        # The pending rule only now: the fixture's start waits for every rule of the file to fire.
        _write_rules(rules, [*FIRING, PENDING])
        prom.proc.send_signal(signal.SIGHUP)
        _wait(lambda: any(a["labels"]["alertname"] == "CheckoutSoon" and a["state"] == "pending"
                          for a in requests.get(f"{prom.url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]),
              "CheckoutSoon pending")
        post_alerts(am.url, [
            {"labels": {"alertname": "CartQueueLong", "container": "cart", "job": "kubelet", "namespace": "shop",
                        "severity": "info"}, "annotations": {"summary": "cart's queue is long"}},
            {"labels": {"alertname": "NodeDiskFull", "instance": "node-1", "severity": "warning"}},
        ])
        _wait(lambda: {a["labels"]["alertname"] for a in requests.get(f"{am.url}/api/v2/alerts", timeout=5).json()}
              >= {"CheckoutPoolExhausted", "PaymentSlow", "CartQueueLong"}, "Alertmanager holding the alerts")
        config = tmp / "triage.yaml"
        config.write_text(yaml.safe_dump({
            "prometheus": {"url": prom.url}, "alertmanager": {"url": am.url},
            "services": {"checkout": {"namespace": "shop", "database": "checkout", "tier": 1}},
        }))
        yield {"prom": prom, "am": am, "config": config, "tmp": tmp}


def _json(result) -> dict:
    return json.loads(result.stdout)


def test_lists_firing_and_pending_alerts_mapped_to_services(backends):
    r = run_cli(["alerts", "--config", str(backends["config"]), "-o", "json"])
    doc = _json(r)
    assert r.code == 2, r.stderr                      # a `page` alert is firing
    assert doc["schema"] == "triage.alerts/v1" and doc["skipped"] == []
    by_name = {a["alertname"]: a for a in doc["alerts"]}
    pool = by_name["CheckoutPoolExhausted"]
    assert [pool[k] for k in ("state", "service", "namespace", "severity")] == ["firing", "checkout", "shop", "page"]
    assert pool["runbook_url"] == RUNBOOK and pool["description"] == "every pooled connection is in use"
    assert sorted(pool["sources"]) == ["alertmanager", "prometheus"]   # one alert, told by both
    assert pool["since"] is not None
    assert by_name["PaymentSlow"]["service"] == "payment"            # named by `job`, the last label tried
    assert by_name["CartQueueLong"]["service"] == "cart"             # `container` is tried before `job`
    assert by_name["NodeDiskFull"]["service"] is None                # no label names a service
    assert by_name["CheckoutSoon"]["state"] == "pending"
    assert [a["state"] for a in doc["alerts"]].index("pending") > max(
        i for i, a in enumerate(doc["alerts"]) if a["state"] == "firing")   # firing first
    assert doc["counts"] == {"firing": 5, "pending": 1, "unmapped": 1}
    incidents = {i["service"]: i for i in doc["incidents"]}
    assert sorted(incidents) == ["cart", "checkout", "payment"]
    assert sorted(incidents["checkout"]["alerts"]) == ["CheckoutErrors", "CheckoutPoolExhausted"]


@pytest.mark.parametrize(("service", "code"), [("payment", 1), ("cart", 0), ("checkout", 2), ("nothing", 0)])
def test_exit_code_is_the_worst_firing_alert(backends, service, code):
    r = run_cli(["alerts", "--config", str(backends["config"]), "--service", service, "-o", "json"])
    assert r.code == code, r.stderr
    assert {a["service"] for a in _json(r)["alerts"]} <= {service}


def test_pending_alerts_alone_exit_0(backends):
    r = run_cli(["alerts", "--config", str(backends["config"]), "--service", "checkout", "-o", "json"])
    pending = [a for a in _json(r)["alerts"] if a["state"] == "pending"]
    assert [a["alertname"] for a in pending] == ["CheckoutSoon"] and pending[0]["status"] == "ok"


def test_a_backend_down_is_unknown_unless_something_critical_fires(backends):
    dead = f"http://127.0.0.1:{free_port()}"
    args = ["alerts", "--config", str(backends["config"]), "--alertmanager-url", dead, "-o", "json"]
    r = run_cli([*args, "--service", "payment"])
    assert r.code == 3
    assert _json(r)["skipped"][0]["source"].startswith("alertmanager at")
    r = run_cli([*args, "--service", "checkout"])
    assert r.code == 2 and _json(r)["skipped"]


def test_no_backend_at_all_is_one_line_and_exit_3(tmp_path):
    r = run_cli(["alerts"], cwd=tmp_path)
    assert r.code == 3
    assert r.stderr.count("\n") == 1 and "no Prometheus or Alertmanager" in r.stderr


def test_table_and_markdown_show_the_runbook(backends):
    table = run_cli(["alerts", "--config", str(backends["config"]), "--service", "checkout"])
    assert table.code == 2
    assert "CheckoutPoolExhausted" in table.stdout and f"runbook: {RUNBOOK}" in table.stdout
    assert "pending" in table.stdout
    md = run_cli(["alerts", "--config", str(backends["config"]), "-o", "markdown"])
    assert f"<{RUNBOOK}>" in md.stdout and "| firing | CheckoutPoolExhausted | checkout | shop | page |" in md.stdout


def test_detect_and_mitigate_print_the_alerts_annotations(backends):
    base = ["--config", str(backends["config"]), "--service", "checkout", "--window", "5m"]
    det = run_cli(["detect", *base, "-o", "json"])
    alerts = {a["alertname"]: a for a in _json(det)["services"][0]["alerts"]}
    assert alerts["CheckoutPoolExhausted"]["runbook_url"] == RUNBOOK
    assert alerts["CheckoutPoolExhausted"]["description"] == "every pooled connection is in use"
    table = run_cli(["detect", *base])
    assert f"runbook: {RUNBOOK}" in table.stdout and "summary: checkout's DB pool is exhausted" in table.stdout
    md = run_cli(["detect", *base, "-o", "markdown"])
    assert f"  - runbook: <{RUNBOOK}>" in md.stdout
    plan = ["mitigate", *base, "--no-health"]
    doc = _json(run_cli([*plan, "-o", "json"]))
    assert RUNBOOK in {a["runbook_url"] for a in doc["alerts"]}
    assert f"  - runbook: <{RUNBOOK}>" in run_cli([*plan, "-o", "markdown"]).stdout
    assert f"runbook: {RUNBOOK}" in run_cli(plan).stdout


def test_run_alerts_triages_each_service_once(backends):
    out = backends["tmp"] / "runs"
    r = run_cli(["run", "--alerts", "--config", str(backends["config"]), "--out", str(out),
                 "--no-kubernetes", "--no-docker", "--window", "5m"])
    # checkout (two firing alerts: one run) is critical; cart and payment have no data here (exit 3
    # each): the worst of them is checkout's.
    assert r.code == 2, r.stderr
    records = [json.loads(p.read_text()) for p in sorted(out.glob("*/incident.json"))]
    assert [rec["services"][0]["name"] for rec in records] == ["checkout"]
    rec = records[0]
    assert sorted(a["alertname"] for a in rec["triggered_by"]["alerts"]) == ["CheckoutErrors", "CheckoutPoolExhausted"]
    started = rec["triggered_by"]["started"]
    # The window ends at the first alert's start plus serve.settle (2m), or now when that is later.
    assert rec["window"]["end"] >= started
    assert (out / rec["id"] / "postmortem.md").exists()
    assert "no data for service" in r.stderr and "NodeDiskFull" in r.stderr


def test_run_alerts_refuses_a_window_end_of_its_own(backends):
    r = run_cli(["run", "--alerts", "--config", str(backends["config"]), "--at", "now"])
    assert r.code == 3 and "--alerts takes each window's end from its alert" in r.stderr


def test_alertmanager_alone_lists_and_run_alerts_needs_prometheus(backends, tmp_path):
    am = ["--alertmanager-url", backends["am"].url]
    r = run_cli(["alerts", *am, "-o", "json", "--service", "payment"], cwd=tmp_path)
    assert r.code == 1, r.stderr
    assert [(a["alertname"], a["sources"]) for a in _json(r)["alerts"]] == [("PaymentSlow", ["alertmanager"])]
    r = run_cli(["run", "--alerts", *am], cwd=tmp_path)
    assert r.code == 3 and "from Prometheus" in r.stderr and r.stderr.count("\n") == 1
