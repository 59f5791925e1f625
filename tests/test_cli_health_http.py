"""`triage health --url …` against a local HTTP server: healthy, 5xx, slow, hanging, refused,
and readiness bodies naming a failing dependency (seed 003, Spring Boot, IETF draft)."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from testing.cli import run_cli

SEED_003 = {"status": "unhealthy", "checks": {"database": "unhealthy: connection refused", "redis": "healthy"}}
SEED_003_BOOL = {"status": False, "checks": {"database": "healthy", "redis": "unhealthy: dial tcp 10.0.3.7:6379: "
                                                                          "i/o timeout"}}
ACTUATOR = {"status": "DOWN", "components": {"db": {"status": "DOWN", "details": {"error": "HikariPool-1 - "
                                                                                  "Connection is not available"}},
                                             "diskSpace": {"status": "UP"}}}
IETF = {"status": "fail", "checks": {"bank-api:responseTime": [{"status": "fail", "output": "p95 2843 ms"}],
                                     "uptime": [{"status": "pass"}]}}

ROUTES = {
    "/health": (200, {"status": "healthy"}, 0.0),
    "/ready": (503, SEED_003, 0.0),
    "/ready-bool": (503, SEED_003_BOOL, 0.0),
    "/actuator/health": (503, ACTUATOR, 0.0),
    "/ietf": (503, IETF, 0.0),
    "/degraded": (200, {"status": "ok", "checks": {"search-index": "unhealthy: stale by 2h"}}, 0.0),
    "/slow": (200, {"status": "healthy"}, 1.2),
    "/broken": (500, "Internal Server Error\n", 0.0),
    "/missing": (404, "not found\n", 0.0),
    "/hang": (200, {"status": "healthy"}, 5.0),
}


@pytest.fixture(scope="module")
def endpoints():
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            seen.append(self.path)
            code, body, delay = ROUTES.get(self.path.split("?")[0], (404, "no route\n", 0.0))
            time.sleep(delay)
            data = json.dumps(body).encode() if isinstance(body, dict) else body.encode()
            try:
                self.send_response(code)
                self.send_header("Content-Type", "application/json" if isinstance(body, dict) else "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.seen = seen  # type: ignore[attr-defined]
    server.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    yield server
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def probe(*args: str):
    result = run_cli(["health", "--no-kubernetes", "--no-docker", *args, "-o", "json"])
    return result, json.loads(result.stdout) if result.stdout.strip() else None


def test_each_endpoint_gets_its_reason(endpoints):
    base = endpoints.url
    dead = f"http://127.0.0.1:{closed_port()}/health"
    urls = [f"{base}{p}" for p in ("/health", "/ready", "/ready-bool", "/actuator/health", "/ietf", "/degraded",
                                   "/slow", "/broken", "/missing", "/hang")] + [dead]
    args = [a for u in urls for a in ("--url", u)]
    result, payload = probe(*args, "--timeout", "2")
    assert result.code == 2, result.stderr
    got = {f["name"].replace(base, ""): f for f in payload["findings"]}
    expect = {
        "/health": ("ok", None, "endpoint.http"),
        "/ready": ("critical", "DependencyDown", "endpoint.dependency"),
        "/ready-bool": ("critical", "DependencyDown", "endpoint.dependency"),
        "/actuator/health": ("critical", "DependencyDown", "endpoint.dependency"),
        "/ietf": ("critical", "DependencyDown", "endpoint.dependency"),
        "/degraded": ("warning", "DependencyDown", "endpoint.dependency"),
        "/slow": ("warning", "EndpointSlow", "endpoint.latency"),
        "/broken": ("critical", "EndpointDown", "endpoint.http"),
        "/missing": ("warning", "EndpointDown", "endpoint.http"),
        "/hang": ("critical", "EndpointDown", "endpoint.http"),
        dead: ("critical", "EndpointDown", "endpoint.http"),
    }
    assert {k: (v["status"], v["reason"], v["check"]) for k, v in got.items()} == expect
    assert all(f["kind"] == "endpoint" and f["namespace"] is None for f in payload["findings"])
    assert "dependency database down (unhealthy: connection refused)" in got["/ready"]["detail"]
    assert "HTTP 503" in got["/ready"]["detail"]
    assert "redis" in got["/ready-bool"]["detail"] and "i/o timeout" in got["/ready-bool"]["detail"]
    actuator = got["/actuator/health"]["detail"]
    assert "dependency db down" in actuator and "HikariPool" in actuator
    assert "bank-api:responseTime" in got["/ietf"]["detail"] and "p95 2843 ms" in got["/ietf"]["detail"]
    assert got["/hang"]["detail"] == "no answer within 2s"
    assert got[dead]["detail"] == "connection refused"
    assert "HTTP 500" in got["/broken"]["detail"] and "Internal Server Error" in got["/broken"]["detail"]
    assert payload["skipped"] == [{"source": "kubernetes", "reason": "disabled by --no-kubernetes"},
                                  {"source": "docker", "reason": "disabled by --no-docker"}]


def test_healthy_only_exits_zero(endpoints):
    result, payload = probe("--url", f"{endpoints.url}/health")
    assert result.code == 0 and payload["status"] == "ok"
    assert payload["findings"][0]["detail"].startswith("HTTP 200 in ")


def test_config_health_urls_of_the_service(endpoints, tmp_path):
    config = tmp_path / "triage.yaml"
    config.write_text(f"services:\n  checkout:\n    namespace: shop\n"
                      f"    health_urls: [{endpoints.url}/health, {endpoints.url}/ready]\n")
    result, payload = probe("--service", "checkout", "--config", str(config))
    assert result.code == 2
    assert [f["reason"] for f in payload["findings"]] == ["DependencyDown", None]


def test_credentials_and_query_never_printed(endpoints):
    url = endpoints.url.replace("http://", "http://ops:hunter2-pass@") + "/ready?token=s3cr3t-query"
    for output in ("json", "table", "markdown"):
        result = run_cli(["health", "--no-kubernetes", "--no-docker", "--url", url, "-o", output])
        assert result.code == 2
        text = result.stdout + result.stderr
        assert "hunter2-pass" not in text and "s3cr3t-query" not in text
        assert f"{endpoints.url}/ready".replace("http://", "") in text.replace("\\", "")


def test_usage_errors_exit_3():
    assert run_cli(["health", "--url", "ftp://example.com/x"]).code == 3
    assert "not an http(s) URL" in run_cli(["health", "--url", "ftp://example.com/x"]).stderr
    result = run_cli(["health", "--service", "a", "--all-services"])
    assert result.code == 3 and "either --service" in result.stderr
    assert run_cli(["health", "--window", "soon"]).code == 3
    assert run_cli(["health", "-o", "yaml"]).code == 3


def test_nothing_to_check_is_unknown():
    result, payload = probe()
    assert result.code == 3
    assert payload["findings"] == [] and len(payload["skipped"]) == 2
    assert payload["status"] == "unknown"
