"""Health and readiness endpoints (`/health`, `/ready`): one GET each, concurrently, each with
a timeout. Answers become `EndpointProbe` values; nothing from `requests` leaves this module.
Also home of `network_reason()`, the one-line wording of a network failure that the other
sources share."""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from triage.secrets import display_url, redact

if TYPE_CHECKING:  # a metrics pass reads this module's helpers, not the probes' values
    from triage.models.health import EndpointProbe

MAX_BODY = 64 * 1024
DEFAULT_TIMEOUT = 5.0
READ_CHUNK = 256 * 1024


class BodyDeadline(Exception):
    """The request's deadline passed while its answer was still arriving."""


class BodyTooLarge(Exception):
    """The decoded answer is larger than the cap."""

    def __init__(self, cap: int) -> None:
        super().__init__(cap)
        self.cap = cap


def verify_for(ca_file: str | None, insecure_skip_verify: bool) -> bool | str:
    """The `verify` to pass with every request. requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE
    replace a `verify` that is True (also a session's), so the config's CA file or its
    insecure_skip_verify only win when given per request; with neither, the environment's
    bundle is the trust store, as for any requests-based tool."""
    if insecure_skip_verify:
        return False
    return ca_file or True


def requests_session(url: str, verify: bool | str, size: int) -> Any:
    """A requests Session for one backend: `verify` on it, no retries of urllib3's own (the
    source retries), up to `size` pooled connections. requests is imported here, when needed."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    session = requests.Session()
    session.verify = verify
    no_retry = Retry(total=0, status_forcelist=(), raise_on_status=False, raise_on_redirect=False)
    session.mount(url, HTTPAdapter(max_retries=no_retry, pool_connections=2, pool_maxsize=size))
    return session


_WARNED: set[object] = set()
_WARN_LOCK = threading.Lock()


def warn_partial(name: str, warnings: object) -> None:
    """A backend that answered with warnings (Thanos or Mimir with a store or querier down: a
    partial answer): one line per backend and warning, on stderr, never in JSON on stdout."""
    items = warnings if isinstance(warnings, list) else [warnings]
    for item in items[:3]:
        text = " ".join(str(item).split())[:200]
        with _WARN_LOCK:
            if (name, text) in _WARNED:
                continue
            _WARNED.add((name, text))
        sys.stderr.write(f"triage: warning: {redact(name)} answered with a warning, the data may be partial: "
                         f"{redact(text)}\n")
        sys.stderr.flush()


def warn_insecure(name: str, key: str) -> None:
    """One warning line per backend and process (not urllib3's warning per request)."""
    import urllib3

    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    with _WARN_LOCK:
        if name in _WARNED:
            return
        _WARNED.add(name)
    sys.stderr.write(f"triage: warning: {redact(name)}: {key}.insecure_skip_verify is set: "
                     "its TLS certificate is not verified\n")
    sys.stderr.flush()


def tls_reason(exc: BaseException) -> str:
    """Why a TLS handshake failed, in OpenSSL's words ("self-signed certificate", "certificate has
    expired", "Hostname mismatch, …"), found in the chain of wrapped exceptions."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    fallback = ""
    # no ssl loaded, no TLS error to find (a plain-http source never imports it)
    ssl = sys.modules.get("ssl")
    while stack and ssl is not None:
        current = stack.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            message = getattr(current, "verify_message", None) or getattr(current, "reason", None)
            if message:
                return str(message).rstrip(".")
        if isinstance(current, ssl.SSLError) and not fallback and getattr(current, "reason", None):
            fallback = str(current.reason).replace("_", " ").lower()
        stack.extend(getattr(current, "args", ()))
        stack.extend((getattr(current, "reason", None), current.__cause__, current.__context__))
    text = str(exc)
    match = re.search(r"certificate verify failed: (.+?)(?: \(_ssl\.c:\d+\))?['\")]", text)
    if match:
        return match.group(1).rstrip(".")
    match = re.search(r"\[SSL: ([A-Z0-9_]+)\]", text)
    if match:
        return match.group(1).replace("_", " ").lower()
    return fallback or "handshake failed"


def _socket_of(response: Any) -> Any:
    raw = getattr(response, "raw", None)
    sock = getattr(getattr(raw, "_connection", None), "sock", None)
    if sock is None:
        fp = getattr(getattr(getattr(raw, "_fp", None), "fp", None), "raw", None)
        sock = getattr(fp, "_sock", None)
    return sock if hasattr(sock, "settimeout") else None


def _shutdown(sock: Any, fired: threading.Event) -> None:
    from _socket import SHUT_RDWR

    fired.set()
    try:
        sock.shutdown(SHUT_RDWR)
    except OSError:
        pass


def read_bounded(response: Any, *, deadline: float, cap: int, clock: Any = time.monotonic,
                 truncate: bool = False) -> bytes:
    """read_buffer's body as bytes."""
    return bytes(read_buffer(response, deadline=deadline, cap=cap, clock=clock, truncate=truncate))


def read_buffer(response: Any, *, deadline: float, cap: int, clock: Any = time.monotonic,
                truncate: bool = False) -> bytearray:
    """The decoded body, read as it streams in, within the request's deadline and `cap`.

    A socket timeout only bounds one read, and a buffered read of a chunk waits for the whole
    chunk: a body trickling in a byte at a time would never time out. So at the deadline a timer
    shuts the connection down, which ends any read at once. Past `cap` decoded bytes the read
    stops (urllib3 inflates a chunk at a time: a gzip bomb never grows past the cap).
    Raises BodyDeadline / BodyTooLarge (or, with `truncate`, returns the first `cap` bytes).
    The bytearray it was read into, not a copy (a fleet answer is tens of MB): read_bounded copies."""
    declared = response.headers.get("Content-Length", "")
    encoded = response.headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
    if declared.isascii() and declared.isdigit() and len(declared) < 20 and not encoded and int(declared) > cap \
            and not truncate:
        raise BodyTooLarge(cap)
    left = deadline - clock()
    if left <= 0:
        raise BodyDeadline()
    sock = _socket_of(response)
    fired = threading.Event()
    timer = None
    if sock is not None:
        timer = threading.Timer(left, _shutdown, (sock, fired))
        timer.daemon = True
        timer.start()
    body = bytearray()
    try:
        for chunk in response.iter_content(chunk_size=READ_CHUNK):
            body += chunk
            if len(body) > cap:
                if truncate:
                    return body[:cap]
                raise BodyTooLarge(cap)
            if clock() > deadline:
                raise BodyDeadline()
    except (BodyDeadline, BodyTooLarge):
        raise
    except Exception as exc:   # requests' RequestException, or http.client's (triage.sources.plainhttp)
        if fired.is_set() or "timed out" in str(exc):
            raise BodyDeadline() from None
        raise
    finally:
        if timer is not None:
            timer.cancel()
    if fired.is_set():
        raise BodyDeadline()
    return body


def format_size(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            value = n / size
            return f"{value:g} {unit}" if value.is_integer() else f"{value:.1f} {unit}"
    return f"{n} bytes"


def network_reason(exc: BaseException) -> str:
    """What went wrong on the wire, in words; never the URL (it may carry credentials)."""
    text = f"{exc!r} {exc}"
    if ("Name or service not known" in text or "nodename nor servname" in text or "NameResolutionError" in text
            or "Temporary failure in name resolution" in text or "No address associated" in text):
        return "the host name does not resolve"
    if "Connection refused" in text or "ConnectionRefusedError" in text:
        return "connection refused"
    if "FileNotFoundError" in text or "No such file or directory" in text:
        return "socket not found"
    if "PermissionError" in text or "Permission denied" in text:
        return "permission denied"
    if "CERTIFICATE_VERIFY_FAILED" in text or "SSLError" in text or "SSL:" in text:
        return f"TLS error: {tls_reason(exc)}"
    if "RemoteDisconnected" in text or "Connection aborted" in text or "reset by peer" in text:
        return "the connection was closed mid-answer"
    if "timed out" in text or "Timeout" in text:
        return "timed out"
    if "Network is unreachable" in text or "No route to host" in text:
        return "network unreachable"
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return redact(first)[:200]


class HttpProber:
    """GETs health URLs with a bounded pool; never raises for a failing endpoint (that is a finding)."""

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, max_concurrency: int = 8) -> None:
        self.timeout = timeout
        self.max_concurrency = max(1, max_concurrency)
        import requests
        import requests.adapters

        self._session = requests.Session()
        self._session.headers["User-Agent"] = "triage-health"
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=self.max_concurrency, max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def close(self) -> None:
        self._session.close()

    def probe(self, urls: Sequence[str]) -> list[EndpointProbe]:
        if len(urls) <= 1:
            return [self.probe_one(u) for u in urls]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(urls))) as pool:
            return list(pool.map(self.probe_one, urls))

    def probe_one(self, url: str) -> EndpointProbe:
        import requests

        from triage.models.health import EndpointProbe

        shown = display_url(url)
        start = time.perf_counter()
        try:
            with self._session.get(url, timeout=(min(3.0, self.timeout), self.timeout), stream=True,
                                   headers={"Accept": "application/json, */*;q=0.5"}) as response:
                raw = _read_some(response, start + self.timeout)
                latency = time.perf_counter() - start
                ctype = response.headers.get("Content-Type", "")
                status = response.status_code
        except (requests.exceptions.ConnectTimeout, requests.exceptions.ReadTimeout, _Deadline):
            return EndpointProbe(url=shown, status_code=None, latency=None, timed_out=True, timeout=self.timeout)
        except requests.exceptions.RequestException as exc:
            reason = network_reason(exc)
            return EndpointProbe(url=shown, status_code=None, latency=None, error=reason,
                                 timed_out=reason == "timed out", timeout=self.timeout)
        body = None
        text = raw.decode("utf-8", "replace")
        if "json" in ctype or text.lstrip().startswith(("{", "[")):
            import json

            try:
                body = json.loads(text)
            except ValueError:
                body = None
        return EndpointProbe(url=shown, status_code=status, latency=latency, body=body,
                             text="" if body is not None else text[:500], timeout=self.timeout)


class _Deadline(Exception):
    pass


def _read_some(response: Any, deadline: float) -> bytes:
    """At most MAX_BODY bytes, and not past the deadline (a body trickling in counts as a timeout)."""
    try:
        return read_bounded(response, deadline=deadline, cap=MAX_BODY, clock=time.perf_counter, truncate=True)
    except BodyDeadline:
        raise _Deadline() from None


# How a failed request reads on its one line (Prometheus, Alertmanager: any backend of requests).
def tls_hint(backend: str, exc: BaseException, reason: str) -> str:
    if "mismatch" in reason:
        return ""
    if "CERTIFICATE_VERIFY_FAILED" in str(exc) or "certificate verify failed" in str(exc):
        return f" (set {backend}.ca_file to the CA that signed it)"
    return ""


def first_line(exc: BaseException) -> str:
    return redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)[:200]


def connection_reason(exc: BaseException) -> str:
    text = str(exc)
    if "Name or service not known" in text or "nodename nor servname" in text or "NameResolutionError" in text \
            or "Temporary failure in name resolution" in text:
        return "the host name does not resolve"
    if "Connection refused" in text:
        return "connection refused"
    if "RemoteDisconnected" in text or "Connection aborted" in text or "reset by peer" in text:
        return "the connection was closed mid-answer"
    if "timed out" in text:
        return "timed out"
    return first_line(exc)
