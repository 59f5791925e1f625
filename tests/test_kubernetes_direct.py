"""`triage.sources.kubernetes.direct`: the kubeconfig's cluster, user and TLS read without the
Kubernetes SDK (issue 17), against the local API-server fixture; the SDK's loader only for what
the direct reading does not handle (exec plugins and the like), with the same answers."""

from __future__ import annotations

import base64
import json
import os
import shutil
import ssl
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from testing.cli import run_cli
from testing.k8s import FakeKubeAPI, load_logs, load_manifests
from triage.errors import SourceError

TOKEN = "direct-token-9b3e51c7a2"
ALL = {("*", "*", "*")}
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for key in list(os.environ):
        if key.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            monkeypatch.delenv(key)


# ---- certificates ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    """A CA; a server certificate it signed for 127.0.0.1 and kube.test; a client certificate it
    signed; and a second, unrelated CA."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    d = tmp_path_factory.mktemp("pki")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True, cwd=d, timeout=60)

    for ca in ("ca", "other-ca"):
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.crt", "-days", "1",
            "-subj", f"/CN=triage test {ca}", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    leaf = "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n"  # what strict (RFC 5280) checking asks
    (d / "san.ext").write_text(leaf + "subjectAltName=IP:127.0.0.1,DNS:kube.test\n")
    (d / "client.ext").write_text(leaf + "extendedKeyUsage=clientAuth\n")
    for name, subj, ext in (("server", "/CN=kube-apiserver", "san.ext"), ("client", "/CN=triage/O=ops", "client.ext")):
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subj)
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.crt", "-days", "1", "-extfile", ext)
    (d / "only-dns.ext").write_text(leaf + "subjectAltName=DNS:kube.test\n")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "named.key", "-out", "named.csr", "-subj", "/CN=kube.test")
    run("x509", "-req", "-in", "named.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "named.crt", "-days", "1", "-extfile", "only-dns.ext")
    return {p.stem + p.suffix: p for p in d.iterdir()}


def _tls_api(pki: dict[str, Path], *, tokens=None, client_ca: bool = False, cert: str = "server") -> FakeKubeAPI:
    """The fixture over TLS; with `client_ca`, a client certificate signed by the CA is required."""
    api = FakeKubeAPI(load_manifests(), logs=load_logs(), tokens=tokens)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(pki[f"{cert}.crt"]), str(pki[f"{cert}.key"]))
    if client_ca:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(str(pki["ca.crt"]))
    api.server.socket = context.wrap_socket(api.server.socket, server_side=True)
    api.url = f"https://127.0.0.1:{api.port}"
    return api


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def _write(path: Path, server: str, *, cluster: dict | None = None, user: dict | None = None,
           contexts: tuple[str, ...] = ("prod",), current: str | None = "prod") -> Path:
    doc: dict = {"apiVersion": "v1", "kind": "Config",
                 "clusters": [{"name": "c", "cluster": {"server": server, **(cluster or {})}}],
                 "users": [{"name": "u", "user": dict(user or {})}],
                 "contexts": [{"name": n, "context": {"cluster": "c", "user": "u", "namespace": "shop"}}
                              for n in contexts]}
    if current is not None:
        doc["current-context"] = current
    path.write_text(yaml.safe_dump(doc))
    return path


# ---- helpers --------------------------------------------------------------------------------

def _source(path: Path, **kwargs):
    from triage.sources.kubernetes import KubernetesSource

    return KubernetesSource(kubeconfig=str(path), environment={"HOME": str(path.parent)}, timeout=5, **kwargs)


def _snapshot(path: Path, *, sdk: bool, monkeypatch=None):
    """The shop namespace's snapshot and the client class that read it (direct, or the SDK's)."""
    from triage.sources.kubernetes import read

    source = _source(path)
    if sdk:
        assert monkeypatch is not None
        monkeypatch.setattr(read, "load_direct", lambda **_: None)
    try:
        snap = source.snapshot(["shop"])
        return snap, type(source._api).__name__
    finally:
        source.close()
        if sdk:
            monkeypatch.undo()


def _health(path: Path, *args: str, sdk: bool = False, monkeypatch=None):
    from triage.sources.kubernetes import read

    if sdk:
        monkeypatch.setattr(read, "load_direct", lambda **_: None)
    try:
        result = run_cli(["health", "--no-docker", *args], env={"KUBECONFIG": str(path)})
    finally:
        if sdk:
            monkeypatch.undo()
    payload = json.loads(result.stdout) if result.stdout.strip().startswith("{") else None
    return result, payload


def _header(headers: dict, name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def _stable(payload: dict) -> dict:
    """The health JSON without what differs from one run to the next (times, durations)."""
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()
                    if not any(w in k for w in ("time", "generated", "duration", "elapsed", "_ms", "took"))}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    return strip(payload)


# ---- the same answers as the SDK ------------------------------------------------------------

def test_health_json_is_the_same_direct_and_through_the_sdk(tmp_path, monkeypatch):
    """Same kubeconfig, same fixture: the findings, the skipped sources and the exit code are the
    SDK path's, and the direct path imported neither the SDK nor urllib3."""
    with FakeKubeAPI(load_manifests(), logs=load_logs(), tokens={TOKEN: ALL}) as api:
        path = _write(tmp_path / "kc", api.url, user={"token": TOKEN})
        direct, d_payload = _health(path, "-o", "json")
        sdk, s_payload = _health(path, "-o", "json", sdk=True, monkeypatch=monkeypatch)
    assert direct.code == sdk.code == 2, direct.stderr + sdk.stderr
    assert d_payload is not None and s_payload is not None
    assert len(d_payload["findings"]) > 20
    assert _stable(d_payload) == _stable(s_payload)
    assert direct.stderr == sdk.stderr
    assert TOKEN not in direct.stdout + direct.stderr


def test_a_health_pass_imports_no_sdk_no_urllib3_no_requests(tmp_path):
    """A fresh process: `health` against a token kubeconfig never imports kubernetes, urllib3 or requests
    (nor tempfile, which only a client certificate's files need)."""
    with FakeKubeAPI(load_manifests(), logs=load_logs(), tokens={TOKEN: ALL}) as api:
        path = _write(tmp_path / "kc", api.url, user={"token": TOKEN})
        code = textwrap.dedent("""
            import json, sys
            from triage.cli import main
            try:
                main(["health", "--no-docker", "-o", "json"])
            except SystemExit:
                pass
            print(json.dumps(sorted(m for m in ("kubernetes", "urllib3", "requests", "tempfile")
                                    if m in sys.modules)), file=sys.stderr)   # tempfile: client certs only
        """)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")
               and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
        env.update(KUBECONFIG=str(path), PYTHONPATH=str(ROOT), HOME=str(tmp_path))
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    payload = json.loads(proc.stdout)
    assert any(f["reason"] == "CrashLoopBackOff" for f in payload["findings"])
    assert json.loads(proc.stderr.strip().splitlines()[-1]) == []


def test_a_wrong_token_says_the_same_line_as_the_sdk(tmp_path, monkeypatch):
    with FakeKubeAPI(load_manifests(), tokens={TOKEN: ALL}) as api:
        path = _write(tmp_path / "kc", api.url, user={"token": "expired-" + TOKEN})
        direct, d_payload = _health(path, "-o", "json")
        sdk, s_payload = _health(path, "-o", "json", sdk=True, monkeypatch=monkeypatch)
    assert direct.code == sdk.code == 3
    assert d_payload["skipped"] == s_payload["skipped"]
    assert "401 Unauthorized" in d_payload["skipped"][1]["reason"]
    assert "expired-" + TOKEN not in direct.stdout + direct.stderr


def test_forbidden_and_missing_permissions_are_the_same_lines(tmp_path, monkeypatch):
    rules = {("list", r, "shop") for r in ("pods", "events", "deployments")}
    with FakeKubeAPI(load_manifests(), logs=load_logs(), tokens={TOKEN: rules}) as api:
        path = _write(tmp_path / "kc", api.url, user={"token": TOKEN})
        direct, d_payload = _health(path, "-o", "json")
        sdk, s_payload = _health(path, "-o", "json", sdk=True, monkeypatch=monkeypatch)
    assert d_payload["skipped"] == s_payload["skipped"]
    assert any("forbidden (403): missing permission to list nodes" in s["reason"] for s in d_payload["skipped"])
    assert _stable(d_payload) == _stable(s_payload)


def test_an_unknown_context_is_the_same_usage_error_without_the_sdk(tmp_path, monkeypatch):
    path = _write(tmp_path / "kc", "http://127.0.0.1:9", user={"token": TOKEN}, contexts=("prod", "staging"))
    direct, _ = _health(path, "--context", "nope")
    sdk, _ = _health(path, "--context", "nope", sdk=True, monkeypatch=monkeypatch)
    assert direct.code == sdk.code == 3
    assert direct.stderr == sdk.stderr
    assert "--context nope: no such context" in direct.stderr and "(contexts: prod, staging)" in direct.stderr
    from triage.errors import UsageError

    source = _source(path, context="nope")
    with pytest.raises(UsageError, match=r"contexts: prod, staging"):
        source.default_namespace()
    assert source._k8s is None  # said without the SDK


def test_no_current_context_is_still_said_by_the_sdk_loader(tmp_path):
    from triage.errors import SourceError

    path = _write(tmp_path / "kc", "http://127.0.0.1:9", user={"token": TOKEN}, current=None)
    with pytest.raises(SourceError, match="current-context"):
        _source(path).default_namespace()


# ---- credentials ----------------------------------------------------------------------------

def test_token_file_relative_to_the_kubeconfig(tmp_path, monkeypatch):
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "token").write_text(TOKEN)
    with FakeKubeAPI(load_manifests(), tokens={TOKEN: ALL}) as api:
        path = _write(tmp_path / "kc", api.url, user={"tokenFile": "secrets/token"})
        monkeypatch.chdir("/")
        snap, client = _snapshot(path, sdk=False)
        sdk_snap, sdk_client = _snapshot(path, sdk=True, monkeypatch=monkeypatch)
    assert client == "DirectClient" and sdk_client == "ApiClient"
    assert len(snap.pods) == 13 and snap.problems == () and snap == sdk_snap


def test_basic_auth_sends_the_sdks_header_and_never_shows_the_password(tmp_path, monkeypatch):
    password = "pa55-wörd-9c1"
    with FakeKubeAPI(load_manifests()) as api:
        path = _write(tmp_path / "kc", api.url, user={"username": "admin", "password": password})
        snap, client = _snapshot(path, sdk=False)
        direct_auth = {_header(h, "Authorization") for _, _, h in api.requests}
        api.reset_requests()
        _snapshot(path, sdk=True, monkeypatch=monkeypatch)
        sdk_auth = {_header(h, "Authorization") for _, _, h in api.requests}
        result, _ = _health(path, "-o", "json")
    assert client == "DirectClient" and len(snap.pods) == 13
    assert direct_auth == sdk_auth == {"Basic " + base64.b64encode(f"admin:{password}".encode("latin-1")).decode()}
    assert password not in result.stdout + result.stderr


@pytest.mark.parametrize("how", ["file", "data"])
def test_a_client_certificate_and_the_ca_as_file_or_data(tmp_path, pki, how, monkeypatch):
    """The server requires a client certificate signed by its CA: the handshake only succeeds
    when the certificate and key (as files or as -data) are sent, and the server's is checked
    against the CA (as a file or as -data)."""
    if how == "file":
        cluster = {"certificate-authority": str(pki["ca.crt"])}
        user = {"client-certificate": str(pki["client.crt"]), "client-key": str(pki["client.key"])}
    else:
        cluster = {"certificate-authority-data": _b64(pki["ca.crt"])}
        user = {"client-certificate-data": _b64(pki["client.crt"]), "client-key-data": _b64(pki["client.key"])}
    tmp_before = set(os.listdir(os.environ.get("TMPDIR", "/tmp")))
    with _tls_api(pki, client_ca=True) as api:
        path = _write(tmp_path / "kc", api.url, cluster=cluster, user=user)
        snap, client = _snapshot(path, sdk=False)
        sdk_snap, sdk_client = _snapshot(path, sdk=True, monkeypatch=monkeypatch)
        no_cert = _write(tmp_path / "kc-nocert", api.url, cluster=cluster, user={})
        with pytest.raises(SourceError, match="is unreachable: TLS error"):
            _snapshot(no_cert, sdk=False)
    assert client == "DirectClient" and sdk_client == "ApiClient"
    assert len(snap.pods) == 13 and snap.problems == () and snap == sdk_snap
    left = {n for n in set(os.listdir(os.environ.get("TMPDIR", "/tmp"))) - tmp_before if n.startswith("triage-kube-")}
    assert left == set()  # the key written for ssl is gone


def test_relative_certificate_paths_resolve_against_the_kubeconfig(tmp_path, pki, monkeypatch):
    certs = tmp_path / "conf" / "certs"
    certs.mkdir(parents=True)
    for name in ("ca.crt", "client.crt", "client.key"):
        shutil.copy(pki[name], certs / name)
    with _tls_api(pki, client_ca=True) as api:
        path = _write(tmp_path / "conf" / "kc", api.url, cluster={"certificate-authority": "certs/ca.crt"},
                      user={"client-certificate": "certs/client.crt", "client-key": "certs/client.key"})
        monkeypatch.chdir(tmp_path)
        snap, client = _snapshot(path, sdk=False)
    assert client == "DirectClient" and len(snap.pods) == 13 and snap.problems == ()


def test_an_untrusted_server_and_insecure_skip_tls_verify(tmp_path, pki, monkeypatch):
    """Another CA's certificate: a TLS error said as one (not "not JSON": ssl's verify error is a ValueError); with
    insecure-skip-tls-verify the reads go through."""
    with _tls_api(pki, tokens={TOKEN: ALL}) as api:
        wrong = _write(tmp_path / "kc", api.url, cluster={"certificate-authority": str(pki["other-ca.crt"])},
                       user={"token": TOKEN})
        direct, d_payload = _health(wrong, "-o", "json")
        sdk, s_payload = _health(wrong, "-o", "json", sdk=True, monkeypatch=monkeypatch)
        insecure = _write(tmp_path / "kc-insecure", api.url, cluster={"insecure-skip-tls-verify": True},
                          user={"token": TOKEN})
        snap, client = _snapshot(insecure, sdk=False)
    assert direct.code == sdk.code == 3
    # The SDK (kubernetes 37) turns urllib3's SSLError into an ApiException of status 0 ("list events
    # ... failed with HTTP 0"); the direct path says what network_reason says of a TLS failure.
    assert d_payload["skipped"][1] == {"source": "kubernetes", "reason": f"the Kubernetes API at {api.url} is "
                                       "unreachable: TLS error: unable to get local issuer certificate"}
    sdk_reason = s_payload["skipped"][1]["reason"]
    assert sdk_reason.endswith("failed with HTTP 0") or "TLS" in sdk_reason
    assert client == "DirectClient" and len(snap.pods) == 13 and snap.problems == ()


def test_tls_server_name_is_the_name_checked(tmp_path, pki):
    """A certificate for kube.test only, the server at 127.0.0.1: tls-server-name makes it match."""
    with _tls_api(pki, tokens={TOKEN: ALL}, cert="named") as api:
        cluster = {"certificate-authority": str(pki["ca.crt"])}
        plain = _write(tmp_path / "kc", api.url, cluster=cluster, user={"token": TOKEN})
        with pytest.raises(SourceError, match="TLS error: IP address mismatch"):
            _snapshot(plain, sdk=False)
        named = _write(tmp_path / "kc-named", api.url, cluster={**cluster, "tls-server-name": "kube.test"},
                       user={"token": TOKEN})
        snap, client = _snapshot(named, sdk=False)
    assert client == "DirectClient" and len(snap.pods) == 13 and snap.problems == ()


def test_kubeconfig_list_first_file_wins(tmp_path):
    """$KUBECONFIG a:b: current-context from the first file that has it, each name from the first
    file that sets it, a relative tokenFile resolved against the file that names it."""
    with FakeKubeAPI(load_manifests(), tokens={TOKEN: ALL}) as api:
        first, second = tmp_path / "one", tmp_path / "two"
        first.mkdir()
        second.mkdir()
        (second / "token").write_text(TOKEN)
        (first / "config").write_text(yaml.safe_dump({
            "current-context": "prod",
            "contexts": [{"name": "prod", "context": {"cluster": "real", "user": "me", "namespace": "shop"}}],
            "clusters": [{"name": "real", "cluster": {"server": api.url}}]}))
        (second / "config").write_text(yaml.safe_dump({
            "current-context": "elsewhere",
            "contexts": [{"name": "prod", "context": {"cluster": "dead", "user": "me"}}],
            "clusters": [{"name": "real", "cluster": {"server": "http://127.0.0.1:9"}}],
            "users": [{"name": "me", "user": {"tokenFile": "token"}}]}))
        from triage.sources.kubernetes import KubernetesSource

        source = KubernetesSource(environment={"KUBECONFIG": f"{first / 'config'}{os.pathsep}{second / 'config'}"},
                                  timeout=5)
        snap = source.snapshot(["shop"])
        client = type(source._api).__name__
        source.close()
    assert client == "DirectClient" and source.default_namespace() == "shop"
    assert len(snap.pods) == 13 and snap.problems == ()


def test_an_exec_user_falls_back_to_the_sdk_and_still_works(tmp_path):
    plugin = tmp_path / "plugin.py"
    plugin.write_text("import json\nprint(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1', "
                      f"'kind': 'ExecCredential', 'status': {{'token': {TOKEN!r}}}}}))\n")
    with FakeKubeAPI(load_manifests(), tokens={TOKEN: ALL}) as api:
        path = _write(tmp_path / "kc", api.url, user={"exec": {
            "apiVersion": "client.authentication.k8s.io/v1", "command": sys.executable, "args": [str(plugin)],
            "interactiveMode": "Never"}})
        snap, client = _snapshot(path, sdk=False)
        result, payload = _health(path, "-o", "json")
    assert client == "ApiClient"
    assert len(snap.pods) == 13 and snap.problems == ()
    assert result.code == 2 and any(f["reason"] == "CrashLoopBackOff" for f in payload["findings"])
    assert TOKEN not in result.stdout + result.stderr


def test_in_cluster_is_read_directly(tmp_path, pki):
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    (sa / "token").write_text(TOKEN)
    (sa / "namespace").write_text("shop")
    shutil.copy(pki["ca.crt"], sa / "ca.crt")
    from triage.sources.kubernetes import KubernetesSource

    with _tls_api(pki, tokens={TOKEN: ALL}) as api:
        source = KubernetesSource(environment={"KUBERNETES_SERVICE_HOST": "127.0.0.1",
                                               "KUBERNETES_SERVICE_PORT": str(api.port), "HOME": str(tmp_path)},
                                  service_account_dir=str(sa), timeout=5)
        assert source.default_namespace() == "shop"
        snap = source.snapshot(["shop"])
        client = type(source._api).__name__
        where = source.where
        source.close()
    assert client == "DirectClient" and where == f"the Kubernetes API at https://127.0.0.1:{api.port}"
    assert len(snap.pods) == 13 and snap.problems == ()


def test_the_pool_keeps_connections_alive(tmp_path):
    """Pagination over one kept-alive connection at a time: far fewer connections than requests."""
    with FakeKubeAPI(load_manifests(), tokens={TOKEN: ALL}) as api:
        accepted = []
        original = api.server.get_request

        def counting():
            pair = original()
            accepted.append(pair[1])
            return pair

        api.server.get_request = counting  # type: ignore[method-assign]
        path = _write(tmp_path / "kc", api.url, user={"token": TOKEN})
        source = _source(path, page_size=1, max_concurrency=1)
        snap = source.snapshot(["shop"], nodes=False)
        source.close()
    assert len(snap.pods) == 13 and source.requests > 20
    assert type(source._api).__name__ == "DirectClient" and len(accepted) <= 2


# ---- what is left to the SDK, read without a server -----------------------------------------

@pytest.mark.parametrize("cluster, user", [
    ({}, {"exec": {"command": "kubelogin", "apiVersion": "client.authentication.k8s.io/v1"}}),
    ({}, {"auth-provider": {"name": "oidc", "config": {}}}),
    ({}, {"token": TOKEN, "as": "admin"}),
    ({"proxy-url": "http://127.0.0.1:3128"}, {"token": TOKEN}),
    ({"disable-compression": True}, {"token": TOKEN}),
    ({}, {"username": "admin"}),
])
def test_what_is_not_read_directly_goes_to_the_sdk(tmp_path, cluster, user):
    from triage.sources.kubernetes import direct

    path = _write(tmp_path / "kc", "https://127.0.0.1:9", cluster=cluster, user=user)
    assert direct.load(context=None, kubeconfig=str(path), env={}, service_account_dir=str(tmp_path)) is None
    plain = _write(tmp_path / "kc-plain", "https://127.0.0.1:9", user={"token": TOKEN})
    assert direct.load(context=None, kubeconfig=str(plain), env={}, service_account_dir=str(tmp_path)) is not None


def test_a_proxy_in_the_environment_goes_to_the_sdk(tmp_path):
    from triage.sources.kubernetes import direct

    path = _write(tmp_path / "kc", "https://127.0.0.1:9", user={"token": TOKEN})
    for key in ("HTTPS_PROXY", "http_proxy", "ALL_PROXY"):
        assert direct.load(context=None, kubeconfig=str(path), env={key: "http://127.0.0.1:3128"},
                           service_account_dir=str(tmp_path)) is None


def test_in_cluster_ipv6_host_in_brackets(tmp_path, pki):
    from triage.secrets import redact
    from triage.sources.kubernetes import direct

    (tmp_path / "token").write_text(TOKEN)
    shutil.copy(pki["ca.crt"], tmp_path / "ca.crt")
    conn = direct.load(context=None, kubeconfig=None, env={"KUBERNETES_SERVICE_HOST": "fd00::1",
                                                          "KUBERNETES_SERVICE_PORT": "443"},
                       service_account_dir=str(tmp_path))
    assert conn is not None and conn.server == "https://[fd00::1]:443" and conn.namespace == "default"
    assert conn.headers == {"Authorization": f"Bearer {TOKEN}"} and TOKEN not in redact(f"token {TOKEN}")


def test_a_gzip_answer_is_inflated_within_the_cap(tmp_path):
    """An API server (or a proxy in front of it) that gzips: decoded, and a bomb stops at the cap."""
    import gzip
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from triage.sources.bounded import AnswerTooLarge, read_bounded
    from triage.sources.plainhttp import Pool

    small = json.dumps({"items": [{"n": i} for i in range(1000)]}).encode()
    bodies = {"/small": gzip.compress(small), "/bomb": gzip.compress(b"0" * (64 << 20))}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802
            body = bodies[self.path.split("?")[0]]
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        pool = Pool(f"http://127.0.0.1:{server.server_address[1]}", 2)
        response = pool.get("/small", None, {}, 3, 3)
        assert read_bounded(response, cap=1 << 20, deadline=time.monotonic() + 5) == small
        response.close()
        response = pool.get("/bomb", None, {}, 3, 3)
        with pytest.raises(AnswerTooLarge):
            read_bounded(response, cap=1 << 20, deadline=time.monotonic() + 5)
        response.close()
        pool.close()
    finally:
        server.shutdown()
        server.server_close()
