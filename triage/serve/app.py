"""The HTTP face of `triage serve` (Starlette on uvicorn): the Alertmanager/Grafana webhook, the
probes, the metrics and the read-only incident records.

Order on POST matters: the token is checked before the body is read, the size cap while it
is read, the schema before anything is written, and the 200 only after the spool file is on
disk. A refused body leaves no trace but a counter."""

from __future__ import annotations

import hmac
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from triage.errors import UsageError
from triage.serve.alerts import InvalidBody, parse, service_of
from triage.serve.settings import ServeSettings
from triage.serve.sinks import say
from triage.serve.spool import SpoolFull, read_json
from triage.serve.workers import Engine

Handler = Callable[[Request], Awaitable[Response]]


_CHALLENGE = {"WWW-Authenticate": "Bearer"}


class _TooLarge(Exception):
    pass


def _error(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers or None)


def _authorized(request: Request, cfg: ServeSettings) -> bool:
    if cfg.token is None:
        return True
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    expected = cfg.token.reveal().encode()
    # compare_digest on equal-length inputs only leaks the length of what was sent, not the token.
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), expected)


async def _body(request: Request, cap: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > cap:
        raise _TooLarge()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            raise _TooLarge()
    return bytes(body)


class _Api:
    """The handlers, sharing the settings, the engine and its metrics."""

    def __init__(self, cfg: ServeSettings, engine: Engine) -> None:
        self.cfg = cfg
        self.engine = engine
        self.metrics = engine.metrics

    def timed(self, route: str, handler: Handler) -> Handler:
        async def wrapped(request: Request) -> Response:
            started = time.perf_counter()
            response = await handler(request)
            self.metrics.inc("triage_serve_requests_total", route=route, code=str(response.status_code))
            self.metrics.observe("triage_serve_request_seconds", time.perf_counter() - started, route=route)
            return response
        return wrapped

    def refused(self, result: str, status: int, message: str, **headers: str) -> JSONResponse:
        self.metrics.inc("triage_serve_notifications_total", result=result)
        return _error(status, message, **headers)

    async def receive(self, request: Request) -> Response:
        cfg = self.cfg
        if not _authorized(request, cfg):
            return self.refused("unauthorized", 401, "a valid bearer token is required", **_CHALLENGE)
        try:
            body = await _body(request, cfg.max_body_bytes)
        except _TooLarge:
            return self.refused("too_large", 413,
                                f"the body is larger than serve.max_body_bytes ({cfg.max_body_bytes})")
        try:
            notification = parse(body)
        except InvalidBody as exc:
            return self.refused("invalid", exc.status, exc.message)
        if service_of(notification, cfg.service_labels) is None:
            return self.refused("invalid", 422, "no alert names a service: none carries any of the labels "
                                                f"{', '.join(cfg.service_labels)} (serve.service_labels)")
        if not self.engine.ready:
            return self.refused("not_ready", 503, "the receiver is shutting down", **{"Retry-After": "5"})
        try:
            await run_in_threadpool(self.engine.accept, notification)
        except SpoolFull:
            return self.refused("spool_full", 503, "too many notifications wait in the spool",
                                **{"Retry-After": "30"})
        except OSError as exc:
            return self.refused("spool_error", 503, f"cannot spool the notification: {exc.strerror or exc}")
        self.metrics.inc("triage_serve_notifications_total", result="accepted")
        return JSONResponse({"status": "accepted", "alerts": len(notification.alerts)})

    async def healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(self, request: Request) -> Response:
        if self.engine.ready:
            return PlainTextResponse("ready\n")
        return PlainTextResponse("not ready\n", status_code=503)

    async def metrics_page(self, request: Request) -> Response:
        return PlainTextResponse(self.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    async def incidents(self, request: Request) -> Response:
        if not _authorized(request, self.cfg):
            return _error(401, "a valid bearer token is required", **_CHALLENGE)
        return JSONResponse(self.engine.store.listing())

    async def incident(self, request: Request) -> Response:
        if not _authorized(request, self.cfg):
            return _error(401, "a valid bearer token is required", **_CHALLENGE)
        inc = self.engine.store.get(str(request.path_params["ident"]))
        if inc is None:
            return _error(404, "no such incident")
        if not inc.record:
            return JSONResponse({"error": "no record yet", "incident": inc.summary()}, status_code=404)
        try:
            record: Any = await run_in_threadpool(read_json, Path(inc.record))
        except (OSError, ValueError):
            return _error(404, "the record is not readable")
        return JSONResponse(record)

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.engine.start()
        host = f"[{self.cfg.host}]" if ":" in self.cfg.host else self.cfg.host
        say(f"listening on http://{host}:{self.cfg.port} ({self.cfg.workers} worker(s), spool {self.cfg.spool_dir})")
        try:
            yield
        finally:
            await run_in_threadpool(self.engine.shutdown)


def build_app(cfg: ServeSettings, engine: Engine) -> Starlette:
    api = _Api(cfg, engine)
    routes = [
        Route("/v1/alertmanager", api.timed("/v1/alertmanager", api.receive), methods=["POST"]),
        Route("/healthz", api.timed("/healthz", api.healthz), methods=["GET"]),
        Route("/readyz", api.timed("/readyz", api.readyz), methods=["GET"]),
        Route("/metrics", api.timed("/metrics", api.metrics_page), methods=["GET"]),
        Route("/incidents", api.timed("/incidents", api.incidents), methods=["GET"]),
        Route("/incidents/{ident}", api.timed("/incidents/{id}", api.incident), methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=api.lifespan)


def bind(cfg: ServeSettings) -> socket.socket:
    """The listening socket, bound here so a taken port is one line and exit 3, not uvicorn's log."""
    family = socket.AF_INET6 if ":" in cfg.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((cfg.host, cfg.port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"--listen: cannot listen on {cfg.host}:{cfg.port}: {exc.strerror or exc}") from None
    sock.listen(512)
    sock.set_inheritable(True)
    return sock


def run_server(cfg: ServeSettings, engine: Engine) -> None:
    """Serve until SIGINT / SIGTERM. uvicorn stops accepting, answers what is in flight, then the
    lifespan drains the workers; the signal is raised again afterwards for the caller's exit code."""
    import uvicorn

    sock = bind(cfg)
    config = uvicorn.Config(build_app(cfg, engine), log_level="warning", access_log=False, lifespan="on",
                            server_header=False, timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    if not server.started:
        raise UsageError("the receiver did not start (see the lines above)")
