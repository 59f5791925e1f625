"""CountingProxy: a loopback HTTP proxy in front of a real backend that counts what triage sends
(requests per run, the most in flight at once, the slowest and largest answers), and on demand
answers 503 + Retry-After instead, to show there is no retry storm. Used by the load and stress
benches."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

from testing.servers.base import LocalServer


class CountingProxy(LocalServer):
    """Forwards to `upstream`, counting requests and the most in flight at once.

    `fail(n)` decides per request (n counts from 1): True answers 503 + Retry-After instead.
    """

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization",
           "proxy-authenticate", "host", "content-length"}

    def __init__(self, upstream: str, retry_after: str = "1") -> None:
        self.upstream = upstream.split("://", 1)[1].rstrip("/")
        self.retry_after = retry_after
        self.fail: Callable[[int, str], bool] = lambda n, path: False
        self._lock = threading.Lock()
        self.requests = 0
        self.failed = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.times: list[float] = []
        self.slowest = 0.0
        self.largest = 0
        self._local = threading.local()
        super().__init__()

    def dispatch(self, h: BaseHTTPRequestHandler, method: str) -> None:
        self._handle(h)

    def reset(self, fail: Callable[[int, str], bool] | None = None) -> None:
        # Requests a run gave up on (its timeout) are still with the backend: let them finish,
        # or they would count as in flight in the next run and load the backend during it.
        deadline = time.monotonic() + 900
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.2)
        with self._lock:
            self.requests = self.failed = self.max_in_flight = self.largest = 0
            self.slowest = 0.0
            self.times = []
            self.fail = fail or (lambda n, path: False)

    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = http.client.HTTPConnection(self.upstream, timeout=600)
        return conn

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else None
        began = time.monotonic()
        with self._lock:
            self.requests += 1
            n = self.requests
            self.times.append(began)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            refuse = self.fail(n, h.path)
            if refuse:
                self.failed += 1
        try:
            if refuse:
                data = b'{"status":"error","errorType":"unavailable","error":"overloaded, try later"}'
                h.send_response(503)
                h.send_header("Content-Type", "application/json")
                h.send_header("Retry-After", self.retry_after)
                h.send_header("Content-Length", str(len(data)))
                h.end_headers()
                h.wfile.write(data)
                return
            headers = {k: v for k, v in h.headers.items() if k.lower() not in self.HOP}
            for attempt in range(2):
                conn = self._conn()
                try:
                    conn.request(h.command, h.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    break
                except (http.client.HTTPException, OSError):
                    conn.close()
                    self._local.conn = None
                    if attempt:
                        raise
            h.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in self.HOP:
                    h.send_header(k, v)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            with self._lock:
                self.slowest = max(self.slowest, time.monotonic() - began)
                self.largest = max(self.largest, len(data))
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with self._lock:
                self.in_flight -= 1

