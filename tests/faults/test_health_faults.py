"""`triage health` against a failing Kubernetes API server (the testing/k8s fake, with faults
injected per path) and a failing Docker Engine (the real dockerd of testing/docker_engine.py,
behind a unix-socket fault proxy). A source that fails is skipped with its reason, the others
still run; never a traceback, never a hang."""

from __future__ import annotations

import http.client
import json
import os
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import docker
import pytest

from testing.k8s import FakeKubeAPI, kubeconfig, load_logs, load_manifests, status_body
from tests.faults.conftest import check, run_bounded

TOKEN = "k8s-fault-token-7d1e5c9a3b"
ALL = {("*", "*", "*")}


class FaultKubeAPI(FakeKubeAPI):
    """The fake API server with `fault(path, query) -> (status, body, headers) | None`, and pages
    of `page` objects whatever limit the client asks (so a continue token is always used)."""

    def __init__(self, *args: Any, fault: Callable | None = None, page: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fault = fault
        self.page = page

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        from urllib.parse import parse_qs, urlsplit

        parts = urlsplit(h.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        hit = self.fault(parts.path, query) if self.fault else None
        if hit is not None:
            code, body, headers = (*hit, {})[:3] if len(hit) == 2 else hit
            if callable(body):  # a stream: body() yields the chunks; Content-Length is the headers' to say
                h.send_response(code)
                h.send_header("Content-Type", "application/json")
                for k, v in headers.items():
                    h.send_header(k, v)
                h.end_headers()
                try:
                    for chunk in body():
                        h.wfile.write(chunk)
                        h.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                h.close_connection = True
                return
            if isinstance(body, dict):
                data = json.dumps(body).encode()
            else:
                data = body if isinstance(body, bytes) else body.encode()
            h.send_response(code)
            h.send_header("Content-Type", "application/json")
            for k, v in headers.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            try:
                h.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if self.page and "limit" in query:
            h.path = h.path.replace(f"limit={query['limit'][0]}", f"limit={self.page}")
        super()._handle(h)


def health(kubecfg: Path, *args: str, limit: float = 20):
    result = run_bounded(["health", "--no-docker", "-n", "shop", *args, "-o", "json"],
                         env={"KUBECONFIG": str(kubecfg)}, limit=limit)
    payload = json.loads(result.stdout) if result.stdout.strip() else None
    return result, payload


def serve(tmp_path: Path, **kwargs: Any):
    api = FaultKubeAPI(load_manifests(), logs=load_logs(), tokens={TOKEN: ALL}, **kwargs)
    path = tmp_path / "kubeconfig"
    path.write_text(kubeconfig(api.url, token=TOKEN, namespace="shop"))
    return api, path


def reasons(payload: dict) -> str:
    return " | ".join(s["reason"] for s in payload["skipped"])


def test_401_is_skipped_with_its_reason(tmp_path):
    api, path = serve(tmp_path, fault=lambda p, q: (401, status_body(401, "Unauthorized", "Unauthorized"))
                      if p.startswith("/api") and p not in ("/api", "/apis") else None)
    with api:
        result, payload = health(path)
    check(result, {3}, secrets=[TOKEN])
    assert "401" in reasons(payload)


def test_403_for_one_kind_only_the_rest_runs(tmp_path):
    api, path = serve(tmp_path, fault=lambda p, q: (403, status_body(
        403, "Forbidden", 'events is forbidden: User "system:serviceaccount:ops:triage" cannot list resource '
        '"events"', {"kind": "events"})) if p.endswith("/events") else None)
    with api:
        result, payload = health(path)
    check(result, {2}, secrets=[TOKEN])
    assert "missing permission to list events" in reasons(payload)
    assert any(f["reason"] == "CrashLoopBackOff" for f in payload["findings"])


def test_404_namespace(tmp_path):
    api, path = serve(tmp_path, fault=lambda p, q: (404, status_body(404, "NotFound", 'namespaces "ghost" not found'))
                      if "/namespaces/ghost" in p else None)
    with api:
        result = run_bounded(["health", "--no-docker", "-n", "ghost", "-o", "json"], env={"KUBECONFIG": str(path)})
    check(result, {0, 3}, secrets=[TOKEN])
    payload = json.loads(result.stdout)
    assert 'namespaces "ghost" not found' in reasons(payload)


def test_404_namespace_is_not_blamed_on_the_cluster_version(tmp_path):
    api, path = serve(tmp_path, fault=lambda p, q: (404, status_body(404, "NotFound", 'namespaces "ghost" not found',
                                                                     {"name": "ghost", "kind": "namespaces"}))
                      if "/namespaces/ghost" in p else None)
    with api:
        result = run_bounded(["health", "--no-docker", "-n", "ghost", "-o", "json"], env={"KUBECONFIG": str(path)})
    check(result, {0, 3})
    assert "autoscaling/v2 is not served" not in reasons(json.loads(result.stdout))


def test_410_gone_on_a_paginated_list(tmp_path):
    """The continue token expired between pages: the kind is skipped (or re-listed), not half-read as whole."""
    api, path = serve(tmp_path, page=2, fault=lambda p, q: (410, status_body(
        410, "Expired", "The provided continue parameter is too old to display a consistent list result."))
        if "continue" in q and p.endswith("/pods") else None)
    with api:
        result, payload = health(path)
    check(result, {2, 3}, secrets=[TOKEN])
    assert "410" in reasons(payload) or "too old" in reasons(payload), payload["skipped"]


def test_429_is_skipped_and_bounded(tmp_path):
    api, path = serve(tmp_path, fault=lambda p, q: (429, status_body(429, "TooManyRequests", "too many requests"),
                                                    {"Retry-After": "1"}) if p.endswith("/pods") else None)
    with api:
        result, payload = health(path, limit=15)
        pods_requests = api.count("/api/v1/namespaces/shop/pods")
    check(result, {2, 3}, secrets=[TOKEN])
    assert "429" in reasons(payload)
    assert pods_requests <= 6, f"{pods_requests} pod lists against a throttling API server"


def test_timeout_is_skipped_not_hung(tmp_path):
    api, path = serve(tmp_path, delay=3.0)
    with api:
        result, payload = health(path, "--timeout", "0.5", limit=10)
    check(result, {3}, secrets=[TOKEN])
    assert "did not answer within 0.5s" in reasons(payload)


def test_body_that_is_not_json(tmp_path):
    api, path = serve(tmp_path, fault=lambda p, q: (200, "<html>proxy error</html>") if p.endswith("/pods") else None)
    with api:
        result, payload = health(path)
    check(result, {2, 3}, secrets=[TOKEN])
    assert "not JSON" in reasons(payload)


def test_pod_with_missing_fields(tmp_path):
    objects = load_manifests()
    objects += [{"kind": "Pod", "metadata": {"name": "bare-pod", "namespace": "shop"}},
                {"kind": "Pod", "metadata": {"name": "no-status", "namespace": "shop"},
                 "spec": {"containers": [{"name": "c"}]}, "status": {"containerStatuses": [{}]}}]
    api = FaultKubeAPI(objects, logs=load_logs(), tokens={TOKEN: ALL})
    path = tmp_path / "kubeconfig"
    path.write_text(kubeconfig(api.url, token=TOKEN, namespace="shop"))
    with api:
        result, payload = health(path)
    check(result, {2}, secrets=[TOKEN])
    assert any(f["reason"] == "CrashLoopBackOff" for f in payload["findings"])


def test_ansi_in_log_lines_never_reaches_the_table(tmp_path):
    logs = load_logs()
    key = next(k for k in logs if k[1].startswith("checkout") and k[3])
    logs[key] = "ERROR \x1b[2J\x1b]0;owned\x07\x1b[31mdatabase gone\x1b[0m\n" * 3 + logs[key]
    api = FaultKubeAPI(load_manifests(), logs=logs, tokens={TOKEN: ALL})
    path = tmp_path / "kubeconfig"
    path.write_text(kubeconfig(api.url, token=TOKEN, namespace="shop"))
    with api:
        for output in ("table", "markdown", "json"):
            result = run_bounded(["health", "--no-docker", "-n", "shop", "-o", output],
                                 env={"KUBECONFIG": str(path)})
            check(result, {2})
            assert "\x1b" not in result.stdout and "\x07" not in result.stdout, output


# ---- Docker -----------------------------------------------------------------------------

class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 30) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


class DockerFaultProxy:
    """A unix-socket HTTP proxy in front of a real dockerd; `before(path)` may act (remove a
    container) or return "drop" to close the connection unanswered (the engine died)."""

    def __init__(self, upstream_sock: str, sock: str, before: Callable[[str], Any],
                 after: Callable[[str], Any] = lambda path: None,
                 answer: Callable[[str], Any] = lambda path: None) -> None:
        """`answer(path)` may return (status, headers, chunks) to answer instead of the engine
        (chunks: an iterable of bytes, sent as they come; a client that hangs up ends it)."""
        proxy = self
        self.before = before
        self.after = after
        self.answer = answer
        self.upstream = upstream_sock

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def address_string(self) -> str:
                return "unix"

            def _any(self) -> None:
                if proxy.before(self.path) == "drop":
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                own = proxy.answer(self.path)
                if own is not None:
                    status, headers, chunks = own
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    try:
                        for chunk in chunks:
                            self.wfile.write(chunk)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    self.close_connection = True
                    return
                conn = _UnixHTTPConnection(proxy.upstream)
                conn.request(self.command, self.path, body=body,
                             headers={k: v for k, v in self.headers.items() if k.lower() != "connection"})
                resp = conn.getresponse()
                data = resp.read()
                proxy.after(self.path)
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "content-length", "connection"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_HEAD = do_DELETE = _any

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        self.server = Server(sock, Handler)
        self.host = f"unix://{sock}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> DockerFaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def engine():
    from tests.conftest import need

    need("dockerd")
    if os.geteuid() != 0:
        pytest.skip("dockerd needs root")
    from testing.docker_engine import start_engine

    with start_engine() as running:
        running.import_busybox()
        for name in ("web-1", "web-2", "web-3"):
            running.run(name, "exec sleep 3600")
        yield running


def docker_health(host: str, limit: float = 20, env: dict | None = None, args: tuple[str, ...] = ()):
    result = run_bounded(["health", "--no-kubernetes", "-o", "json", *args], env={"DOCKER_HOST": host, **(env or {})},
                         limit=limit)
    return result, (json.loads(result.stdout) if result.stdout.strip() else None)


def test_docker_socket_missing(tmp_path):
    result, payload = docker_health(f"unix://{tmp_path}/no-such.sock")
    check(result, {3})
    assert "docker" in {s["source"] for s in payload["skipped"]}


def test_docker_permission_denied(tmp_path, engine):
    """A socket the user may not open. As root, file modes do not stop us: drop to `nobody` for the call."""
    docker_health(f"unix://{engine.sock}")   # warmed up as root: see _warm_up
    sock = tmp_path / "denied.sock"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(sock))
    srv.listen(1)
    os.chmod(sock, 0)
    os.chmod(tmp_path, 0o755)
    for parent in tmp_path.parents:
        if str(parent) in ("/", "/tmp"):
            break
        os.chmod(parent, os.stat(parent).st_mode | 0o005)
    try:
        os.setegid(65534)
        os.seteuid(65534)
        try:
            result, payload = docker_health(f"unix://{sock}", env={"HOME": str(tmp_path),
                                                                   "XDG_CONFIG_HOME": str(tmp_path)})
        finally:
            os.seteuid(0)
            os.setegid(0)
    finally:
        srv.close()
    check(result, {3})
    assert "permission" in reasons(payload).lower(), payload["skipped"]


def test_docker_engine_stopped_mid_run(tmp_path, engine):
    """The list answers, then the engine is gone: docker skipped with its reason, no traceback."""
    seen: list[str] = []

    def before(path: str):
        seen.append(path)
        return "drop" if "/containers/" in path and "/json" in path and "containers/json" not in path else None

    with DockerFaultProxy(engine.sock, str(tmp_path / "p.sock"), before) as proxy:
        result, payload = docker_health(proxy.host)
    check(result, {3})
    assert "docker" in {s["source"] for s in payload["skipped"]}, payload


def test_container_removed_between_list_and_inspect(tmp_path, engine):
    engine.run("doomed", "exec sleep 3600")
    removed: list[str] = []

    def after(path: str):
        """The list has been read from the engine (doomed is in it); remove doomed before the client sees it.
        A loaded engine may fail a forced removal of a running container once (its kill not yet seen): again."""
        if path.split("?")[0].endswith("/containers/json") and not removed:
            deadline = time.monotonic() + 30
            while True:
                try:
                    engine.client.api.remove_container("doomed", force=True)
                    break
                except docker.errors.NotFound:
                    break
                except docker.errors.APIError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
            removed.append(path)

    with DockerFaultProxy(engine.sock, str(tmp_path / "p.sock"), lambda path: None, after) as proxy:
        # the engine's answer waits for the removal: a deadline longer than that can take when loaded
        result, payload = docker_health(proxy.host, limit=90, args=("--timeout", "60"))
    check(result, {0, 1, 2})
    assert removed
    names = {f["name"] for f in payload["findings"]}
    assert "doomed" not in names and {"web-1", "web-2", "web-3"} <= names, names


def _warm_up(tmp_path, args, **env):
    """The same command once as root first: this interpreter's stdlib is not readable by nobody,
    so a module first imported as nobody would fail to load (an artefact of the in-process test,
    not of triage; which modules are already loaded depends on what ran before in the process)."""
    run_bounded(args, env={"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path), **env}, cwd=tmp_path)


def test_unreadable_config_file(tmp_path):
    """A config the user may not read (mode 000, read as `nobody`): one line naming it, exit 3."""
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to nobody")
    os.chmod(tmp_path, 0o755)
    config = tmp_path / "triage.yaml"
    config.write_text("namespace: shop\n")
    _warm_up(tmp_path, ["health", "--no-kubernetes", "--no-docker", "--config", str(config)])
    os.chmod(config, 0)
    os.setegid(65534)
    os.seteuid(65534)
    try:
        result = run_bounded(["health", "--no-kubernetes", "--no-docker", "--config", str(config)],
                             env={"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)})
    finally:
        os.seteuid(0)
        os.setegid(0)
    check(result, {3})
    assert str(config) in result.stderr


def test_unsearchable_xdg_config_dir(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to nobody")
    os.chmod(tmp_path, 0o755)
    xdg = tmp_path / "xdg"
    (xdg / "triage").mkdir(parents=True)
    (xdg / "triage" / "config.yaml").write_text("namespace: shop\n")
    _warm_up(tmp_path, ["health", "--no-kubernetes", "--no-docker"], XDG_CONFIG_HOME=str(xdg))
    os.chmod(xdg / "triage", 0o700)
    os.setegid(65534)
    os.seteuid(65534)
    try:
        result = run_bounded(["health", "--no-kubernetes", "--no-docker"],
                             env={"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(xdg)}, cwd=tmp_path)
    finally:
        os.seteuid(0)
        os.setegid(0)
    check(result, {3})
