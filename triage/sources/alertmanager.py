"""Alertmanager's `/api/v2/alerts`: the alerts that are firing right now, routed or not."""

from __future__ import annotations

from typing import Any

import requests

from triage.config import BackendSettings, redact
from triage.errors import SourceError
from triage.models import Alert
from triage.sources.prometheus import parse_json_time


class AlertmanagerSource:
    backend = "alertmanager"

    def __init__(self, settings: BackendSettings) -> None:
        self.settings = settings
        self._session = requests.Session()
        self._session.verify = settings.ca_file or not settings.insecure_skip_verify
        self._session.headers["User-Agent"] = "triage"
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
        try:
            response = self._session.get(
                url, params={"active": "true", "silenced": "false", "inhibited": "false"},
                timeout=(min(3.0, self.settings.timeout), self.settings.timeout),
            )
        except requests.exceptions.Timeout:
            raise SourceError(f"{self.name} did not answer within {self.settings.timeout:g}s",
                              backend=self.backend) from None
        except requests.exceptions.RequestException as exc:
            reason = "connection refused" if "Connection refused" in str(exc) else redact(str(exc).splitlines()[0])[:200]
            raise SourceError(f"{self.name} is unreachable: {reason}", backend=self.backend) from None
        if response.status_code in (401, 403):
            raise SourceError(f"{self.name} rejected the credentials (HTTP {response.status_code})",
                              backend=self.backend)
        if response.status_code != 200:
            raise SourceError(f"{self.name} answered HTTP {response.status_code}", backend=self.backend)
        try:
            data: Any = response.json()
        except ValueError:
            raise SourceError(f"{self.name} sent an answer that is not JSON", backend=self.backend) from None
        out = []
        for raw in data if isinstance(data, list) else []:
            if not isinstance(raw, dict):
                continue
            labels = {str(k): str(v) for k, v in (raw.get("labels") or {}).items()}
            status = raw.get("status") or {}
            annotations = raw.get("annotations") or {}
            out.append(Alert(
                name=labels.get("alertname", "?"),
                state=str(status.get("state", "active")) if isinstance(status, dict) else "active",
                severity=labels.get("severity"),
                source="alertmanager",
                labels=labels,
                starts_at=parse_json_time(raw.get("startsAt")),
                summary=str(annotations.get("summary", "")),
            ))
        return out
