"""`triage health` on a real Docker Engine (dockerd started by the fixture, busybox image made
with `docker import`), and the whole command at once: Docker + the Kubernetes API-server
fixture + a local HTTP server, producing every reason of the contract."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from testing.cli import run_cli
from testing.k8s import FakeKubeAPI, kubeconfig, load_logs, load_manifests
from tests.conftest import need
from triage.models import HEALTH_KINDS, HEALTH_REASONS

pytestmark = pytest.mark.backend


@pytest.fixture(scope="module")
def engine():
    need("dockerd")
    need("busybox")
    if os.geteuid() != 0:
        pytest.skip("dockerd needs root")
    from testing.docker_engine import run_scenario, start_engine

    with start_engine() as running:
        running.expected = run_scenario(running)
        yield running


def health(engine, *args: str, env: dict | None = None):
    result = run_cli(["health", *args, "-o", "json"], env={"DOCKER_HOST": engine.host, **(env or {})})
    return result, json.loads(result.stdout) if result.stdout.strip() else None


def by_name(payload: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in payload["findings"]:
        out.setdefault(f["name"], []).append(f)
    return out


def test_each_container_gets_its_reason(engine):
    result, payload = health(engine, "--no-kubernetes")
    assert result.code == 2, result.stderr
    found = by_name(payload)
    assert set(found) == set(engine.expected)
    for name, reason in engine.expected.items():
        main = [f for f in found[name] if f["reason"] != "ErrorLogs"]
        assert [f["reason"] for f in main] == [reason], (name, main)
        assert all(f["kind"] == "container" and f["namespace"] is None for f in found[name])
    oom = found["cache-oom"][0]
    assert oom["check"] == "container.oom" and oom["status"] == "critical"
    assert "exit 137" in oom["detail"] and "memory limit 8.0 MiB" in oom["detail"]
    loop = found["worker-loop"][0]
    assert loop["status"] == "critical" and "restart loop (restart policy always)" in loop["detail"]
    assert "last exit 3" in loop["detail"] or "started again" in loop["detail"]  # caught between two crashes
    sick = found["api-unhealthy"][0]
    assert sick["check"] == "container.health" and "database: unhealthy: connection refused" in sick["detail"]
    assert found["job-failed"][0]["detail"].startswith("exited with code 2")
    healthy = found["web-healthy"][0]
    assert healthy["status"] == "ok" and "healthy" in healthy["detail"]
    assert " of 64.0 MiB (" in healthy["detail"]  # memory against the limit, from one-shot stats
    assert found["job-done"][0]["status"] == "ok"
    logs = {name: f for name, fs in found.items() for f in fs if f["reason"] == "ErrorLogs"}
    assert set(logs) == {"worker-loop", "job-failed", "api-unhealthy"}
    assert logs["worker-loop"]["evidence"][0].startswith("panic: runtime error: index out of range")
    assert logs["job-failed"]["evidence"] == ["Traceback (most recent call last):", "KeyError: order_id"]
    assert logs["api-unhealthy"]["evidence"] == ["ERROR db: connection refused"]


def test_service_selects_containers_by_compose_label_or_name(engine, tmp_path):
    result, payload = health(engine, "--no-kubernetes", "--service", "api")
    assert result.code == 2
    assert set(by_name(payload)) == {"api-unhealthy"}
    result, payload = health(engine, "--no-kubernetes", "--service", "job-done")
    assert result.code == 0 and set(by_name(payload)) == {"job-done"}
    result, payload = health(engine, "--no-kubernetes", "--service", "nothing-here")
    assert result.code == 3
    assert payload["skipped"][-1] == {"source": "docker", "reason": "no containers of service nothing-here"}


def test_no_docker_socket_is_skipped(tmp_path):
    missing = tmp_path / "none.sock"
    result = run_cli(["health", "--no-kubernetes", "-o", "json"], env={"DOCKER_HOST": f"unix://{missing}"})
    payload = json.loads(result.stdout)
    assert result.code == 3
    assert payload["skipped"][-1] == {
        "source": "docker",
        "reason": f"no Docker daemon at unix://{missing} (socket not found; start Docker or set DOCKER_HOST)"}


@pytest.fixture
def endpoints():
    routes = {"/ready": (503, {"status": "unhealthy", "checks": {"database": "unhealthy: connection refused"}}, 0),
              "/slow": (200, {"status": "healthy"}, 1.1)}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            code, body, delay = routes[self.path]
            time.sleep(delay)
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_every_contract_reason_from_one_run(engine, endpoints, tmp_path):
    """Kubernetes (API-server fixture), Docker (real engine) and HTTP (local server) in one command:
    every reason of CONTRACT.md appears, the JSON has exactly the contract's shape, exit 2."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/health"
    with FakeKubeAPI(load_manifests(), logs=load_logs()) as api:
        kc = tmp_path / "kubeconfig"
        kc.write_text(kubeconfig(api.url, namespace="shop"))
        result, payload = health(engine, "--url", f"{endpoints}/ready", "--url", f"{endpoints}/slow", "--url", dead,
                                 env={"KUBECONFIG": str(kc)})
    assert result.code == 2, result.stderr
    assert payload["schema"] == "triage.health/v1" and payload["skipped"] == []
    reasons = {f["reason"] for f in payload["findings"]} - {None}
    assert reasons == set(HEALTH_REASONS)
    for f in payload["findings"]:
        assert set(f) - {"evidence"} == {"kind", "name", "namespace", "check", "status", "reason", "detail"}
        assert f["kind"] in HEALTH_KINDS
        assert f["status"] in ("ok", "warning", "critical")
        assert (f["reason"] is None) == (f["status"] == "ok")
        assert f["check"].split(".")[0] == f["kind"]
    kinds = {f["kind"] for f in payload["findings"]}
    assert kinds == set(HEALTH_KINDS)
