"""FaultProxy: a threaded HTTP proxy in front of a real Prometheus or VictoriaMetrics that
injects one fault per test (delays, error statuses, broken bodies, rewritten values, a
backend that dies after N requests). Everything it does not break is forwarded unchanged,
so the queries that still answer get real data from the real backend."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from testing.servers.base import LocalServer


@dataclass
class Request:
    n: int                      # 1-based sequence number
    method: str
    path: str
    query: str                  # the PromQL `query` parameter ('' when none)
    headers: dict = field(default_factory=dict)


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict = b""
    headers: dict = field(default_factory=dict)


@dataclass
class Delay:
    seconds: float              # sleep (interruptible by release()), then forward


@dataclass
class Truncate:
    keep: float = 0.5           # forward, but send only this fraction of the body, then close


class Drop:
    """Close the connection without an answer (a backend killed mid-run)."""


@dataclass
class Trickle:
    """Send the headers (a large Content-Length), then one byte every `every` seconds until
    released or the client goes away: a body that never finishes but is never idle long."""
    every: float = 0.5
    length: int = 1_000_000


@dataclass
class Stream:
    """Send `status` and `headers`, then the chunks of `body()` (an iterator: a huge body
    without holding it), with Content-Length when given."""
    body: Callable[[], Any]
    status: int = 200
    headers: dict = field(default_factory=dict)
    length: int | None = None


@dataclass
class Rewrite:
    fn: Callable[[dict], dict]  # forward, then rewrite the JSON answer


Action = Any | None
Fault = Callable[[Request], Action]


class FaultProxy(LocalServer):
    protocol_version = "HTTP/1.1"
    quiet_errors = True
    thread_name = "fault-proxy"

    def __init__(self, upstream: str, fault: Fault | None = None, *,
                 tls: tuple[str, str] | None = None) -> None:
        self.upstream = upstream.rstrip("/")
        self.fault = fault
        self.seen: list[Request] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._session = requests.Session()
        super().__init__(tls=tls)

    def dispatch(self, h: BaseHTTPRequestHandler, method: str) -> None:
        self._handle(h)

    def stop(self) -> None:
        self.release()
        super().stop()
        self._session.close()

    def release(self) -> None:
        """End every pending delay now (the watchdog calls this so a hung run can finish)."""
        self._released.set()

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.seen)

    # ---- the wire ----
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        parts = urlsplit(h.path)
        params = parse_qs(parts.query)
        if body and "form" in (h.headers.get("Content-Type") or ""):
            params.update(parse_qs(body.decode("utf-8", "replace")))
        with self._lock:
            req = Request(len(self.seen) + 1, h.command, parts.path, (params.get("query") or [""])[0],
                          dict(h.headers))
            self.seen.append(req)
        action = self.fault(req) if self.fault else None
        if self._released.is_set():
            # the watchdog gave up on this run: end it fast with an error triage does not retry
            action = Reply(400, {"status": "error", "errorType": "bad_data", "error": "fault proxy released"})
        if isinstance(action, Drop):
            self._drop(h)
            return
        if isinstance(action, Reply):
            self._send(h, action.status, action.body, action.headers)
            return
        if isinstance(action, Trickle):
            self._trickle(h, action)
            return
        if isinstance(action, Stream):
            self._stream(h, action)
            return
        if isinstance(action, Delay):
            if self._released.wait(action.seconds):
                self._drop(h)
                return
        try:
            upstream = self._session.request(h.command, self.upstream + h.path, data=body or None,
                                             headers={k: v for k, v in h.headers.items()
                                                      if k.lower() in ("content-type", "authorization", "accept")},
                                             timeout=30)
        except requests.RequestException:
            self._send(h, 502, b"bad gateway")
            return
        content = upstream.content
        if isinstance(action, Rewrite):
            content = json.dumps(action.fn(json.loads(content))).encode()
        if isinstance(action, Truncate):
            h.send_response(upstream.status_code)
            h.send_header("Content-Type", upstream.headers.get("Content-Type", "application/json"))
            h.send_header("Content-Length", str(len(content)))
            h.end_headers()
            try:
                h.wfile.write(content[: max(1, int(len(content) * action.keep))])
                h.wfile.flush()
            except OSError:
                pass
            self._drop(h)
            return
        self._send(h, upstream.status_code, content,
                   {"Content-Type": upstream.headers.get("Content-Type", "application/json")})

    def _trickle(self, h: BaseHTTPRequestHandler, action: Trickle) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(action.length))
        h.end_headers()
        try:
            h.wfile.write(b"{")
            h.wfile.flush()
            for _ in range(action.length - 1):
                if self._released.wait(action.every):
                    break
                h.wfile.write(b" ")
                h.wfile.flush()
        except OSError:
            pass
        self._drop(h)

    def _stream(self, h: BaseHTTPRequestHandler, action: Stream) -> None:
        h.send_response(action.status)
        headers = {"Content-Type": "application/json", **action.headers}
        for key, value in headers.items():
            h.send_header(key, value)
        if action.length is not None:
            h.send_header("Content-Length", str(action.length))
        else:
            h.close_connection = True
        h.end_headers()
        try:
            for chunk in action.body():
                if self._released.is_set():
                    break
                h.wfile.write(chunk)
        except OSError:
            pass
        self._drop(h)

    @staticmethod
    def _drop(h: BaseHTTPRequestHandler) -> None:
        h.close_connection = True
        try:
            h.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: Any, headers: dict | None = None) -> None:
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        h.send_response(status)
        headers = dict(headers or {})
        headers.setdefault("Content-Type", "application/json")
        for key, value in headers.items():
            h.send_header(key, value)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        try:
            h.wfile.write(body)
        except OSError:
            pass


# ---- value rewrites ----------------------------------------------------------------------

def map_values(fn: Callable[[str], str]) -> Callable[[dict], dict]:
    """Every sample value of a matrix or vector answer through `fn`."""
    def rewrite(doc: dict) -> dict:
        for item in (doc.get("data") or {}).get("result") or []:
            if "values" in item:
                item["values"] = [[t, fn(v)] for t, v in item["values"]]
            if "value" in item:
                t, v = item["value"]
                item["value"] = [t, fn(v)]
        return doc
    return rewrite


def gzip_bomb(decoded: int, prefix: bytes = b'{"status":"success","data":{"resultType":"matrix","result":[') -> bytes:
    """A gzip body of `decoded` bytes (a JSON prefix, then spaces) that is ~1/1000 of it on the wire."""
    import zlib

    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b" " * (1 << 20)
    parts = [packer.compress(prefix)]
    left = decoded - len(prefix)
    while left > 0:
        parts.append(packer.compress(block[: min(left, len(block))]))
        left -= len(block)
    parts.append(packer.flush())
    return b"".join(parts)


def plain_body(size: int, prefix: bytes = b'{"status":"success","data":{"resultType":"matrix","result":[') \
        -> Callable[[], Any]:
    """A body of `size` bytes (a JSON prefix, then spaces), generated while it is sent."""
    def chunks():
        yield prefix
        block = b" " * (1 << 20)
        left = size - len(prefix)
        while left > 0:
            yield block[: min(left, len(block))]
            left -= len(block)
    return chunks


def empty_result(doc: dict) -> dict:
    if isinstance(doc.get("data"), dict):
        doc["data"]["result"] = []
    return doc


def huge_result(n: int) -> Callable[[dict], dict]:
    """The answer padded with `n` extra series of its first series' labels plus a distinct
    `pod` (a query matching 100,000 series: one service, very high cardinality)."""
    def rewrite(doc: dict) -> dict:
        result = (doc.get("data") or {}).get("result") or []
        if not result or "values" not in result[0]:
            return doc
        first = result[0]
        pad = [{"metric": {**first["metric"], "pod": f"junk-{i}"}, "values": first["values"][:3]}
               for i in range(n)]
        doc.setdefault("data", {})["result"] = result + pad
        return doc
    return rewrite
