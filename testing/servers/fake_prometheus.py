"""FakePrometheus: a local HTTP server that answers from a script, for failures a real
Prometheus will not produce on demand (a 429 with Retry-After, a body that is not JSON)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from testing.servers.base import LocalServer


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0


def ok_matrix(series: list[dict]) -> Reply:
    return Reply(200, {"status": "success", "data": {"resultType": "matrix", "result": series}})


class FakePrometheus(LocalServer):
    """Replies are taken in order per path prefix; the last one repeats."""

    # stop() waits for a handler still sleeping through a Reply's delay
    daemon_threads = False

    def __init__(self, script: dict[str, list[Reply]] | Callable[[str], Reply]) -> None:
        self.script = script
        self.requests: list[dict] = []
        super().__init__()

    def dispatch(self, h: BaseHTTPRequestHandler, method: str) -> None:
        self._serve(h)

    def _reply_for(self, path: str) -> Reply:
        if callable(self.script):
            return self.script(path)
        for prefix, replies in self.script.items():
            if path.startswith(prefix):
                return replies.pop(0) if len(replies) > 1 else replies[0]
        return Reply(404, b"not found")

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        self.requests.append({"path": handler.path, "headers": dict(handler.headers)})
        reply = self._reply_for(handler.path)
        if reply.delay:
            time.sleep(reply.delay)
        body = reply.body
        if isinstance(body, dict):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        handler.send_response(reply.status)
        for key, value in reply.headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        try:
            handler.wfile.write(body)
        except BrokenPipeError:
            pass
