"""Live alerts (Prometheus rules, Alertmanager), basic auth on a real Prometheus, secrets kept out."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
import requests

from testing.backends import (
    always_firing_rules,
    free_port,
    post_alerts,
    prometheus_from_openmetrics,
)
from testing.cli import run_cli
from testing.scenarios.library import WINDOW_END_S
from tests.conftest import PROM_WEB_HASH, PROM_WEB_PASSWORD, PROM_WEB_USER, need
from triage.catalog import load_catalog
from triage.config import BackendSettings, load_settings
from triage.pipeline import resolve_target, run_detect
from triage.signals import make_windows
from triage.sources.alertmanager import AlertmanagerSource
from triage.sources.prometheus import PrometheusSource
from triage.timeutil import parse_duration, parse_instant

AT = "2026-11-10T20:01:00Z"


@pytest.fixture(scope="module")
def secured_prometheus(fleet_dataset, tmp_path_factory):
    """A real Prometheus that demands basic auth (its --web.config.file), holding the fleet."""
    need("prometheus")
    need("promtool")
    work = tmp_path_factory.mktemp("secured")
    openmetrics, _ = fleet_dataset
    (work / "data.om").write_text(openmetrics)
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", str(work / "data.om"),
                    str(work / "tsdb")], check=True, capture_output=True, timeout=120)
    (work / "web.yml").write_text(f"basic_auth_users:\n  {PROM_WEB_USER}: '{PROM_WEB_HASH}'\n")
    (work / "prometheus.yml").write_text("global: {}\n")
    port = free_port()
    log = open(work / "prometheus.log", "wb")
    proc = subprocess.Popen(
        ["prometheus", f"--config.file={work / 'prometheus.yml'}", f"--storage.tsdb.path={work / 'tsdb'}",
         "--storage.tsdb.retention.time=100y", f"--web.listen-address=127.0.0.1:{port}",
         f"--web.config.file={work / 'web.yml'}"],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                r = requests.get(f"{url}/-/ready", auth=(PROM_WEB_USER, PROM_WEB_PASSWORD), timeout=2)
                if r.status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError((work / "prometheus.log").read_text()[-2000:])
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_401_from_prometheus_is_one_line_exit_3(secured_prometheus, tmp_path):
    result = run_cli(["detect", "--prometheus-url", secured_prometheus, "--service", "checkout", "--at", AT],
                     cwd=tmp_path)
    assert result.code == 3
    [line] = result.stderr.strip().splitlines()
    assert "rejected the credentials (HTTP 401)" in line and secured_prometheus in line


def test_basic_auth_password_from_env_works_and_never_leaks(secured_prometheus, tmp_path):
    config = tmp_path / "triage.yaml"
    config.write_text(f"prometheus:\n  url: {secured_prometheus}\n  basic_auth: {{username: {PROM_WEB_USER}}}\n"
                      "services:\n  checkout: {namespace: shop, tier: 1}\n")
    env = {"TRIAGE_PROMETHEUS_PASSWORD": PROM_WEB_PASSWORD}
    ok = run_cli(["detect", "--config", str(config), "--service", "checkout", "--at", AT, "-o", "json"], env=env)
    assert ok.code == 2, ok.stderr
    assert json.loads(ok.stdout)["services"][0]["severity"] == "P0"
    wrong = run_cli(["--debug", "detect", "--config", str(config), "--service", "checkout", "--at", AT],
                    env={"TRIAGE_PROMETHEUS_PASSWORD": "not-the-password-9876"})
    assert wrong.code == 3
    for result in (ok, wrong):
        assert PROM_WEB_PASSWORD not in result.stdout + result.stderr
    assert "not-the-password-9876" not in wrong.stdout + wrong.stderr
    # a password in the URL's userinfo is not echoed either
    leaked = run_cli(["detect", "--prometheus-url",
                      secured_prometheus.replace("http://", "http://u:url-secret-555@").replace(
                          str(secured_prometheus.rsplit(":", 1)[1]), "9"),
                      "--service", "checkout", "--at", AT])
    assert leaked.code == 3 and "url-secret-555" not in leaked.stderr


def test_live_alerts_from_prometheus_rules_and_alertmanager(fleet_dataset, prometheus_server, alertmanager_server,
                                                            tmp_path_factory):
    """`now` is pinned to the window's end so the live APIs are consulted, as during a real incident."""
    work = tmp_path_factory.mktemp("rules")
    rules = work / "rules.yml"
    rules.write_text(always_firing_rules([{"alertname": "CheckoutErrorBudgetBurn", "service": "checkout",
                                           "severity": "critical"}]))
    post_alerts(alertmanager_server.url, [{"labels": {"alertname": "PaymentTimeouts", "service": "checkout",
                                                      "severity": "warning"},
                                           "annotations": {"summary": "bank API timing out"}}])
    openmetrics, _ = fleet_dataset
    with prometheus_from_openmetrics(openmetrics, work / "prom", rules_file=rules) as ruler:
        settings = load_settings(env={}, cwd=work)
        catalog = load_catalog()
        windows = make_windows(parse_instant(AT), parse_duration("15m"), parse_duration("1h"))
        metrics = PrometheusSource(BackendSettings(url=prometheus_server.url))
        target = resolve_target(settings, metrics, catalog, windows, service="checkout", all_services=False,
                                namespace="shop")
        report = run_detect(settings, catalog, metrics, windows, target, now=WINDOW_END_S + 60,
                            alert_sources=[PrometheusSource(BackendSettings(url=ruler.url)),
                                           AlertmanagerSource(BackendSettings(url=alertmanager_server.url))])
    [det] = report.services
    by_name = {a.name: a for a in det.alerts}
    assert by_name["CheckoutErrorBudgetBurn"].source == "prometheus"
    assert by_name["PaymentTimeouts"].source == "alertmanager"
    assert by_name["PaymentTimeouts"].summary == "bank API timing out"
    assert "HighLatencyP95" in by_name  # the recorded ALERTS series still counts
    assert report.skipped == ()


def test_unreachable_alertmanager_is_skipped_not_fatal(prometheus_server, tmp_path):
    settings = load_settings(env={}, cwd=tmp_path)
    catalog = load_catalog()
    windows = make_windows(parse_instant(AT), parse_duration("15m"), parse_duration("1h"))
    metrics = PrometheusSource(BackendSettings(url=prometheus_server.url))
    target = resolve_target(settings, metrics, catalog, windows, service="checkout", all_services=False,
                            namespace="shop")
    report = run_detect(settings, catalog, metrics, windows, target, now=WINDOW_END_S,
                        alert_sources=[AlertmanagerSource(BackendSettings(url="http://127.0.0.1:9"))])
    assert report.services[0].status.value == "critical"
    assert report.skipped == (("alertmanager at http://127.0.0.1:9",
                               "alertmanager at http://127.0.0.1:9 is unreachable: connection refused"),)
