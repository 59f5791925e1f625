"""Alertmanager's `/api/v2/alerts`: the alerts that are firing right now, routed or not."""

from __future__ import annotations

import json
import time
from typing import Any

import requests

from triage.config import BackendSettings
from triage.errors import SourceError
from triage.models import Alert
from triage.secrets import redact
from triage.sources.http import (
    BodyDeadline,
    BodyTooLarge,
    format_size,
    network_reason,
    read_bounded,
    tls_reason,
    verify_for,
    warn_insecure,
)
from triage.sources.prometheus import parse_json_time

MAX_ERROR_BODY = 200


class AlertmanagerSource:
    backend = "alertmanager"

    def __init__(self, settings: BackendSettings) -> None:
        self.settings = settings
        self._session = requests.Session()
        # Per request too: REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE would replace a session's `verify`.
        self._verify = verify_for(settings.ca_file, settings.insecure_skip_verify)
        self._session.verify = self._verify
        self._session.headers["User-Agent"] = "triage"
        # A tenant (`X-Scope-OrgID` for Mimir's and Cortex' multi-tenant Alertmanager), a proxy's routing header.
        self._session.headers.update(
            (key, value if isinstance(value, str) else value.reveal()) for key, value in settings.headers)
        self._run_deadline = time.monotonic() + settings.run_deadline
        if settings.insecure_skip_verify:
            warn_insecure(self.name, self.backend)
        if settings.bearer_token is not None:
            self._session.headers["Authorization"] = f"Bearer {settings.bearer_token.reveal()}"
        if settings.username is not None and settings.password is not None:
            self._session.auth = (settings.username, settings.password.reveal())

    @property
    def name(self) -> str:
        return f"alertmanager at {self.settings.display_url}"

    def close(self) -> None:
        self._session.close()

    def alerts(self) -> list[Alert]:
        url = f"{self.settings.url}/api/v2/alerts"
        now = time.monotonic()
        deadline = min(now + self.settings.timeout, self._run_deadline)
        left = deadline - now
        if left <= 0:
            raise SourceError(f"{self.name}: the command ran past its deadline of {self.settings.run_deadline:g}s "
                              f"({self.backend}.deadline)", backend=self.backend)
        try:
            with self._session.get(
                url, params={"active": "true", "silenced": "false", "inhibited": "false"},
                timeout=(min(3.0, left), left), stream=True, verify=self._verify,
            ) as response:
                status = response.status_code
                body = read_bounded(response, deadline=deadline,
                                    cap=self.settings.max_response_bytes if status == 200 else 64 * 1024)
        except (requests.exceptions.Timeout, BodyDeadline):
            raise SourceError(f"{self.name} did not answer within {self.settings.timeout:g}s",
                              backend=self.backend) from None
        except BodyTooLarge as exc:
            raise SourceError(f"{self.name}: the answer to /api/v2/alerts is larger than the "
                              f"{format_size(exc.cap)} cap ({self.backend}.max_response_bytes)",
                              backend=self.backend) from None
        except requests.exceptions.SSLError as exc:
            raise SourceError(f"{self.name}: TLS error: {tls_reason(exc)}", backend=self.backend) from None
        except requests.exceptions.RequestException as exc:
            if "timed out" in str(exc):
                raise SourceError(f"{self.name} did not answer within {self.settings.timeout:g}s",
                                  backend=self.backend) from None
            raise SourceError(f"{self.name} is unreachable: {network_reason(exc)}", backend=self.backend) from None
        if status in (401, 403):
            # The body says which: a tenant front's "no org id", a proxy's unknown token.
            said = redact(" ".join(body[:MAX_ERROR_BODY].decode("utf-8", "replace").split()))
            said = f": {said}" if said and said.lower() not in ("unauthorized", "forbidden") else ""
            hint = f" ({self.settings.auth_hint})" if self.settings.auth_hint else ""
            what = "rejected the credentials" if status == 401 else "denied access"
            raise SourceError(f"{self.name} {what} (HTTP {status}){said}{hint}", backend=self.backend)
        if status != 200:
            raise SourceError(f"{self.name} answered HTTP {status}", backend=self.backend)
        try:
            data: Any = json.loads(body)
        except (ValueError, RecursionError):
            raise SourceError(f"{self.name} sent an answer that is not JSON", backend=self.backend) from None
        return [_alert(raw) for raw in (data if isinstance(data, list) else []) if isinstance(raw, dict)]


def _alert(raw: dict) -> Alert:
    state = raw.get("status")
    return Alert.from_api(raw, source="alertmanager",
                          state=str(state.get("state", "active")) if isinstance(state, dict) else "active",
                          starts_at=parse_json_time(raw.get("startsAt")))
