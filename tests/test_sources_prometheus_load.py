"""Issue 8 (load): what a fleet pass over a big Prometheus may cost triage and the backend.

Memory: points are stored compactly, one range answer is decoded at a time, and fleet batches
shrink as the fleet grows. Concurrency: never more requests in flight than asked. Retries: a
backend that keeps refusing gets at most MAX_ATTEMPTS tries per request already under way,
and nothing after that.
"""

from __future__ import annotations

import gc
import json
import threading
import time
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import triage.sources.prometheus as prom
from triage.config import BackendSettings
from triage.errors import SourceError
from triage.models import RangeQuery
from triage.signals import BATCH_SIZE, batch_size_for
from triage.sources.prometheus import MAX_ATTEMPTS, PrometheusSource


class CountingServer:
    """A local Prometheus stand-in: every range query gets `answer`, or 503 with `refuse`;
    counts requests and the most in flight at once."""

    def __init__(self, answer: bytes = b"", *, delay: float = 0.0, refuse: bool = False) -> None:
        self.answer = answer or json.dumps({"status": "success", "data": {"resultType": "matrix",
                                                                          "result": []}}).encode()
        self.delay = delay
        self.refuse = refuse
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                fake._serve(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            status, body = (503, b'{"status":"error","error":"overloaded"}') if self.refuse else (200, self.answer)
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(body)))
            if self.refuse:
                h.send_header("Retry-After", "1")
            h.end_headers()
            h.wfile.write(body)
        finally:
            with self._lock:
                self.in_flight -= 1

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def matrix(services: int, points: int) -> bytes:
    result = [{"metric": {"service": f"svc-{i:04d}"},
               "values": [[1_800_000_000 + 30 * k, f"{0.1 + i * 1e-4 + k * 1e-6:.9f}"] for k in range(points)]}
              for i in range(services)]
    return json.dumps({"status": "success", "data": {"resultType": "matrix", "result": result}}).encode()


def source(url: str, concurrency: int = 8, timeout: float = 10.0) -> tuple[PrometheusSource, list[float]]:
    sleeps: list[float] = []
    return PrometheusSource(BackendSettings(url=url, timeout=timeout), max_concurrency=concurrency,
                            sleep=sleeps.append), sleeps


def queries(n: int) -> list[RangeQuery]:
    return [RangeQuery(f"up{{q=\"{i}\"}}", 1_800_000_000, 1_800_004_500, 30) for i in range(n)]


def test_points_cost_a_few_bytes_each_not_a_tuple_of_floats():
    server = CountingServer(matrix(500, 150))
    try:
        src, _ = source(server.url)
        tracemalloc.start()
        series = src.query_range("up", 1_800_000_000, 1_800_004_500, 30)
        src.close()
        del src                               # and the last response it remembers for errors
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        server.close()
    points = sum(len(s.points) for s in series)
    assert points == 500 * 150
    # Tuples of two floats cost ~100 bytes a point; two arrays of doubles 16 (labels aside).
    assert held / points < 40, f"{held / points:.0f} bytes a point"
    first = series[0].points
    assert first[0] == (1_800_000_000.0, 0.1) and first[-1][0] == 1_800_000_000 + 30 * 149
    assert list(first)[:2] == [first[0], first[1]] and next(reversed(first)) == first[-1]
    assert len(first[10:20]) == 10 and first == tuple(first)


def test_one_answer_is_decoded_at_a_time_while_requests_run_in_parallel(monkeypatch):
    decoding = {"now": 0, "most": 0}
    lock = threading.Lock()
    real = json.loads

    def slow_loads(body, *a, **kw):
        with lock:
            decoding["now"] += 1
            decoding["most"] = max(decoding["most"], decoding["now"])
        try:
            time.sleep(0.05)
            return real(body, *a, **kw)
        finally:
            with lock:
                decoding["now"] -= 1

    monkeypatch.setattr(json, "loads", slow_loads)   # what requests and the source both call
    server = CountingServer(matrix(20, 10), delay=0.2)
    try:
        src, _ = source(server.url, concurrency=6)
        answers = src.query_range_many(queries(6))
    finally:
        server.close()
    assert all(not isinstance(a, SourceError) and len(a) == 20 for a in answers)
    assert server.max_in_flight == 6          # the requests overlapped...
    assert decoding["most"] == 1              # ...their decoded answers did not


def test_requests_in_flight_never_exceed_max_concurrency():
    server = CountingServer(delay=0.05)
    try:
        src, _ = source(server.url, concurrency=3)
        src.query_range_many(queries(20))
    finally:
        server.close()
    assert server.requests == 20 and server.max_in_flight == 3


def test_a_refusing_backend_gets_no_retry_storm():
    server = CountingServer(refuse=True, delay=0.05)
    try:
        src, sleeps = source(server.url, concurrency=4)
        answers = src.query_range_many(queries(30))
    finally:
        server.close()
    assert all(isinstance(a, SourceError) for a in answers)
    # The (at most 4) requests already under way try MAX_ATTEMPTS times; the other 26 never leave.
    assert server.requests <= 4 * MAX_ATTEMPTS
    assert max(sleeps) <= prom.MAX_RETRY_AFTER and len(sleeps) <= 4 * (MAX_ATTEMPTS - 1)


def test_fleet_batches_shrink_with_the_fleet_so_one_response_stays_bounded():
    assert batch_size_for(1) == BATCH_SIZE and batch_size_for(500) == BATCH_SIZE
    assert batch_size_for(1000) == 3 and batch_size_for(2000) == 1 and batch_size_for(100_000) == 1
    # series per response (batch x services) stays near 3,000 however large the fleet
    assert all(batch_size_for(n) * n <= max(3000, n) for n in range(1, 20_000, 37))
