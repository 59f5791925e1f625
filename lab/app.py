"""Seed 001's concert-ticket booking API, instrumented with CONTRACT.md's metric names.

``POST /book`` reserves tickets in PostgreSQL through a psycopg_pool pool, charges the
bank API, and confirms; ``GET /status`` reads availability; ``GET /health`` is liveness;
``GET /ready`` checks the database (seed 003's readiness body); ``GET /metrics`` exposes
the service's metrics plus prometheus_client's default process metrics.

Every fault of the lab is a knob in the control file (``lab.control.SERVICE_DEFAULTS``),
read while the service runs: the code paths below are the ones a real service would have
(a pool that is too small, a slow query, a row lock held across a slow step, a connection
per request, CPU-heavy rendering, a cache that never evicts, a bad release, a
check-then-act race), not sleeps pretending to be them.

Run: ``python -m lab.app --port 8000`` with ``LAB_SERVICE``, ``LAB_DATABASE_DSN``,
``LAB_BANK_URL`` and optionally ``LAB_CONTROL`` in the environment.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, Histogram, generate_latest
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lab import control
from lab.instrument import LATENCY_BUCKETS, MetricsMiddleware

log = logging.getLogger("booking")

DB_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

DB_QUERY = Histogram("db_query_duration_seconds", "Database query duration by operation (connect: opening a "
                     "connection).", ["operation"], buckets=DB_BUCKETS)
POOL_WAIT = Histogram("db_connection_wait_duration_seconds", "Time spent waiting for a pooled DB connection.",
                      buckets=DB_BUCKETS)
POOL_SIZE = Gauge("db_connection_pool_size", "Maximum connections of the DB pool.")
POOL_USED = Gauge("db_connection_pool_used", "DB pool connections checked out by requests.")
POOL_AVAILABLE = Gauge("db_connection_pool_available", "Idle DB pool connections ready for a request.")
POOL_WAITING = Gauge("db_connection_pool_waiting", "Requests queued for a pooled DB connection.")
TICKETS = Gauge("tickets_remaining", "Tickets left for sale, per event (below zero: oversold).", ["event_id"])
CLIENT = Histogram("http_client_request_duration_seconds", "Duration of outbound HTTP requests (OpenTelemetry "
                   "HTTP client semantic conventions).",
                   ["server_address", "http_request_method", "http_response_status_code", "error_type"],
                   buckets=LATENCY_BUCKETS)
INFO = Gauge("booking_build_info", "The running release.", ["version"])

_FOR_UPDATE = re.compile(r"\bFOR\s+(NO\s+KEY\s+)?(UPDATE|SHARE)\b", re.I)


def operation_of(sql: str) -> str:
    """The ``operation`` label: the statement's verb.

    A locking read (``SELECT ... FOR UPDATE``) is the first step of a write: it takes the
    row lock the write needs, and it waits where the write would wait. It is counted with
    the writes (``update``), so plain reads keep telling how fast reading is.
    """
    verb = sql.lstrip().split(None, 1)[0].lower()
    if verb == "select" and _FOR_UPDATE.search(sql):
        return "update"
    return verb if verb in ("select", "insert", "update", "delete") else "other"


class TimedConnection(psycopg.AsyncConnection):
    """Every connection opened, pooled or not, is timed as ``operation="connect"``."""

    @classmethod
    async def connect(cls, conninfo: str = "", **kwargs: Any):  # type: ignore[override]
        t0 = time.perf_counter()
        try:
            return await super().connect(conninfo, **kwargs)
        finally:
            DB_QUERY.labels("connect").observe(time.perf_counter() - t0)


async def q(conn: psycopg.AsyncConnection, sql: str, params: tuple = ()) -> list[tuple]:
    t0 = time.perf_counter()
    try:
        cur = await conn.execute(sql, params)
        return await cur.fetchall() if cur.description else []
    finally:
        DB_QUERY.labels(operation_of(sql)).observe(time.perf_counter() - t0)


class PaymentError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Service:
    def __init__(self, dsn: str, bank_url: str, control_path: str | None) -> None:
        self.dsn = dsn
        self.bank_url = bank_url.rstrip("/")
        self.bank_host = urlsplit(bank_url).hostname or "bank"
        self.ctl = control.Watcher(control_path, control.SERVICE_DEFAULTS)
        self.pool: AsyncConnectionPool | None = None
        self.bank: httpx.AsyncClient | None = None
        self.leaked: list[bytes] = []
        self.tasks: list[asyncio.Task] = []

    # ---- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        size = int(self.ctl["pool_max"])
        self.pool = AsyncConnectionPool(self.dsn, min_size=size, max_size=size, open=False,
                                        kwargs={"autocommit": True}, connection_class=TimedConnection,
                                        timeout=float(self.ctl["pool_timeout"]), name="booking")
        await self.pool.open(wait=True, timeout=30)
        self.bank = httpx.AsyncClient(base_url=self.bank_url, trust_env=False,
                                      limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))
        POOL_SIZE.set_function(lambda: self.pool.max_size if self.pool else 0)
        POOL_USED.set_function(self._used)
        POOL_AVAILABLE.set_function(lambda: self._stats().get("pool_available", 0))
        POOL_WAITING.set_function(lambda: self._stats().get("requests_waiting", 0))
        await self._set_version(None, self.ctl.values)
        self.ctl.listeners += [self._resize, self._set_version]
        self.tasks = [asyncio.create_task(self.ctl.run()), asyncio.create_task(self._tickets_loop())]

    async def stop(self) -> None:
        for t in self.tasks:
            t.cancel()
        if self.bank:
            await self.bank.aclose()
        if self.pool:
            await self.pool.close(timeout=2)

    def _stats(self) -> dict[str, int]:
        return self.pool.get_stats() if self.pool else {}

    def _used(self) -> int:
        s = self._stats()
        return max(0, s.get("pool_size", 0) - s.get("pool_available", 0))

    async def _resize(self, old: dict, new: dict) -> None:
        if self.pool and old.get("pool_max") != new.get("pool_max"):
            size = int(new["pool_max"])
            await self.pool.resize(min_size=size, max_size=size)
            log.warning("pool resized to %d", size)
        if self.pool and old.get("pool_timeout") != new.get("pool_timeout"):
            self.pool.timeout = float(new["pool_timeout"])

    async def _set_version(self, old: dict | None, new: dict) -> None:
        if old is None or old.get("version") != new.get("version"):
            INFO.clear()
            INFO.labels(new["version"]).set(1)
            if old is not None:
                log.warning("release %s is live", new["version"])

    async def _tickets_loop(self) -> None:
        """The tickets_remaining gauges, from the database, on a connection of their own
        (a collector's reads are not the service's queries and do not take pool slots)."""
        conn = None
        while True:
            try:
                if conn is None or conn.closed:
                    conn = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
                cur = await conn.execute("SELECT id, tickets_remaining FROM events")
                for event_id, remaining in await cur.fetchall():
                    TICKETS.labels(str(event_id)).set(remaining)
            except psycopg.Error as e:
                log.warning("tickets gauge refresh failed: %s", e)
                conn = None
            await asyncio.sleep(1.0)

    # ---- the database -----------------------------------------------------------------------
    @asynccontextmanager
    async def connection(self, timeout: float | None = None) -> AsyncIterator[psycopg.AsyncConnection]:
        if not self.ctl["pooling"]:
            # No pooling (seed 001 root cause 2): open, use, close, every time.
            conn = await TimedConnection.connect(self.dsn, autocommit=True)
            try:
                yield conn
            finally:
                await conn.close()
            return
        assert self.pool is not None
        t0 = time.perf_counter()
        try:
            conn = await self.pool.getconn(timeout=timeout if timeout is not None else self.pool.timeout)
        finally:
            POOL_WAIT.observe(time.perf_counter() - t0)
        try:
            yield conn
        finally:
            await self.pool.putconn(conn)

    async def lookup_event(self, conn: psycopg.AsyncConnection, event_id: int) -> tuple | None:
        sleep = float(self.ctl["query_sleep"])
        if sleep > 0:
            rows = await q(conn, "SELECT id, name, tickets_remaining, price_cents, pg_sleep(%s) FROM events "
                                 "WHERE id = %s", (sleep, event_id))
        else:
            rows = await q(conn, "SELECT id, name, tickets_remaining, price_cents FROM events WHERE id = %s",
                           (event_id,))
        return rows[0][:4] if rows else None

    # ---- the bank -----------------------------------------------------------------------------
    async def pay(self, booking_id: int, amount_cents: int) -> str:
        assert self.bank is not None
        t0 = time.perf_counter()
        status, error = "", ""
        try:
            r = await self.bank.post("/v1/charges", json={"amount": amount_cents, "currency": "IDR",
                                                          "reference": f"booking-{booking_id}"},
                                     headers={"Idempotency-Key": str(uuid.uuid4())},
                                     timeout=float(self.ctl["bank_timeout"]))
            status = str(r.status_code)
            if r.status_code >= 500:
                error = status
                raise PaymentError(502, f"bank answered {r.status_code}")
            if r.status_code >= 400:
                raise PaymentError(402, "payment declined")
            return str(r.json().get("id", ""))
        except httpx.TimeoutException as e:
            error = "timeout"
            raise PaymentError(504, "bank timed out") from e
        except httpx.HTTPError as e:
            error = type(e).__name__
            raise PaymentError(502, f"bank unreachable: {type(e).__name__}") from e
        finally:
            CLIENT.labels(self.bank_host, "POST", status, error).observe(time.perf_counter() - t0)

    # ---- CPU and memory -------------------------------------------------------------------------
    @staticmethod
    def burn(ms: float) -> None:
        """Render the e-ticket: pure CPU, in the event loop, as naive Python code does."""
        if ms <= 0:
            return
        end = time.thread_time() + ms / 1000.0
        digest = b"e-ticket"
        while time.thread_time() < end:
            for _ in range(200):
                digest = hashlib.sha256(digest).digest()

    def remember(self, kb: int) -> None:
        """A per-booking cache that is never evicted: the leak."""
        if kb > 0:
            self.leaked.append(b"\x01" * (kb * 1024))


def create_app(service: Service) -> Starlette:  # noqa: C901 - the routes are closures over one Service: each handler is small, the count is theirs together
    def error(status: int, message: str, **extra: Any) -> JSONResponse:
        return JSONResponse({"error": message, **extra}, status_code=status)

    async def book(request: Request) -> Response:
        try:
            body = await request.json()
            event_id, qty, user_id = int(body["event_id"]), int(body.get("qty", 1)), int(body.get("user_id", 0))
        except (ValueError, KeyError, TypeError):
            return error(400, "expected JSON {event_id, qty, user_id}")
        if not 1 <= qty <= 10:
            return error(400, "qty must be between 1 and 10")
        ctl = service.ctl
        service.burn(float(ctl["cpu_burn_ms"]))
        service.remember(int(ctl["leak_kb"]))
        if ctl["bug_promo_code"]:
            # Release 2.0.0's promo support assumes every client sends a promo code.
            discount = body["promo_code"].upper()  # KeyError for older clients: HTTP 500
            log.debug("promo %s", discount)
        try:
            if ctl["naive_booking"]:
                return await naive_booking(event_id, qty, user_id)
            return await safe_booking(event_id, qty, user_id)
        except PoolTimeout:
            return error(503, "database busy: no pooled connection within the pool timeout")
        except psycopg.OperationalError as e:
            log.error("database error: %s", e)
            return error(503, "database unavailable")

    async def safe_booking(event_id: int, qty: int, user_id: int) -> Response:
        if service.ctl["payment_in_transaction"]:
            return await checkout_in_transaction(event_id, qty, user_id)
        hold = float(service.ctl["hot_lock_hold"])
        async with service.connection() as conn:
            async with conn.transaction():
                event = await service.lookup_event(conn, event_id)
                if event is None:
                    return error(404, "no such event")
                if hold > 0:
                    # Pessimistic locking across the seat-map allocation: every booking of
                    # this event queues behind the one holding the row.
                    await q(conn, "SELECT tickets_remaining FROM events WHERE id = %s FOR UPDATE", (event_id,))
                    await asyncio.sleep(hold)
                rows = await q(conn, "UPDATE events SET tickets_remaining = tickets_remaining - %s "
                                     "WHERE id = %s AND tickets_remaining >= %s RETURNING tickets_remaining",
                               (qty, event_id, qty))
                if not rows:
                    return error(409, "sold out", event_id=event_id)
                [(booking_id,)] = await q(conn, "INSERT INTO bookings (event_id, user_id, qty, status) "
                                                "VALUES (%s, %s, %s, 'reserved') RETURNING id",
                                          (event_id, user_id, qty))
        try:
            payment_id = await service.pay(booking_id, event[3] * qty)
        except PaymentError as e:
            async with service.connection() as conn:
                async with conn.transaction():
                    await q(conn, "UPDATE bookings SET status = 'payment_failed' WHERE id = %s", (booking_id,))
                    await q(conn, "UPDATE events SET tickets_remaining = tickets_remaining + %s WHERE id = %s",
                            (qty, event_id))
            return error(e.status, e.reason)
        async with service.connection() as conn:
            await q(conn, "UPDATE bookings SET status = 'confirmed', payment_id = %s WHERE id = %s",
                    (payment_id, booking_id))
        return JSONResponse({"booking_id": booking_id, "status": "confirmed"}, status_code=201)

    class SoldOut(Exception):
        pass

    async def checkout_in_transaction(event_id: int, qty: int, user_id: int) -> Response:
        """Seed 000's checkout: one order transaction around reserve, charge, decrement.
        The charge runs while the transaction is open, so a pooled connection is held for
        the whole bank round trip; the stock row is only touched at the end, so bookings do
        not queue on its lock."""
        async with service.connection() as conn:
            try:
                async with conn.transaction():
                    event = await service.lookup_event(conn, event_id)
                    if event is None:
                        return error(404, "no such event")
                    if event[2] < qty:
                        return error(409, "sold out", event_id=event_id)
                    [(booking_id,)] = await q(conn, "INSERT INTO bookings (event_id, user_id, qty, status) "
                                                    "VALUES (%s, %s, %s, 'reserved') RETURNING id",
                                              (event_id, user_id, qty))
                    payment_id = await service.pay(booking_id, event[3] * qty)
                    rows = await q(conn, "UPDATE events SET tickets_remaining = tickets_remaining - %s "
                                         "WHERE id = %s AND tickets_remaining >= %s RETURNING tickets_remaining",
                                   (qty, event_id, qty))
                    if not rows:
                        raise SoldOut()
                    await q(conn, "UPDATE bookings SET status = 'confirmed', payment_id = %s WHERE id = %s",
                            (payment_id, booking_id))
            except PaymentError as e:
                return error(e.status, e.reason)
            except SoldOut:
                return error(409, "sold out", event_id=event_id)
        return JSONResponse({"booking_id": booking_id, "status": "confirmed"}, status_code=201)

    async def naive_booking(event_id: int, qty: int, user_id: int) -> Response:
        """Seed 001 root cause 1: check availability, charge, then decrement — no lock, no
        guard in the UPDATE. Bookings in flight together all pass the check: overselling."""
        async with service.connection() as conn:
            event = await service.lookup_event(conn, event_id)
            if event is None:
                return error(404, "no such event")
            if event[2] < qty:
                return error(409, "sold out", event_id=event_id)
            [(booking_id,)] = await q(conn, "INSERT INTO bookings (event_id, user_id, qty, status) "
                                            "VALUES (%s, %s, %s, 'reserved') RETURNING id", (event_id, user_id, qty))
        try:
            payment_id = await service.pay(booking_id, event[3] * qty)
        except PaymentError as e:
            async with service.connection() as conn:
                await q(conn, "UPDATE bookings SET status = 'payment_failed' WHERE id = %s", (booking_id,))
            return error(e.status, e.reason)
        async with service.connection() as conn:
            await q(conn, "UPDATE events SET tickets_remaining = tickets_remaining - %s WHERE id = %s",
                    (qty, event_id))
            await q(conn, "UPDATE bookings SET status = 'confirmed', payment_id = %s WHERE id = %s",
                    (payment_id, booking_id))
        return JSONResponse({"booking_id": booking_id, "status": "confirmed"}, status_code=201)

    async def status(request: Request) -> Response:
        service.burn(float(service.ctl["cpu_burn_ms"]))
        try:
            async with service.connection() as conn:
                if "event_id" in request.query_params:
                    try:
                        event_id = int(request.query_params["event_id"])
                    except ValueError:
                        return error(400, "event_id must be an integer")
                    event = await service.lookup_event(conn, event_id)
                    if event is None:
                        return error(404, "no such event")
                    return JSONResponse({"event_id": event[0], "name": event[1], "tickets_remaining": event[2],
                                         "price_cents": event[3]})
                rows = await q(conn, "SELECT id, name, tickets_remaining FROM events ORDER BY id")
                return JSONResponse({"events": [{"event_id": r[0], "name": r[1], "tickets_remaining": r[2]}
                                                for r in rows]})
        except PoolTimeout:
            return error(503, "database busy: no pooled connection within the pool timeout")
        except psycopg.OperationalError:
            return error(503, "database unavailable")

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": service.ctl["version"]})

    async def _ping() -> None:
        async with service.connection(timeout=1.0) as conn:
            await conn.execute("SELECT 1")

    async def ready(request: Request) -> Response:
        """Seed 003's readiness: ready only when the database answers, within a second."""
        try:
            await asyncio.wait_for(_ping(), timeout=1.0)
            return JSONResponse({"status": "ready", "checks": {"database": "ok"}})
        except (PoolTimeout, psycopg.Error, asyncio.TimeoutError) as e:
            reason = "timeout" if isinstance(e, (PoolTimeout, asyncio.TimeoutError)) else type(e).__name__
            return JSONResponse({"status": "not ready", "checks": {"database": f"error: {reason}"}},
                                status_code=503)

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def lifespan(app: Starlette):
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    routes = [Route("/book", book, methods=["POST"]), Route("/status", status), Route("/health", health),
              Route("/ready", ready), Route("/metrics", metrics)]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(MetricsMiddleware, routes={r.path: r.path for r in routes})
    return app


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m lab.app", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--metrics-port", type=int, default=None,
                        help="also serve /metrics from a thread on this port: scrapes keep working while "
                             "the event loop is saturated (the CPU fault), as an admin port does in production")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(args.metrics_port, addr=args.host)
    service = Service(os.environ["LAB_DATABASE_DSN"], os.environ["LAB_BANK_URL"], os.environ.get("LAB_CONTROL"))
    uvicorn.run(create_app(service), host=args.host, port=args.port, log_level="warning", access_log=False,
                lifespan="on", timeout_graceful_shutdown=3)


if __name__ == "__main__":
    main()
