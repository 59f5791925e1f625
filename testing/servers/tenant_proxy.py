"""TenantProxy: a loopback stand-in for a multi-tenant query front (Mimir, Cortex, a Thanos
querier behind a gateway). It routes each request by its `X-Scope-OrgID` header to that tenant's
real backend, answers 401 "no org id" without one and 401 for a tenant it does not know (what
Mimir says), records every request's headers and query parameters, and can add a `warnings`
list to the answers (a partial response, as Thanos and Mimir send when a store is down)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from testing.servers.base import LocalServer

TENANT_HEADER = "X-Scope-OrgID"


class TenantProxy(LocalServer):
    def __init__(self, tenants: Mapping[str, str]) -> None:
        self.tenants = {k: v.rstrip("/") for k, v in tenants.items()}
        self.warnings: list[str] = []
        self.seen: list[tuple[dict[str, str], dict[str, list[str]]]] = []
        self._lock = threading.Lock()
        super().__init__()

    def dispatch(self, h: BaseHTTPRequestHandler, method: str) -> None:
        headers = {k: v for k, v in h.headers.items()}
        params = parse_qs(urlsplit(h.path).query)
        with self._lock:
            self.seen.append((headers, params))
        tenant = h.headers.get(TENANT_HEADER)
        if not tenant:
            return self._send(h, 401, b"no org id\n", "text/plain")
        upstream = self.tenants.get(tenant)
        if upstream is None:
            return self._send(h, 401, f"the tenant {tenant} is not allowed\n".encode(), "text/plain")
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else None
        req = urllib.request.Request(upstream + h.path, data=body, method=method)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:   # noqa: S310 - loopback only
                status, data, kind = resp.status, resp.read(), resp.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            status, data, kind = exc.code, exc.read(), exc.headers.get("Content-Type", "")
        if self.warnings and status == 200 and "json" in kind:
            doc = json.loads(data)
            doc["warnings"] = list(self.warnings)
            data = json.dumps(doc).encode()
        self._send(h, status, data, kind or "application/json")

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, data: bytes, kind: str) -> None:
        h.send_response(status)
        h.send_header("Content-Type", kind)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)
