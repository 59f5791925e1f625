"""Outbound webhooks (Slack incoming webhooks, generic JSON receivers): one POST with a deadline
on the whole exchange, the answer read bounded, retried with backoff. The URL is a secret (a
Slack webhook URL is its own credential): it never appears in what this module returns."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests

from triage.secrets import Secret
from triage.sources.http import BodyDeadline, BodyTooLarge, network_reason, read_bounded

MAX_ANSWER = 16 * 1024


@dataclass(frozen=True)
class Delivery:
    ok: bool
    attempts: int
    reason: str = ""


def _once(session: requests.Session, url: Secret, body: bytes, timeout: float) -> str:
    """'' when delivered, else why not (no URL in it)."""
    deadline = time.monotonic() + timeout
    try:
        with session.post(url.reveal(), data=body, timeout=(min(3.0, timeout), timeout), stream=True,
                          headers={"Content-Type": "application/json", "User-Agent": "triage-serve"},
                          allow_redirects=False) as response:
            read_bounded(response, deadline=deadline, cap=MAX_ANSWER, truncate=True)
            if 200 <= response.status_code < 300:
                return ""
            return f"HTTP {response.status_code}"
    except (BodyDeadline, requests.exceptions.Timeout):
        return f"no answer within {timeout:g}s"
    except BodyTooLarge:
        return "answer too large"
    except requests.exceptions.RequestException as exc:
        return network_reason(exc)


def post_json(url: Secret, payload: Any, *, timeout: float, retries: int, stop: threading.Event | None = None,
              backoff: float = 1.0) -> Delivery:
    """POST `payload` as JSON; up to 1 + `retries` attempts, waiting 1 s, 2 s, 4 s ... between them
    (or less when `stop` is set: a draining receiver does not wait out a backoff)."""
    body = json.dumps(payload).encode()
    reason = ""
    with requests.Session() as session:
        for attempt in range(1, retries + 2):
            reason = _once(session, url, body, timeout)
            if not reason:
                return Delivery(True, attempt)
            if attempt <= retries:
                waiter = stop or threading.Event()
                if waiter.wait(backoff * 2 ** (attempt - 1)):
                    return Delivery(False, attempt, f"{reason} (stopped before retrying)")
    return Delivery(False, retries + 1, reason)
