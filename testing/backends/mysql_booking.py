"""A minimal booking service on a real MariaDB: each request is a real session of the
`mariadb` client (the venv has no MySQL driver), timed and counted under CONTRACT.md's
names, served on a loopback port for a Prometheus to scrape. Only the HTTP side: the database
signals stay the server's own (mysqld_exporter), as for a service whose client library
exports nothing.

A request is ``POST /book`` (an ``UPDATE`` of one event's row, the hot event with
``hot_share``) or ``GET /status`` (a plain ``SELECT``); a client that fails (lock wait
timeout, "Too many connections") is a 503. Requests run on a few threads at a bounded rate;
``stop()`` ends the threads (and their client processes, by PID) within a deadline.
"""

from __future__ import annotations

import random
import subprocess
import threading
import time

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

from testing.backends.mariadb import CLIENT_BIN
from testing.backends.process import free_port

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Booking:
    def __init__(self, service: str, *, host: str, port: int, user: str, password: str, database: str,
                 rate: float = 6.0, threads: int = 4, hot_share: float = 0.5, lock_wait_timeout: int = 2) -> None:
        self.service, self.rate, self.hot_share = service, rate, hot_share
        self.argv = [CLIENT_BIN, "--no-defaults", "--host=127.0.0.1" if host in ("127.0.0.1", "localhost") else "",
                     f"--port={port}", f"--user={user}", f"--password={password}", "--batch",
                     "--skip-column-names", "--connect-timeout=3", database]
        self.argv = [a for a in self.argv if a]
        self.lock_wait_timeout = lock_wait_timeout
        self.registry = CollectorRegistry()
        labels = ["service", "handler", "method", "status"]
        self.requests = Counter("http_requests_total", "Requests.", labels, registry=self.registry)
        self.latency = Histogram("http_request_duration_seconds", "Request duration.", labels,
                                 buckets=BUCKETS, registry=self.registry)
        self.port = free_port()
        self._server, self._server_thread = start_http_server(self.port, addr="127.0.0.1", registry=self.registry)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop, args=(i,), daemon=True, name=f"booking-{i}")
                         for i in range(threads)]
        self._n = threads
        for t in self._threads:
            t.start()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _one(self, rng: random.Random) -> None:
        book = rng.random() < 0.5
        event = 1 if rng.random() < self.hot_share else rng.choice((2, 3))
        if book:
            handler, method = "/book", "POST"
            sql = (f"SET SESSION innodb_lock_wait_timeout = {self.lock_wait_timeout};"
                   f"UPDATE events SET tickets_remaining = tickets_remaining - 1 WHERE id = {event};")
        else:
            handler, method = "/status", "GET"
            sql = f"SELECT tickets_remaining FROM events WHERE id = {event};"
        t0 = time.monotonic()
        try:
            proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, text=True)
            try:
                proc.communicate(sql, timeout=self.lock_wait_timeout + 8)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
            ok = proc.returncode == 0
        except OSError:
            ok = False
        took = time.monotonic() - t0
        status = "200" if ok else "503"
        self.requests.labels(self.service, handler, method, status).inc()
        self.latency.labels(self.service, handler, method, status).observe(took)

    def _loop(self, seed: int) -> None:
        rng = random.Random(seed)
        gap = self._n / self.rate
        while not self._stop.is_set():
            t0 = time.monotonic()
            self._one(rng)
            self._stop.wait(max(0.0, gap * rng.expovariate(1.0) - (time.monotonic() - t0)))

    def stop(self, timeout: float = 20.0) -> None:
        self._stop.set()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self._server.shutdown()
        self._server.server_close()
