"""Multi-tenant and distributed backends (issue 18 item 3): one triage.yaml points at the right
tenant — by bearer token or basic-auth user through a real `vmauth` in front of two real
VictoriaMetrics, by `X-Scope-OrgID` at a tenant front — Thanos' query parameters ride along,
a wrong tenant is one clear line, and a partial answer is said on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from testing.backends import victoria_metrics_from_import
from testing.backends.process import start
from testing.cli import run_cli
from testing.scenarios.generator import ServiceSpec
from testing.scenarios.library import WINDOW_END_S, export_dataset, iso
from testing.servers.tenant_proxy import TenantProxy
from tests.conftest import need

pytestmark = pytest.mark.backend
AT = iso(WINDOW_END_S)
TOKEN_A, USER_B, PASSWORD_B = "tenant-a-token-1f2e", "team-b", "b-password-9c8d"


@pytest.fixture(scope="module")
def two_tenants(tmp_path_factory):
    """VictoriaMetrics A holds `checkout`, B holds `payment`."""
    need("victoria-metrics")
    root = tmp_path_factory.mktemp("tenants")
    _, text_a = export_dataset([ServiceSpec("checkout", namespace="shop")])
    _, text_b = export_dataset([ServiceSpec("payment", namespace="shop")])
    with victoria_metrics_from_import(text_a, root / "a") as a, victoria_metrics_from_import(text_b, root / "b") as b:
        yield a, b


@pytest.fixture(scope="module")
def vmauth(two_tenants, tmp_path_factory):
    vmauth_bin = need("vmauth")
    a, b = two_tenants
    wd = tmp_path_factory.mktemp("vmauth")
    auth = wd / "auth.yml"
    auth.write_text(yaml.safe_dump({"users": [
        {"bearer_token": TOKEN_A, "url_prefix": a.url},
        {"username": USER_B, "password": PASSWORD_B, "url_prefix": b.url},
    ]}))
    with start("vmauth", lambda port: [vmauth_bin, f"-auth.config={auth}", f"-httpListenAddr=127.0.0.1:{port}",
                                       "-loggerOutput=stderr"], wd, "/health", 30.0) as backend:
        yield backend.url


def _config(tmp_path: Path, prometheus: dict) -> Path:
    path = tmp_path / "triage.yaml"
    path.write_text(yaml.safe_dump({"prometheus": prometheus,
                                    "services": {"checkout": {"namespace": "shop"}, "payment": {"namespace": "shop"}}}))
    return path


def _detect(config: Path, service: str, env: dict | None = None):
    result = run_cli(["detect", "--config", str(config), "--service", service, "--at", AT, "-o", "json"], env=env)
    doc = json.loads(result.stdout) if result.stdout.strip() else None
    return result, doc


def _rps(doc: dict) -> float | None:
    return doc["services"][0]["signals"]["rps"]["window"]


def test_vmauth_routes_by_bearer_token_and_by_user(vmauth, tmp_path):
    by_token = _config(tmp_path, {"url": vmauth, "bearer_token_env": "TENANT_A_TOKEN"})
    result, doc = _detect(by_token, "checkout", env={"TENANT_A_TOKEN": TOKEN_A})
    assert result.code in (0, 1, 2) and _rps(doc) and _rps(doc) > 0, result.stderr
    result, doc = _detect(by_token, "payment", env={"TENANT_A_TOKEN": TOKEN_A})
    assert doc is None or _rps(doc) is None, result.stdout      # payment lives in the other tenant

    by_user = tmp_path / "b"
    by_user.mkdir()
    cfg_b = _config(by_user, {"url": vmauth, "basic_auth": {"username": USER_B, "password_env": "TENANT_B_PW"}})
    result, doc = _detect(cfg_b, "payment", env={"TENANT_B_PW": PASSWORD_B})
    assert _rps(doc) and _rps(doc) > 0, result.stderr


def test_a_wrong_token_is_one_line_and_exit_3(vmauth, tmp_path):
    cfg = _config(tmp_path, {"url": vmauth, "bearer_token_env": "TENANT_A_TOKEN"})
    result = run_cli(["detect", "--config", str(cfg), "--service", "checkout", "--at", AT],
                     env={"TENANT_A_TOKEN": "not-the-token"})
    assert result.code == 3
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    # vmauth 1.79 answers 400 "cannot find the provided auth token": said as it is, on one line.
    assert len(lines) == 1 and "auth token" in lines[0] and "Traceback" not in result.stderr, result.stderr
    assert "not-the-token" not in result.stderr + result.stdout


@pytest.fixture
def tenant_front(two_tenants):
    a, b = two_tenants
    with TenantProxy({"shop-a": a.url, "shop-b": b.url}) as proxy:
        yield proxy


def test_the_tenant_header_and_thanos_parameters_go_with_every_query(tenant_front, tmp_path):
    cfg = _config(tmp_path, {"url": tenant_front.url, "headers_env": {"X-Scope-OrgID": "TENANT"},
                             "query_params": {"dedup": True, "partial_response": False}})
    result, doc = _detect(cfg, "checkout", env={"TENANT": "shop-a"})
    assert _rps(doc) and _rps(doc) > 0, result.stderr
    queries = [(h, p) for h, p in tenant_front.seen if "query" in p]
    assert queries
    assert all(h.get("X-Scope-OrgID") == "shop-a" for h, _ in queries)
    assert all(p.get("dedup") == ["true"] and p.get("partial_response") == ["false"] for _, p in queries)
    result, doc = _detect(cfg, "payment", env={"TENANT": "shop-b"})
    assert _rps(doc) and _rps(doc) > 0


def test_no_tenant_or_a_wrong_one_is_one_clear_line(tenant_front, tmp_path):
    plain = _config(tmp_path, {"url": tenant_front.url})
    result = run_cli(["detect", "--config", str(plain), "--service", "checkout", "--at", AT])
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert result.code == 3 and len(lines) == 1 and "401" in lines[0] and "no org id" in lines[0], result.stderr
    other = tmp_path / "o"
    other.mkdir()
    wrong = _config(other, {"url": tenant_front.url, "headers": {"X-Scope-OrgID": "shop-z"}})
    result = run_cli(["detect", "--config", str(wrong), "--service", "checkout", "--at", AT])
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert result.code == 3 and len(lines) == 1 and "shop-z is not allowed" in lines[0], result.stderr


def test_a_partial_answer_is_said_on_stderr_and_json_stays_clean(tenant_front, tmp_path):
    tenant_front.warnings = ["partial response: store 10.0.0.7:10901 unavailable"]
    cfg = _config(tmp_path, {"url": tenant_front.url, "headers": {"X-Scope-OrgID": "shop-a"}})
    result, doc = _detect(cfg, "checkout")
    assert doc is not None and doc["schema"] == "triage.detect/v1"
    warned = [x for x in result.stderr.splitlines() if "may be partial" in x]
    assert len(warned) == 1 and "store 10.0.0.7:10901 unavailable" in warned[0], result.stderr


@pytest.mark.parametrize("prometheus, words", [
    ({"headers": {"Authorization": "Bearer x"}}, "set by triage itself"),
    ({"headers": {"bad header": "x"}}, "not an HTTP header name"),
    ({"headers_env": {"X-Scope-OrgID": "NOT_SET_ANYWHERE"}}, "$NOT_SET_ANYWHERE, which is not set"),
    ({"query_params": {"query": "up"}}, "set by triage itself"),
])
def test_bad_header_and_parameter_config_is_one_line(tmp_path, prometheus, words):
    cfg = _config(tmp_path, {"url": "http://127.0.0.1:9", **prometheus})
    result = run_cli(["detect", "--config", str(cfg), "--service", "checkout", "--at", AT])
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert result.code == 3 and len(lines) == 1 and words in lines[0], result.stderr
