"""Alertmanager's webhook body (version 4) and Grafana's, checked and reduced to a Notification.

Everything here is from outside: each field is checked for type and size before it is kept,
and a body that does not fit is refused with one sentence saying which field is wrong — before
anything is spooled.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

MAX_ALERTS = 5000
MAX_LABELS = 128
MAX_TEXT = 4096
# Annotations that travel into the record, the message and the post-mortem.
KEPT_ANNOTATIONS = ("summary", "description", "runbook_url")
_FRACTION = re.compile(r"(\.\d{1,6})\d*")


class InvalidBody(Exception):
    """The body is not a notification we can take; the message says why (a 4xx)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class AlertItem:
    status: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: float | None
    ends_at: float | None
    fingerprint: str
    generator_url: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "labels": dict(self.labels), "annotations": dict(self.annotations),
                "starts_at": self.starts_at, "ends_at": self.ends_at, "fingerprint": self.fingerprint,
                "generator_url": self.generator_url}

    @staticmethod
    def from_json(raw: Mapping[str, Any]) -> AlertItem:
        return AlertItem(status=raw["status"], labels=dict(raw["labels"]), annotations=dict(raw["annotations"]),
                         starts_at=raw.get("starts_at"), ends_at=raw.get("ends_at"),
                         fingerprint=raw["fingerprint"], generator_url=raw.get("generator_url") or "")


@dataclass(frozen=True)
class Notification:
    status: str
    group_key: str
    alerts: tuple[AlertItem, ...]
    common_labels: Mapping[str, str] = field(default_factory=dict)
    external_url: str = ""
    receiver: str = ""
    truncated: int = 0
    source: str = "alertmanager"

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "group_key": self.group_key, "alerts": [a.to_json() for a in self.alerts],
                "common_labels": dict(self.common_labels), "external_url": self.external_url,
                "receiver": self.receiver, "truncated": self.truncated, "source": self.source}

    @staticmethod
    def from_json(raw: Mapping[str, Any]) -> Notification:
        return Notification(status=raw["status"], group_key=raw["group_key"],
                            alerts=tuple(AlertItem.from_json(a) for a in raw["alerts"]),
                            common_labels=dict(raw.get("common_labels") or {}),
                            external_url=raw.get("external_url") or "", receiver=raw.get("receiver") or "",
                            truncated=int(raw.get("truncated") or 0), source=raw.get("source") or "alertmanager")


def timestamp(value: Any, where: str) -> float | None:
    """RFC 3339 as Alertmanager writes it (nanoseconds, `Z`); Go's zero time is no time."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidBody(f"{where} must be an RFC 3339 time string")
    if value.startswith("0001-01-01"):
        return None
    text = _FRACTION.sub(lambda m: m.group(1), value.strip())
    text = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidBody(f"{where}: {value[:40]!r} is not an RFC 3339 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _text(value: Any, where: str, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise InvalidBody(f"{where} must be a string")
    if len(value) > MAX_TEXT:
        raise InvalidBody(f"{where} is longer than {MAX_TEXT} characters")
    return value


def _labels(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidBody(f"{where} must be an object of strings")
    if len(value) > MAX_LABELS:
        raise InvalidBody(f"{where} has more than {MAX_LABELS} entries")
    return {_text(k, f"{where} key"): _text(v, f"{where}.{str(k)[:40]}", required=True) for k, v in value.items()}


def _fingerprint(labels: Mapping[str, str]) -> str:
    """Alertmanager's own fingerprint is a hash of the label set; an alert without one gets ours."""
    text = "\x00".join(f"{k}\x01{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _status(value: Any, where: str) -> str:
    mapped = {"firing": "firing", "resolved": "resolved", "alerting": "firing", "ok": "resolved"}.get(
        value if isinstance(value, str) else "")
    if mapped is None:
        raise InvalidBody(f"{where} must be 'firing' or 'resolved'")
    return mapped


def _alert(raw: Any, index: int, default_status: str) -> AlertItem:
    where = f"alerts[{index}]"
    if not isinstance(raw, dict):
        raise InvalidBody(f"{where} must be an object")
    labels = _labels(raw.get("labels"), f"{where}.labels")
    if not labels:
        raise InvalidBody(f"{where}.labels is empty: an alert is known by its labels")
    annotations = _labels(raw.get("annotations"), f"{where}.annotations")
    status = _status(raw.get("status", default_status), f"{where}.status")
    return AlertItem(
        status=status, labels=labels,
        annotations={k: v for k, v in annotations.items() if k in KEPT_ANNOTATIONS},
        starts_at=timestamp(raw.get("startsAt"), f"{where}.startsAt"),
        ends_at=timestamp(raw.get("endsAt"), f"{where}.endsAt"),
        fingerprint=_text(raw.get("fingerprint"), f"{where}.fingerprint") or _fingerprint(labels),
        generator_url=_text(raw.get("generatorURL"), f"{where}.generatorURL"),
    )


def _grafana_legacy(body: Mapping[str, Any]) -> dict[str, Any]:
    """Grafana's legacy alerting body (ruleName, state, tags) as a one-alert group."""
    labels = {**_labels(body.get("tags"), "tags"), "alertname": _text(body.get("ruleName"), "ruleName") or "grafana"}
    annotations = {"summary": _text(body.get("title"), "title"), "description": _text(body.get("message"), "message")}
    rule = str(body.get("ruleId") or labels["alertname"])
    return {"version": "4", "status": body.get("state"), "groupKey": f"grafana-legacy:{rule}",
            "commonLabels": labels, "externalURL": _text(body.get("ruleUrl"), "ruleUrl"),
            "alerts": [{"labels": labels, "annotations": {k: v for k, v in annotations.items() if v},
                        "status": body.get("state")}]}


def parse(body: bytes) -> Notification:
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidBody("the body is not JSON", status=400) from None
    if not isinstance(doc, dict):
        raise InvalidBody("the body must be a JSON object (an Alertmanager or Grafana webhook notification)")
    source = "alertmanager"
    if "alerts" not in doc and "ruleName" in doc:
        doc, source = _grafana_legacy(doc), "grafana"
    elif "orgId" in doc:
        source = "grafana"
    version = doc.get("version")
    if version is not None and str(version) not in ("4", "1"):
        raise InvalidBody(f"webhook version {str(version)[:10]!r} is not supported (Alertmanager's is 4)")
    status = _status(doc.get("status"), "status")
    alerts = doc.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise InvalidBody("alerts must be a non-empty list")
    if len(alerts) > MAX_ALERTS:
        raise InvalidBody(f"more than {MAX_ALERTS} alerts in one notification")
    items = tuple(_alert(a, i, status) for i, a in enumerate(alerts))
    common = _labels(doc.get("commonLabels"), "commonLabels")
    group_key = _text(doc.get("groupKey"), "groupKey") or _fingerprint(
        _labels(doc.get("groupLabels"), "groupLabels") or common or items[0].labels)
    truncated = doc.get("truncatedAlerts", 0)
    if isinstance(truncated, bool) or not isinstance(truncated, int) or truncated < 0:
        raise InvalidBody("truncatedAlerts must be a whole number")
    return Notification(status=status, group_key=group_key, alerts=items, common_labels=common,
                        external_url=_text(doc.get("externalURL"), "externalURL"),
                        receiver=_text(doc.get("receiver"), "receiver"), truncated=truncated, source=source)


def service_of(notification: Notification, keys: Sequence[str]) -> tuple[str, str | None] | None:
    """(service, namespace) from the first of `keys` the group's common labels carry, else the
    first firing alert's; None when no alert names a service."""
    firing = [a for a in notification.alerts if a.status == "firing"] or list(notification.alerts)
    return service_from_labels((notification.common_labels, *(a.labels for a in firing)), keys)


def service_from_labels(label_sets: Sequence[Mapping[str, str]], keys: Sequence[str]) -> tuple[str, str | None] | None:
    """(service, namespace) from the first label set that has one of `keys` (tried in order);
    `triage alerts` maps the alerts it lists with the same rule."""
    for labels in label_sets:
        for key in keys:
            value = labels.get(key, "").strip()
            if value:
                return value, labels.get("namespace") or None
    return None
