"""HTTP server metrics with prometheus-fastapi-instrumentator's names (CONTRACT.md).

``http_requests_total{handler,method,status}``, ``http_request_duration_seconds{handler,method}``
and ``http_requests_inprogress{handler,method}``. ``handler`` is the route template, never
the raw path, so label cardinality stays bounded; ``/metrics`` itself is not counted.
A handler that raises is answered 500 and counted as such, and its traceback is logged.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)

REQUESTS = Counter("http_requests_total", "Total number of requests by method, status and handler.",
                   ["handler", "method", "status"])
DURATION = Histogram("http_request_duration_seconds", "Latency of HTTP requests, by handler.",
                     ["handler", "method"], buckets=LATENCY_BUCKETS)
INPROGRESS = Gauge("http_requests_inprogress", "Number of HTTP requests in progress.", ["handler", "method"],
                   multiprocess_mode="livesum")

log = logging.getLogger("lab.http")


class MetricsMiddleware:
    """Pure ASGI middleware: cheap, and it sees the status even when the handler raises."""

    def __init__(self, app: Any, routes: dict[str, str], excluded: tuple[str, ...] = ("/metrics",)) -> None:
        self.app = app
        self.routes = routes
        self.excluded = excluded

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] in self.excluded:
            await self.app(scope, receive, send)
            return
        handler = self.routes.get(scope["path"], "none")
        method = scope["method"]
        status = {"code": 500}
        started = False

        async def send_wrapper(message):
            nonlocal started
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                started = True
            await send(message)

        t0 = time.perf_counter()
        gauge = INPROGRESS.labels(handler, method)
        gauge.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as e:  # noqa: BLE001 - a bug becomes a 500, as in any ASGI server
            status["code"] = 500
            log.error("unhandled error in %s %s: %s\n%s", method, scope["path"], e, traceback.format_exc())
            if not started:
                body = json.dumps({"error": "internal server error"}).encode()
                await send({"type": "http.response.start", "status": 500,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
        finally:
            gauge.dec()
            DURATION.labels(handler, method).observe(time.perf_counter() - t0)
            REQUESTS.labels(handler, method, str(status["code"])).inc()
