"""The Prometheus (or VictoriaMetrics) HTTP API, over http.client (plain http, no proxy, no netrc:
triage.sources.plainhttp) or one requests Session.

Everything that leaves this module is triage's own models or a SourceError naming the
backend and the query: raw dicts and requests exceptions stay here. Every request has a total
deadline (prometheus.timeout, the body included), the whole command one more
(prometheus.deadline), and every answer a cap on its decoded size (prometheus.max_response_bytes).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

from triage.config import BackendSettings
from triage.config.backend import DEADLINE_TIMEOUTS
from triage.errors import SourceError
from triage.models import Alert, RangeQuery, Series
from triage.secrets import redact
from triage.sources import decode, plainhttp
from triage.sources.answers import Answers
from triage.sources.http import (
    BodyDeadline,
    BodyTooLarge,
    connection_reason,
    first_line,
    format_size,
    read_bounded,
    read_buffer,
    tls_hint,
    tls_reason,
    verify_for,
    warn_insecure,
    warn_partial,
)
from triage.sources.parallel import Wave

TRANSIENT_STATUS = {429, 502, 503, 504}
MAX_ATTEMPTS = 3
MAX_RETRY_AFTER = 2.0
MAX_ERROR_BODY = 300
# An error answer is only read for its message.
MAX_ERROR_READ = 64 * 1024
SHOWN_QUERY = 120
# prometheus.timeout is a request's time for a query over up to this many services; a fleet query
# over more gets proportionally longer (2,000 services: 8 x), and the run's default deadline with it.
FLEET_TIMEOUT_SERVICES = 250
# Answers kept for the rest of the process (a pass's): at most this many points (~32 MB of arrays,
# mostly the same arrays the analysis holds anyway).
CACHE_POINTS = 2_000_000


class _HttpStatus(Exception):
    """A non-200 answer: its status, headers and (the start of) its body."""

    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        super().__init__(f"HTTP Status Code {status}")
        self.status = status
        self.headers = headers
        self.body = body


class _RunDeadline(Exception):
    """The command's overall deadline against this backend has passed."""


class QueryStats:
    """Counts what was asked of the backend, for the report and the benchmarks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.retries = 0

    def add(self, requests_: int = 0, retries: int = 0) -> None:
        with self._lock:
            self.requests += requests_
            self.retries += retries


class PrometheusSource:
    """One Prometheus-compatible backend; thread-safe, bounded concurrency."""

    backend = "prometheus"

    def __init__(self, settings: BackendSettings, *, max_concurrency: int = 4,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.max_concurrency = max(1, max_concurrency)
        self.stats = QueryStats()
        self._sleep = sleep
        self._clock = time.monotonic
        self._started = self._clock()
        self._timeout = settings.timeout
        self._deadline_seconds = settings.run_deadline
        self._run_deadline = self._started + settings.run_deadline
        self._scaled_for = 0
        self._cache: dict[tuple, list[Series]] = {}
        self._cache_lock = threading.Lock()
        self._cached_points = 0
        self._also: list[RangeQuery] = []
        self._verify = verify_for(settings.ca_file, settings.insecure_skip_verify)
        headers = {"User-Agent": "triage", "Accept-Encoding": "gzip"}
        headers.update((key, value if isinstance(value, str) else value.reveal()) for key, value in settings.headers)
        if settings.bearer_token is not None:
            headers["Authorization"] = f"Bearer {settings.bearer_token.reveal()}"
        auth = None
        if settings.username is not None and settings.password is not None:
            auth = (settings.username, settings.password.reveal())
        # http.client when nothing requests adds applies (plain http, no proxy, no netrc), else requests
        self._transport = plainhttp.Transport(settings.url, auth, headers, self._verify, self.max_concurrency)
        self._dead: SourceError | None = None
        # One range answer read and decoded at a time: the decoded JSON of a fleet batch is
        # ~150 bytes a point (270 MB for 6 queries x 2,000 services x 150 points), and decoding
        # holds the GIL anyway, so parallel decodes would multiply memory by the concurrency
        # for no gain in speed. The requests themselves still run `max_concurrency` at a time.
        self._decode = threading.Lock()
        # Told (answered, asked) after each answer of a wave: the CLI's progress bar on a terminal.
        self.on_answer: Callable[[int, int], None] | None = None
        if settings.insecure_skip_verify:
            warn_insecure(self.name, self.backend)

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> PrometheusSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def expect_services(self, services: int) -> None:
        """The next queries each answer for `services` services: scale the request timeout (and the
        run's deadline, when prometheus.deadline is not given) with the fleet's size."""
        scale = max(1.0, services / FLEET_TIMEOUT_SERVICES)
        self._timeout = self.settings.timeout * scale
        self._scaled_for = services if scale > 1 else 0
        if self.settings.deadline is None:
            self._deadline_seconds = max(self.settings.run_deadline, DEADLINE_TIMEOUTS * self._timeout)
            self._run_deadline = self._started + self._deadline_seconds

    @property
    def name(self) -> str:
        return f"{self.backend} at {self.settings.display_url}"

    def _get(self, path: str, params: dict | None, query: str, parse: Callable[[Any], Any]) -> Any:
        """One GET within the request's deadline (and the run's); `parse` of the body of
        a 200 answer no larger than the cap. Raises _HttpStatus, BodyDeadline, BodyTooLarge, _RunDeadline
        or what requests raises; _attempts turns each into a SourceError."""
        now = self._clock()
        deadline = min(now + self._timeout, self._run_deadline)
        if deadline - now <= 0:
            raise _RunDeadline()
        left = deadline - now
        if params is not None and self.settings.query_params:
            params = {**dict(self.settings.query_params), **params}
        response = self._transport.get(path, params, left)
        try:
            if response.status_code != 200:
                try:
                    body = read_bounded(response, deadline=deadline, cap=MAX_ERROR_READ)
                except BodyTooLarge:
                    body = b""
                raise _HttpStatus(response.status_code, response.headers, body)
            # Waiting for our own turn to decode is not the backend's time: it moves the request's
            # deadline (never the run's), and is bounded by the answers ahead of it.
            queued = self._clock()
            if not self._decode.acquire(timeout=max(0.0, self._run_deadline - queued)):
                raise _RunDeadline()
            try:
                waited = self._clock() - queued
                # Decoded from the buffer it was read into (a fleet answer is tens of MB: no copy).
                buffer = read_buffer(response, deadline=min(deadline + waited, self._run_deadline),
                                     cap=self.settings.max_response_bytes, clock=self._clock)
                if b'"warnings"' in buffer:   # a partial answer (Thanos, Mimir): said once on stderr
                    _warn_from(self.name, buffer)
                return parse(buffer)
            finally:
                self._decode.release()
        finally:
            response.close()

    def query_range(self, query: str, start: float, end: float, step: float) -> list[Series]:
        """A range query at explicit times; the result is every series with its points."""
        params = {"query": query, "start": round(start), "end": round(end), "step": _step(step)}
        return self._call(query, lambda: self._get(
            "/api/v1/query_range", params, query, lambda body: decode.matrix(body, query, self.name)))

    def query(self, query: str, at: float) -> list[Series]:
        """An instant query at an explicit time."""
        params = {"query": query, "time": f"{at:.3f}"}
        return self._call(query, lambda: self._get(
            "/api/v1/query", params, query,
            lambda body: decode.parse_vector(_json().loads(body)["data"]["result"], query, self.name)))

    def query_range_many(self, queries: Sequence[RangeQuery]) -> list[list[Series] | SourceError]:
        """Independent range queries in parallel; each answer is its series or its error. An answer
        this source already gave in this process (detect, then rca, on the same window) is given
        again without asking; a query asked twice in one call is sent once."""
        out: list[list[Series] | SourceError] = [[] for _ in queries]
        for i, answer in Answers(self, queries):
            out[i] = answer
        return out

    def query_range_each(self, queries: Sequence[RangeQuery]) -> Answers:
        """`query_range_many`'s answers one by one, `(index in queries, answer)`, as each arrives:
        those already given first, then each once decoded, while the others are still out; the
        wave's `ask` adds queries to it while it runs (triage.sources.answers)."""
        return Answers(self, queries)

    @staticmethod
    def key(q: RangeQuery) -> tuple:
        """What makes two range queries the same request."""
        return (q.query, round(q.start), round(q.end), _step(q.step))

    def send_with_next(self, queries: Sequence[RangeQuery]) -> None:
        """Send `queries` with the next call's, in the same wave; their answers wait to be asked."""
        with self._cache_lock:
            self._also.extend(queries)

    def _remember(self, key: tuple, answer: list[Series]) -> None:
        points = sum(len(s.points) for s in answer)
        with self._cache_lock:
            if self._cached_points + points <= CACHE_POINTS:
                self._cache[key] = answer
                self._cached_points += points

    def _one(self, q: RangeQuery) -> list[Series] | SourceError:
        try:
            return self.query_range(q.query, q.start, q.end, q.step)
        except SourceError as exc:
            return exc

    def _wave(self, queries: Sequence[RangeQuery]) -> Wave:
        """The requests of `queries` on at most max_concurrency threads (more added to it later),
        each answer told to on_answer with how many the wave has asked by then."""
        box: list[Wave] = []
        done, lock = [0], threading.Lock()

        def one(q: RangeQuery) -> list[Series] | SourceError:
            try:
                return self._one(q)
            finally:
                if self.on_answer is not None and box[0].size > 1:
                    with lock:
                        done[0] += 1
                        self.on_answer(done[0], box[0].size)

        box.append(Wave(one, (), self.max_concurrency, "triage-query"))
        box[0].add(queries)
        return box[0]

    def alerts(self) -> list[Alert]:
        """Alerts Prometheus itself evaluates right now (`/api/v1/alerts`)."""
        data = self._call("/api/v1/alerts", lambda: self._get("/api/v1/alerts", None, "/api/v1/alerts",
                                                              lambda body: _json().loads(body)["data"]["alerts"]))
        out = []
        for raw in data if isinstance(data, list) else []:
            if not isinstance(raw, dict):
                continue
            out.append(Alert.from_api(raw, source="prometheus", state=str(raw.get("state", "firing")),
                                      starts_at=_parse_time(raw.get("activeAt"))))
        return out

    def _call(self, query: str, fn: Callable[[], Any]) -> Any:
        """One logical request: bounded retries on transient failures, every failure a SourceError."""
        if self._dead is not None:
            # Down, unreachable or refusing us: asking again only multiplies the wait.
            raise SourceError(self._dead.message, backend=self.backend, query=query, detail=self._dead.detail)
        try:
            return self._attempts(query, fn)
        except SourceError as exc:
            if exc.fatal:
                self._dead = exc
            raise

    def _attempts(self, query: str, fn: Callable[[], Any]) -> Any:
        last_error: SourceError | None = None
        timeouts, tls_errors, connection_errors, request_errors = plainhttp.requests_errors()
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                self.stats.add(retries=1)
            self.stats.add(requests_=1)
            headers: Any = None
            try:
                return fn()
            except _HttpStatus as exc:
                headers = exc.headers
                error = self._http_error(query, exc.status, exc.body)
            except _RunDeadline:
                raise self._run_deadline_error(query) from None
            except (BodyDeadline, TimeoutError) + timeouts:
                raise self._deadline_error(query) from None
            except BodyTooLarge as exc:
                raise SourceError(
                    f"{self.name}: the answer to {_shown_query(query)} is larger than the {format_size(exc.cap)} cap "
                    f"({self.backend}.max_response_bytes); raise it, or ask for fewer series",
                    backend=self.backend, query=query, fatal=True,
                ) from None
            except tls_errors as exc:
                reason = tls_reason(exc)
                raise SourceError(f"{self.name}: TLS error: {reason}{tls_hint(self.backend, exc, reason)}",
                                  backend=self.backend, query=query, fatal=True) from None
            except connection_errors as exc:
                error = self._unreachable(query, exc)
            except (ValueError, KeyError, TypeError, IndexError, RecursionError) as exc:
                raise SourceError(
                    f"{self.name} sent an answer that is not the Prometheus API's JSON ({type(exc).__name__})",
                    backend=self.backend, query=query,
                ) from None
            except request_errors + (plainhttp.TransportError,) as exc:
                raise SourceError(f"{self.name}: request failed: {first_line(exc)}", backend=self.backend,
                                  query=query) from None
            except OSError as exc:   # http.client's: refused, unresolved, reset (plainhttp)
                error = self._unreachable(query, exc)
            if not error.transient:
                raise error
            if attempt == MAX_ATTEMPTS - 1:
                # Still refusing after every retry: overloaded or down. No retry storm.
                error.fatal = True
                raise error
            last_error = error
            pause = self._backoff(attempt, headers)
            if self._clock() + pause >= self._run_deadline:
                raise self._run_deadline_error(query)
            self._sleep(pause)
        assert last_error is not None
        raise last_error

    def _unreachable(self, query: str, exc: BaseException) -> SourceError:
        if "timed out" in str(exc) and "connect timeout" not in str(exc).lower():
            raise self._deadline_error(query) from None
        return SourceError(f"{self.name} is unreachable: {connection_reason(exc)}",
                           backend=self.backend, query=query, transient=True, fatal=True)

    def _deadline_error(self, query: str) -> SourceError:
        if self._clock() >= self._run_deadline - 0.05:
            return self._run_deadline_error(query)
        scaled = f" ({self.backend}.timeout {self.settings.timeout:g}s scaled for {self._scaled_for} services)" \
            if self._scaled_for else ""
        return SourceError(f"{self.name} did not answer within {self._timeout:g}s{scaled}",
                           backend=self.backend, query=query, fatal=True)

    def _run_deadline_error(self, query: str) -> SourceError:
        given = self.settings.deadline is not None
        how = f"{self.backend}.deadline" if given else f"{self.backend}.deadline, by default 30 x the timeout"
        return SourceError(
            f"{self.name}: the command ran past its deadline of {self._deadline_seconds:g}s ({how})",
            backend=self.backend, query=query, fatal=True)

    def _backoff(self, attempt: int, headers: Any) -> float:
        if headers is not None:
            header = headers.get("Retry-After")
            if header:
                try:
                    return min(MAX_RETRY_AFTER, max(0.0, float(header)))
                except ValueError:
                    return MAX_RETRY_AFTER
        import random

        return min(MAX_RETRY_AFTER, 0.2 * (2 ** attempt)) * (0.5 + random.random() / 2)

    def _http_error(self, query: str, status: int | None, raw: bytes) -> SourceError:
        body = ""
        if raw:
            try:
                payload = _json().loads(raw)
                body = str(payload.get("error") or payload)[:MAX_ERROR_BODY]
            except (ValueError, AttributeError, RecursionError):
                body = raw[:MAX_ERROR_BODY].decode("utf-8", "replace").strip()
        body = redact(" ".join(body.split()))
        if status in (401, 403):
            what = "rejected the credentials" if status == 401 else "denied access"
            # The body says which: a tenant front's "no org id", a proxy's unknown token.
            said = f": {body}" if body and body.lower() not in ("unauthorized", "forbidden") else ""
            return SourceError(f"{self.name} {what} (HTTP {status}){said}", backend=self.backend, query=query,
                               fatal=True)
        if status in (400, 422):
            return SourceError(f"{self.name} rejected the query: {body or 'HTTP ' + str(status)}",
                               backend=self.backend, query=query, detail=f"HTTP {status}")
        if status in TRANSIENT_STATUS or (status is not None and status >= 500):
            return SourceError(f"{self.name} failed with HTTP {status}{': ' + body if body else ''}",
                               backend=self.backend, query=query, transient=status in TRANSIENT_STATUS)
        return SourceError(f"{self.name} answered HTTP {status}{': ' + body if body else ''}",
                           backend=self.backend, query=query)


def _warn_from(name: str, body: bytes | bytearray) -> None:
    try:
        doc = _json().loads(body)
    except (ValueError, RecursionError):
        return
    if isinstance(doc, dict) and doc.get("warnings"):
        warn_partial(name, doc["warnings"])


def _json() -> Any:
    """json, imported when an answer is read, not before the first request goes out (issue 17)."""
    import json

    return json


def _step(step: float) -> str:
    return f"{step:g}"


def _shown_query(query: str) -> str:
    """The query as a line can hold it: the start of a long (batched) query, its length said."""
    flat = " ".join(query.split())
    if len(flat) <= SHOWN_QUERY:
        return f"query {flat!r}" if not flat.startswith("/") else flat
    return f"query {flat[:SHOWN_QUERY]!r}… ({len(flat)} characters)"


def _parse_time(raw: Any) -> datetime | None:
    if not isinstance(raw, str) or not raw:
        return None
    text = raw.replace("Z", "+00:00")
    if "." in text:
        head, tail = text.split(".", 1)
        frac = "".join(ch for ch in tail if ch.isdigit())[:6]
        zone = tail[len("".join(ch for ch in tail if ch.isdigit())):]
        text = f"{head}.{frac}{zone}"
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc)
    except ValueError:
        return None


def parse_json_time(raw: Any) -> datetime | None:
    return _parse_time(raw)

