"""LocalServer: how every hand-written HTTP server of the tests and benches listens, so that
each fake is only its answers.

A threaded stdlib server on 127.0.0.1 (port 0: the kernel picks a free one, so parallel runs
never collide and nothing but loopback is ever reachable), a request handler that logs
nothing (pytest's output, and the stderr a fault cell judges, stay clean) and hands every
served method to `dispatch`, optional TLS, and start/stop as a context manager. The knobs
are class attributes because each fake has always differed in them (HTTP/1.1 keep-alive for
the Kubernetes clients, joined handler threads for FakePrometheus's delayed replies) and the
tests rely on those differences.
"""

from __future__ import annotations

import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, TypeVar

Self = TypeVar("Self", bound="LocalServer")


class LocalServer:
    methods: ClassVar[tuple[str, ...]] = ("GET", "POST")
    protocol_version: ClassVar[str] = "HTTP/1.0"
    # True: a handler stuck in a slow answer does not hold up stop(); False: stop() waits for it.
    daemon_threads: ClassVar[bool] = True
    disable_nagle_algorithm: ClassVar[bool] = False
    # A client hanging up mid-answer (triage at a cap or a deadline) is expected by some fakes:
    # the default handler would print a traceback into the stderr under test.
    quiet_errors: ClassVar[bool] = False
    thread_name: ClassVar[str | None] = None

    def __init__(self, *, tls: tuple[str, str] | None = None) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.server.daemon_threads = self.daemon_threads
        if self.quiet_errors:
            self.server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.port: int = self.server.server_address[1]
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, name=self.thread_name, daemon=True)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        def serve(handler: BaseHTTPRequestHandler) -> None:
            owner.dispatch(handler, handler.command)

        def quiet(handler: BaseHTTPRequestHandler, *args: Any) -> None:
            pass

        attrs: dict[str, Any] = {"protocol_version": self.protocol_version,
                                 "disable_nagle_algorithm": self.disable_nagle_algorithm, "log_message": quiet}
        for method in self.methods:
            attrs[f"do_{method}"] = serve
        return type("Handler", (BaseHTTPRequestHandler,), attrs)

    def dispatch(self, h: BaseHTTPRequestHandler, method: str) -> None:
        raise NotImplementedError

    def start(self: Self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self: Self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
