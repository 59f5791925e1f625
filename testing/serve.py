"""A real `triage serve` process on 127.0.0.1, Alertmanager v4 bodies, and a local Slack-shaped
receiver that records what it is sent (or hangs, or fails) — for the tests of the receiver."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
import yaml

from testing.backends import free_port

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "s3rve-token-for-tests"


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


def alert(name: str, service: str, starts: float, *, status: str = "firing", ends: float | None = None,
          fingerprint: str | None = None, **labels: str) -> dict[str, Any]:
    return {"status": status, "labels": {"alertname": name, "service": service, "namespace": "shop", **labels},
            "annotations": {"summary": f"{name} on {service}", "runbook_url": "https://runbooks.example/" + name,
                            "description": "p95 above 1s for 5m"},
            "startsAt": rfc3339(starts), "endsAt": rfc3339(ends) if ends else "0001-01-01T00:00:00Z",
            "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=up",
            "fingerprint": fingerprint or hashlib.sha256(f"{name}\0{service}".encode()).hexdigest()[:16]}


def notification(alerts: Sequence[Mapping[str, Any]], *, group_key: str, status: str = "firing") -> dict[str, Any]:
    """Alertmanager's webhook body, version 4, as it sends it."""
    common = dict(alerts[0]["labels"]) if len(alerts) == 1 else {"service": alerts[0]["labels"]["service"]}
    return {"version": "4", "groupKey": group_key, "truncatedAlerts": 0, "status": status,
            "receiver": "triage", "groupLabels": {"alertname": alerts[0]["labels"]["alertname"]},
            "commonLabels": common, "commonAnnotations": {}, "externalURL": "http://127.0.0.1:9093",
            "alerts": list(alerts)}


class Server:
    def __init__(self, proc: subprocess.Popen, url: str, log: Path) -> None:
        self.proc, self.url, self.log = proc, url, log
        self.http = requests.Session()
        self.http.trust_env = False

    def post(self, body: Any, *, token: str | None = TOKEN, raw: bytes | None = None) -> requests.Response:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else json.dumps(body).encode()
        return self.http.post(self.url + "/v1/alertmanager", data=data, headers=headers, timeout=10)

    def get(self, path: str, *, token: str | None = TOKEN) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.get(self.url + path, headers=headers, timeout=10)

    def incidents(self) -> list[dict[str, Any]]:
        return self.get("/incidents").json()

    def wait_for(self, predicate, timeout: float = 60.0, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            if self.proc.poll() is not None:
                raise AssertionError(f"triage serve exited {self.proc.returncode}:\n{self.stderr()}")
            time.sleep(0.1)
        raise AssertionError(f"{what} not reached in {timeout}s:\n{self.stderr()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.http.close()

    def stderr(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def write_config(directory: Path, *, prometheus: str, serve: Mapping[str, Any] | None = None,
                 sinks: Sequence[Mapping[str, Any]] = ()) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "token").write_text(TOKEN + "\n")
    doc: dict[str, Any] = {
        "prometheus": {"url": prometheus, "timeout": "5s"},
        "serve": {"token_file": "token", "settle": "0s", "workers": 2, "spool_dir": "spool",
                  "records_dir": "records", "retry_for": "20s", "drain": "20s", **(serve or {})},
    }
    if sinks:
        doc["sinks"] = list(sinks)
    path = directory / "triage.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def start(config: Path, *, env: Mapping[str, str] | None = None, port: int | None = None,
          log_name: str = "serve.log") -> Server:
    port = port or free_port()
    log = config.parent / log_name
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    full_env.update({"PYTHONPATH": str(ROOT), **(env or {})})
    with open(log, "ab") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "triage", "serve", "--config", str(config), "--listen", f"127.0.0.1:{port}",
             "--no-kubernetes", "--no-docker"],
            stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=config.parent, env=full_env)
    server = Server(proc, f"http://127.0.0.1:{port}", log)

    def ready() -> bool:
        try:
            return server.http.get(server.url + "/readyz", timeout=1).status_code == 200
        except requests.RequestException:
            return False
    try:
        server.wait_for(ready, timeout=30, what="/readyz")
    except BaseException:
        server.stop(signal.SIGKILL)
        raise
    return server


class FakeSlack:
    """An HTTP receiver shaped like a Slack incoming webhook: records each JSON body; `mode` makes
    it answer 200, fail with 500, or hang without answering."""

    def __init__(self, mode: str = "ok") -> None:
        self.mode = mode
        self.received: list[dict[str, Any]] = []
        self.received_at: list[float] = []  # time.monotonic() of each, for bench/serve.py
        self.attempts = 0
        self._release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                outer.attempts += 1
                if outer.mode == "hang":
                    outer._release.wait(60)
                    return
                if outer.mode == "fail":
                    self.send_response(500)
                    self.end_headers()
                    return
                outer.received.append(json.loads(body))
                outer.received_at.append(time.monotonic())
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/services/T000/B000/XXXXSECRET"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FakeSlack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
