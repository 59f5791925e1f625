"""Alertmanager behind a tenant front (Mimir's multi-tenant Alertmanager, issue 18 item 3):
`alertmanager.headers` / `headers_env` go with every request to it, the tenant picks the real
prometheus-alertmanager that answers, a missing or wrong tenant is one clear line (exit 3), a
tenant from the environment never reaches output or errors, and Prometheus' headers are not sent
to Alertmanager unasked: the refusal says where to set them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from testing.backends import alertmanager, post_alerts
from testing.cli import run_cli
from testing.servers.tenant_proxy import TenantProxy
from tests.conftest import need

pytestmark = pytest.mark.backend
SECRET_TENANT = "tenant-s3cr3t-77a1"


@pytest.fixture(scope="module")
def front(tmp_path_factory):
    need("prometheus-alertmanager")
    tmp = tmp_path_factory.mktemp("amtenants")
    with alertmanager(tmp / "a") as am_a, alertmanager(tmp / "b") as am_b:
        post_alerts(am_a.url, [{"labels": {"alertname": "PaymentSlow", "service": "payment", "namespace": "shop",
                                           "severity": "warning"}, "annotations": {"summary": "payment is slow"}}])
        post_alerts(am_b.url, [{"labels": {"alertname": "CartDown", "service": "cart", "namespace": "shop",
                                           "severity": "critical"}}])
        with TenantProxy({"shop-a": am_a.url, SECRET_TENANT: am_b.url}) as proxy:
            yield proxy


def _config(tmp: Path, am: dict, prometheus: dict | None = None) -> Path:
    path = tmp / "triage.yaml"
    doc: dict = {"alertmanager": am}
    if prometheus:
        doc["prometheus"] = prometheus
    path.write_text(yaml.safe_dump(doc))
    return path


def _alerts(cfg: Path, env: dict | None = None):
    return run_cli(["alerts", "--config", str(cfg), "-o", "json"], env=env)


def _reasons(result) -> list[str]:
    """Why a source was not read: one line each, in the document (and nothing on stderr)."""
    reasons = [s["reason"] for s in json.loads(result.stdout)["skipped"]]
    assert all("\n" not in x for x in reasons) and not result.stderr.strip(), result.stderr
    return reasons


def _names(result) -> list[str]:
    return sorted(a["alertname"] for a in json.loads(result.stdout)["alerts"])


def test_the_tenant_header_picks_the_alertmanager(front, tmp_path):
    front.seen.clear()
    r = _alerts(_config(tmp_path, {"url": front.url, "headers": {"X-Scope-OrgID": "shop-a"}}))
    assert r.code == 1 and _names(r) == ["PaymentSlow"], r.stderr
    assert front.seen and all(h.get("X-Scope-OrgID") == "shop-a" for h, _ in front.seen)


def test_a_tenant_from_the_environment_is_sent_and_never_shown(front, tmp_path):
    cfg = _config(tmp_path, {"url": front.url, "headers_env": {"X-Scope-OrgID": "AM_TENANT"}})
    r = _alerts(cfg, env={"AM_TENANT": SECRET_TENANT})
    assert r.code == 2 and _names(r) == ["CartDown"], r.stderr
    assert SECRET_TENANT not in r.stdout + r.stderr
    table = run_cli(["--debug", "alerts", "--config", str(cfg)], env={"AM_TENANT": SECRET_TENANT})
    assert table.code == 2 and SECRET_TENANT not in table.stdout + table.stderr


def test_no_tenant_or_a_wrong_one_is_one_clear_line(front, tmp_path):
    r = _alerts(_config(tmp_path, {"url": front.url}))
    [line] = _reasons(r)
    assert r.code == 3 and "rejected the credentials (HTTP 401): no org id" in line, line
    r = _alerts(_config(tmp_path, {"url": front.url, "headers": {"X-Scope-OrgID": "shop-z"}}))
    [line] = _reasons(r)
    assert r.code == 3 and "shop-z is not allowed" in line, line
    # a wrong tenant that is a secret: the front echoes it, triage does not
    r = _alerts(_config(tmp_path, {"url": front.url, "headers_env": {"X-Scope-OrgID": "AM_TENANT"}}),
                env={"AM_TENANT": "wrong-s3cr3t-tenant-42"})
    [line] = _reasons(r)
    assert r.code == 3 and "HTTP 401" in line and "wrong-s3cr3t-tenant-42" not in r.stdout + r.stderr, line


def test_prometheus_headers_are_not_sent_to_alertmanager_and_the_refusal_says_so(front, tmp_path):
    front.seen.clear()
    cfg = _config(tmp_path, {"url": front.url},
                  prometheus={"url": "http://127.0.0.1:9", "headers_env": {"X-Scope-OrgID": "PROM_TENANT"}})
    r = run_cli(["alerts", "--config", str(cfg), "-o", "json"], env={"PROM_TENANT": "shop-a"})
    assert r.code == 3, r.stderr
    assert not any("X-Scope-OrgID" in h for h, _ in front.seen)
    line = " ".join(_reasons(r))
    assert "set alertmanager.headers or alertmanager.headers_env" in line and "X-Scope-OrgID" in line, line
    assert "shop-a" not in r.stdout + r.stderr
