"""Health and readiness endpoints (`/health`, `/ready`): one GET each, concurrently, each with
a timeout. Answers become `EndpointProbe` values; nothing from `requests` leaves this module.
Also home of `network_reason()`, the one-line wording of a network failure that the other
sources share."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import requests

from triage.config import display_url, redact
from triage.health.facts import EndpointProbe

MAX_BODY = 64 * 1024
DEFAULT_TIMEOUT = 5.0


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
        return "TLS error (certificate not trusted or handshake failed)"
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
        with ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(urls))) as pool:
            return list(pool.map(self.probe_one, urls))

    def probe_one(self, url: str) -> EndpointProbe:
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
            try:
                body = json.loads(text)
            except ValueError:
                body = None
        return EndpointProbe(url=shown, status_code=status, latency=latency, body=body,
                             text="" if body is not None else text[:500], timeout=self.timeout)


class _Deadline(Exception):
    pass


def _read_some(response: requests.Response, deadline: float) -> bytes:
    """At most MAX_BODY bytes, and not past the deadline (a body trickling in counts as a timeout)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=8192):
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_BODY:
            break
        if time.perf_counter() > deadline:
            raise _Deadline()
    return b"".join(chunks)[:MAX_BODY]
