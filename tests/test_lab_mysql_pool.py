"""lab.app_mysql's pool, without a server: bounded, recycles old connections, and when the
server refuses new ones a request waits for a returned connection, then times out."""

from __future__ import annotations

import threading
import time

import pymysql
import pytest

from lab.app_mysql import Pool, PoolTimeout, connect_args


class FakeConn:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_dsn_is_parsed_and_a_bad_one_refused():
    args = connect_args("mysql://booking_app:s%40cret@127.0.0.1:3307/tickets")
    assert (args["host"], args["port"], args["user"], args["password"], args["database"]) == \
        ("127.0.0.1", 3307, "booking_app", "s@cret", "tickets")
    with pytest.raises(ValueError):
        connect_args("postgresql://x@127.0.0.1/db")


def test_bounded_and_reused():
    opened: list[FakeConn] = []
    pool = Pool(lambda: opened.append(FakeConn()) or opened[-1], max_size=2, timeout=0.3, max_lifetime=0)
    a, b = pool.get(), pool.get()
    assert pool.used == 2 and len(opened) == 2
    with pytest.raises(PoolTimeout):
        pool.get()                       # full: waits its timeout, opens nothing more
    assert len(opened) == 2
    pool.put(a)
    assert pool.get()[0] is a[0]         # the returned connection, not a new one
    pool.put(b)
    assert pool.used == 1 and pool.opened == 2


def test_old_connections_are_recycled():
    pool = Pool(FakeConn, max_size=2, timeout=0.3, max_lifetime=0.05)
    item = pool.get()
    time.sleep(0.1)
    pool.put(item)
    assert item[0].closed and pool.opened == 0


def test_refused_connections_wait_for_a_returned_one():
    def refuse() -> FakeConn:
        raise pymysql.err.OperationalError(1040, "Too many connections")

    pool = Pool(FakeConn, max_size=3, timeout=5.0, max_lifetime=0)
    held = pool.get()
    pool.connect = refuse                # the server is full from now on
    threading.Timer(0.3, pool.put, args=(held,)).start()
    got = pool.get()                     # refused, then handed the returned connection
    assert got[0] is held[0]
    pool.put(got)
    pool.timeout = 0.3
    pool.close()
    with pytest.raises(PoolTimeout):
        pool.get()
