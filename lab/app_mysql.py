"""The booking API of ``lab.app`` on MariaDB: the same routes and metric names, PyMySQL
behind a small thread-safe pool.

The Postgres service (``lab.app``) stays as it is; a MySQL stack runs this module
instead. Database work runs on a thread pool of its own (PyMySQL is blocking), each
request holding one pooled connection for its transaction, as a Java or PHP service
would. The pool opens connections on demand up to ``pool_max``, recycles a connection
older than ``pool_max_lifetime`` seconds when it is returned (HikariCP's maxLifetime),
one connection being opened at a time; when the server refuses one ("Too many
connections") the pool waits a second before trying again, and requests wait for a
returned connection until ``pool_timeout``, then get a 503.

Run: ``python -m lab.app_mysql --port 8000`` with ``LAB_SERVICE``, ``LAB_DATABASE_DSN``
(``mysql://user:password@127.0.0.1:port/database``), ``LAB_BANK_URL`` and optionally
``LAB_CONTROL``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import httpx
import pymysql
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pymysql.connections import Connection as Conn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lab import control
from lab.app import (
    CLIENT,
    DB_QUERY,
    INFO,
    POOL_AVAILABLE,
    POOL_SIZE,
    POOL_USED,
    POOL_WAIT,
    POOL_WAITING,
    PaymentError,
    operation_of,
)
from lab.instrument import MetricsMiddleware

log = logging.getLogger("booking")
T = TypeVar("T")


REFUSED_BACKOFF = 1.0     # seconds before the pool tries again after the server refused a connection


class PoolTimeout(Exception):
    pass


def connect_args(dsn: str) -> dict[str, Any]:
    u = urlsplit(dsn)
    if u.scheme != "mysql" or not u.hostname:
        raise ValueError("LAB_DATABASE_DSN must be mysql://user:password@host:port/database")
    return {"host": u.hostname, "port": u.port or 3306, "user": unquote(u.username or ""),
            "password": unquote(u.password or ""), "database": u.path.lstrip("/"), "autocommit": True,
            "connect_timeout": 5, "read_timeout": 30, "write_timeout": 30, "charset": "utf8mb4"}


class Pool:
    """A bounded, thread-safe pool of PyMySQL connections (opened on demand)."""

    def __init__(self, connect: Callable[[], Conn], max_size: int, timeout: float, max_lifetime: float) -> None:
        self.connect, self.max_size, self.timeout, self.max_lifetime = connect, max_size, timeout, max_lifetime
        self._cond = threading.Condition()
        self._idle: list[tuple[Conn, float]] = []
        self.opened = self.used = self.waiting = 0
        self.closed = self._opening = False
        self._refused_until = 0.0

    def get(self, timeout: float | None = None) -> tuple[Conn, float]:
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        with self._cond:
            self.waiting += 1
        try:
            while True:
                with self._cond:
                    if self._idle:
                        self.used += 1
                        return self._idle.pop()
                    now = time.monotonic()
                    opening = (self.opened < self.max_size and not self.closed and not self._opening
                               and now >= self._refused_until)
                    if opening:
                        self.opened += 1
                        self._opening = True
                if opening:
                    try:
                        conn = self._open()
                    except pymysql.MySQLError as e:
                        with self._cond:
                            self.opened -= 1
                            self._opening = False
                            self._refused_until = time.monotonic() + REFUSED_BACKOFF
                            self._cond.notify_all()
                        log.warning("cannot open a connection: %s", e)
                    else:
                        with self._cond:
                            self._opening = False
                            self.used += 1
                            self._cond.notify_all()
                        return conn, time.monotonic()
                with self._cond:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise PoolTimeout()
                    if not self._idle:
                        # Wait for a returned connection, or until another may be opened.
                        retry = self._refused_until - time.monotonic()
                        self._cond.wait(min(left, retry) if retry > 0 else min(left, 0.05)
                                        if self.opened < self.max_size else left)
        finally:
            with self._cond:
                self.waiting -= 1

    def _open(self) -> Conn:
        """One new connection; its time is ``operation="connect"`` (a refused attempt opens none)."""
        t0 = time.perf_counter()
        conn = self.connect()
        DB_QUERY.labels("connect").observe(time.perf_counter() - t0)
        return conn

    def put(self, item: tuple[Conn, float], *, broken: bool = False) -> None:
        conn, born = item
        recycle = broken or self.closed or (self.max_lifetime > 0 and time.monotonic() - born > self.max_lifetime)
        with self._cond:
            self.used -= 1
            if recycle:
                self.opened -= 1
            else:
                self._idle.append(item)
            self._cond.notify()
        if recycle:
            try:
                conn.close()
            except pymysql.MySQLError:
                pass

    def close(self) -> None:
        with self._cond:
            self.closed = True
            idle, self._idle = self._idle, []
            self.opened -= len(idle)
            self._cond.notify_all()
        for conn, _ in idle:
            try:
                conn.close()
            except pymysql.MySQLError:
                pass


def q(conn: Conn, sql: str, params: tuple = ()) -> tuple[list[tuple], int, int]:
    """Rows, rowcount and lastrowid of one statement, timed under its operation."""
    t0 = time.perf_counter()
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall() or ()), cur.rowcount, cur.lastrowid or 0
    finally:
        DB_QUERY.labels(operation_of(sql)).observe(time.perf_counter() - t0)


class SoldOut(Exception):
    pass


class NoEvent(Exception):
    pass


class Service:
    def __init__(self, dsn: str, bank_url: str, control_path: str | None) -> None:
        self.args = connect_args(dsn)
        self.bank_url = bank_url.rstrip("/")
        self.bank_host = urlsplit(bank_url).hostname or "bank"
        self.ctl = control.Watcher(control_path, control.SERVICE_DEFAULTS)
        self.executor = ThreadPoolExecutor(max_workers=64, thread_name_prefix="db")
        self.pool = Pool(lambda: pymysql.connect(**self.args), int(self.ctl["pool_max"]),
                         float(self.ctl["pool_timeout"]), float(self.ctl["pool_max_lifetime"]))
        self.bank: httpx.AsyncClient | None = None
        self.tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        self.bank = httpx.AsyncClient(base_url=self.bank_url, trust_env=False,
                                      limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))
        POOL_SIZE.set_function(lambda: self.pool.max_size)
        POOL_USED.set_function(lambda: self.pool.used)
        POOL_AVAILABLE.set_function(lambda: len(self.pool._idle))
        POOL_WAITING.set_function(lambda: self.pool.waiting)
        INFO.labels(self.ctl["version"]).set(1)
        self.ctl.listeners.append(self._settings)
        self.tasks = [asyncio.create_task(self.ctl.run())]

    async def stop(self) -> None:
        for t in self.tasks:
            t.cancel()
        if self.bank:
            await self.bank.aclose()
        self.pool.close()
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def _settings(self, old: dict, new: dict) -> None:
        self.pool.max_size = int(new["pool_max"])
        self.pool.timeout = float(new["pool_timeout"])
        self.pool.max_lifetime = float(new["pool_max_lifetime"])

    def with_connection(self, work: Callable[[Conn], T], timeout: float | None = None) -> T:
        """Blocking: check out a connection (timing the wait), run ``work``, return it."""
        t0 = time.perf_counter()
        try:
            item = self.pool.get(timeout)
        finally:
            POOL_WAIT.observe(time.perf_counter() - t0)
        broken = False
        try:
            return work(item[0])
        except pymysql.OperationalError:
            broken = True
            raise
        finally:
            self.pool.put(item, broken=broken)

    async def run(self, work: Callable[[Conn], T], timeout: float | None = None) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self.with_connection, work, timeout)

    def reserve(self, conn: Conn, event_id: int, qty: int, user_id: int) -> tuple[int, int]:
        """The booking transaction; returns (booking id, price)."""
        hold = float(self.ctl["hot_lock_hold"])
        conn.begin()
        try:
            rows, _, _ = q(conn, "SELECT id, name, tickets_remaining, price_cents FROM events WHERE id = %s",
                           (event_id,))
            if not rows:
                raise NoEvent()
            if hold > 0:
                # Pessimistic locking across the seat-map allocation.
                q(conn, "SELECT tickets_remaining FROM events WHERE id = %s FOR UPDATE", (event_id,))
                time.sleep(hold)
            _, changed, _ = q(conn, "UPDATE events SET tickets_remaining = tickets_remaining - %s "
                                    "WHERE id = %s AND tickets_remaining >= %s", (qty, event_id, qty))
            if not changed:
                raise SoldOut()
            _, _, booking_id = q(conn, "INSERT INTO bookings (event_id, user_id, qty, status) "
                                       "VALUES (%s, %s, %s, 'reserved')", (event_id, user_id, qty))
            conn.commit()
        except BaseException:
            try:
                conn.rollback()
            except pymysql.MySQLError:
                pass
            raise
        return booking_id, int(rows[0][3])

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


def _db_error(e: Exception) -> JSONResponse:
    if isinstance(e, PoolTimeout):
        return JSONResponse({"error": "database busy: no pooled connection within the pool timeout"}, status_code=503)
    code = e.args[0] if e.args else None
    if code == 1205:
        return JSONResponse({"error": "database busy: lock wait timeout"}, status_code=503)
    return JSONResponse({"error": "database unavailable"}, status_code=503)


def create_app(service: Service) -> Starlette:  # noqa: C901 - the routes are closures over one Service, as in lab.app
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
        try:
            booking_id, price = await service.run(lambda c: service.reserve(c, event_id, qty, user_id))
        except NoEvent:
            return error(404, "no such event")
        except SoldOut:
            return error(409, "sold out", event_id=event_id)
        except (PoolTimeout, pymysql.MySQLError) as e:
            log.warning("booking failed: %s", e)
            return _db_error(e)
        try:
            payment_id = await service.pay(booking_id, price * qty)
        except PaymentError as e:
            def undo(c: Conn) -> None:
                q(c, "UPDATE bookings SET status = 'payment_failed' WHERE id = %s", (booking_id,))
                q(c, "UPDATE events SET tickets_remaining = tickets_remaining + %s WHERE id = %s", (qty, event_id))
            try:
                await service.run(undo)
            except (PoolTimeout, pymysql.MySQLError) as db:
                return _db_error(db)
            return error(e.status, e.reason)
        try:
            await service.run(lambda c: q(c, "UPDATE bookings SET status = 'confirmed', payment_id = %s WHERE id = %s",
                                          (payment_id, booking_id)))
        except (PoolTimeout, pymysql.MySQLError) as e:
            return _db_error(e)
        return JSONResponse({"booking_id": booking_id, "status": "confirmed"}, status_code=201)

    async def status(request: Request) -> Response:
        try:
            if "event_id" in request.query_params:
                try:
                    event_id = int(request.query_params["event_id"])
                except ValueError:
                    return error(400, "event_id must be an integer")
                rows, _, _ = await service.run(lambda c: q(
                    c, "SELECT id, name, tickets_remaining, price_cents FROM events WHERE id = %s", (event_id,)))
                if not rows:
                    return error(404, "no such event")
                r = rows[0]
                return JSONResponse({"event_id": r[0], "name": r[1], "tickets_remaining": r[2], "price_cents": r[3]})
            rows, _, _ = await service.run(lambda c: q(c, "SELECT id, name, tickets_remaining FROM events ORDER BY id"))
            return JSONResponse({"events": [{"event_id": r[0], "name": r[1], "tickets_remaining": r[2]}
                                            for r in rows]})
        except (PoolTimeout, pymysql.MySQLError) as e:
            return _db_error(e)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": service.ctl["version"]})

    async def ready(request: Request) -> Response:
        try:
            await asyncio.wait_for(service.run(lambda c: q(c, "SELECT 1"), timeout=1.0), timeout=2.0)
            return JSONResponse({"status": "ready", "checks": {"database": "ok"}})
        except (PoolTimeout, pymysql.MySQLError, asyncio.TimeoutError) as e:
            reason = "timeout" if isinstance(e, (PoolTimeout, asyncio.TimeoutError)) else type(e).__name__
            return JSONResponse({"status": "not ready", "checks": {"database": f"error: {reason}"}}, status_code=503)

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
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

    parser = argparse.ArgumentParser(prog="python -m lab.app_mysql", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--metrics-port", type=int, default=None)
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
