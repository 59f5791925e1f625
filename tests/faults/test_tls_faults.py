"""TLS settings are obeyed (issue 13, item 3): a real HTTPS fault proxy on 127.0.0.1 in front of
the real Prometheus, with certificates made by `openssl` for the test: a private CA and a server
certificate it signed, a self-signed one, one for another host name. `prometheus.ca_file` and
`insecure_skip_verify` win over REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE (set on many machines and in
containers); a TLS failure is one line that names the reason; `insecure_skip_verify` says so in
one warning line, not in Python warnings."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from testing.servers.fault_proxy import FaultProxy, Reply
from tests.faults.conftest import AT, call_bounded, check, run_bounded

pytestmark = pytest.mark.backend

TARGET = ["--service", "checkout", "--at", AT]


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """ca.pem signs server.pem (127.0.0.1); self.pem is self-signed (127.0.0.1); other.pem is
    self-signed for another host; wrong.pem is an unrelated CA (the 'wrong bundle')."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    d = tmp_path_factory.mktemp("pki")
    san = "subjectAltName=IP:127.0.0.1,DNS:localhost"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
             "-days", "3", "-subj", "/CN=triage test CA", cwd=d)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=127.0.0.1", cwd=d)
    (d / "ext.cnf").write_text(san + "\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "3", "-extfile", "ext.cnf", cwd=d)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "self.key", "-out", "self.pem",
             "-days", "3", "-subj", "/CN=127.0.0.1", "-addext", san, cwd=d)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out", "other.pem",
             "-days", "3", "-subj", "/CN=example.invalid", "-addext", "subjectAltName=DNS:example.invalid", cwd=d)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "wrong.key", "-out", "wrong.pem",
             "-days", "3", "-subj", "/CN=somebody else's CA", cwd=d)
    return d


@pytest.fixture(params=["private CA", "self-signed"])
def https(request, pki, prometheus_server):
    """(the HTTPS proxy, the CA file that makes it trusted)"""
    name = "server" if request.param == "private CA" else "self"
    trust = pki / ("ca.pem" if request.param == "private CA" else "self.pem")
    with FaultProxy(prometheus_server.url, tls=(str(pki / f"{name}.pem"), str(pki / f"{name}.key"))) as proxy:
        yield proxy, trust


def _config(tmp_path: Path, url: str, extra: str = "") -> Path:
    path = tmp_path / "triage.yaml"
    path.write_text(f"prometheus:\n  url: {url}\n  timeout: 5s\n{extra}")
    return path


ENVS = {
    "no bundle in the environment": {},
    "REQUESTS_CA_BUNDLE wrong": {"REQUESTS_CA_BUNDLE": "wrong.pem"},
    "CURL_CA_BUNDLE wrong": {"CURL_CA_BUNDLE": "wrong.pem"},
    "both wrong": {"REQUESTS_CA_BUNDLE": "wrong.pem", "CURL_CA_BUNDLE": "wrong.pem"},
}


def _env(pki: Path, name: str) -> dict:
    return {k: str(pki / v) for k, v in ENVS[name].items()}


@pytest.mark.parametrize("command", ["detect", "rca", "queries check"])
@pytest.mark.parametrize("env", list(ENVS))
def test_ca_file_wins_over_the_environment(https, pki, tmp_path, env, command):
    proxy, trust = https
    config = _config(tmp_path, proxy.url, f"  ca_file: {trust}\n")
    args = {"detect": ["detect", *TARGET], "rca": ["rca", *TARGET],
            "queries check": ["queries", "check", "--service", "checkout", "--at", AT]}[command]
    result = run_bounded([*args, "-o", "json", "--config", str(config)], env=_env(pki, env), cwd=tmp_path)
    check(result, {0, 1, 2})
    assert json.loads(result.stdout)
    assert proxy.count > 0
    assert result.stderr.strip() == "", result.stderr


@pytest.mark.parametrize("env", list(ENVS))
def test_insecure_skip_verify_wins_and_says_so_once(https, pki, tmp_path, env):
    proxy, _ = https
    config = _config(tmp_path, proxy.url, "  insecure_skip_verify: true\n")
    result = run_bounded(["rca", "--all-services", "--at", AT, "-o", "json", "--config", str(config)],
                         env=_env(pki, env), cwd=tmp_path)
    check(result, {0, 1, 2})
    assert json.loads(result.stdout)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "insecure_skip_verify" in lines[0] and "not verified" in lines[0], lines
    assert "Warning" not in result.stderr and "site-packages" not in result.stderr


REASONS = {
    # (server certificate, ca_file or None): the reason the one line must name
    "self-signed, no ca_file": ("self", None, "self-signed certificate"),
    "self-signed, another CA as ca_file": ("self", "wrong.pem", "self-signed certificate"),
    "private CA, not trusted": ("server", None, "unable to get local issuer certificate"),
    "private CA, another CA as ca_file": ("server", "wrong.pem", "unable to get local issuer certificate"),
    "another host name": ("other", "other.pem", "IP address mismatch, certificate is not valid for '127.0.0.1'"),
}


@pytest.mark.parametrize("command", ["detect", "rca --all-services", "run"])
@pytest.mark.parametrize("case", list(REASONS))
def test_a_tls_failure_is_one_line_naming_the_reason(pki, prometheus_server, tmp_path, case, command):
    cert, ca, reason = REASONS[case]
    with FaultProxy(prometheus_server.url, tls=(str(pki / f"{cert}.pem"), str(pki / f"{cert}.key"))) as proxy:
        config = _config(tmp_path, proxy.url, f"  ca_file: {pki / ca}\n" if ca else "")
        args = {"detect": ["detect", *TARGET], "rca --all-services": ["rca", "--all-services", "--at", AT],
                "run": ["run", *TARGET, "--no-kubernetes", "--no-docker", "--out", str(tmp_path / "out")]}[command]
        result = run_bounded([*args, "--config", str(config)], env=_env(pki, "REQUESTS_CA_BUNDLE wrong"),
                             cwd=tmp_path)
    check(result, {3})
    [line] = result.stderr.strip().splitlines()
    assert "prometheus at https://127.0.0.1" in line and "TLS" in line, line
    assert reason in line, line
    assert "_ssl.c" not in line and "HTTPSConnectionPool" not in line, line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("env", list(ENVS))
def test_alertmanager_obeys_its_ca_file(https, pki, env, monkeypatch):
    """Alertmanager (asked for live alerts) behind the same CA: its ca_file wins over the
    environment too. The source is asked directly: live alerts are only read for a window
    that ends now, and the test data is of another day."""
    from triage.config import BackendSettings
    from triage.sources.alertmanager import AlertmanagerSource

    proxy, trust = https
    proxy.fault = lambda r: Reply(200, []) if r.path == "/api/v2/alerts" else None
    for key, value in _env(pki, env).items():
        monkeypatch.setenv(key, value)
    source = AlertmanagerSource(BackendSettings(url=proxy.url, ca_file=str(trust), timeout=5.0))
    value, raised = call_bounded(source.alerts)
    assert raised is None, raised
    assert value == []


def test_alertmanager_tls_failure_names_the_reason(https, pki, monkeypatch):
    from triage.config import BackendSettings
    from triage.errors import SourceError
    from triage.sources.alertmanager import AlertmanagerSource

    proxy, _ = https
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki / "wrong.pem"))
    source = AlertmanagerSource(BackendSettings(url=proxy.url, timeout=5.0))
    _, raised = call_bounded(source.alerts)
    assert isinstance(raised, SourceError), raised
    assert raised.message.startswith(f"alertmanager at {proxy.url}: TLS error: "), raised.message
    assert ("self-signed certificate" in raised.message
            or "unable to get local issuer certificate" in raised.message), raised.message
