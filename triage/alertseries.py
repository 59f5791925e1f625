"""Alerts read back from Prometheus' ALERTS series for an incident window, and which service an
alert belongs to (by its identifying labels)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone

from triage.config import ServiceConfig
from triage.errors import SourceError
from triage.models import Alert, RangeQuery
from triage.signals import Windows
from triage.sources.interface import MetricsSource

ALERT_LABELS = ("service", "container", "deployment", "app", "job")


def alerts_query(windows: Windows) -> RangeQuery:
    return RangeQuery('ALERTS{alertstate="firing"}', windows.window.start.timestamp(), windows.end, windows.step)


def alerts_from_series(source: MetricsSource, services: Sequence[ServiceConfig], windows: Windows) -> \
        dict[str, list[Alert]]:
    """Alerts that fired during the window, read back from the ALERTS series."""
    answer = source.query_range_many([alerts_query(windows)])[0]
    if isinstance(answer, SourceError):
        raise answer
    out: dict[str, dict[str, Alert]] = {}
    for item in answer:
        firing = [t for t, v in item.points if math.isfinite(v) and v > 0]
        if not firing:
            continue
        for svc in services:
            if not alert_matches(item.labels, svc):
                continue
            name = item.labels.get("alertname", "?")
            out.setdefault(svc.name, {}).setdefault(name, Alert(
                name=name, state="firing", severity=item.labels.get("severity"), source="ALERTS",
                labels={k: v for k, v in item.labels.items() if k != "__name__"},
                starts_at=datetime.fromtimestamp(min(firing), tz=timezone.utc),
            ))
    return {k: list(v.values()) for k, v in out.items()}


def alert_matches(labels: Mapping[str, str], service: ServiceConfig) -> bool:
    """An alert belongs to a service when one of its identifying labels names it."""
    for label in ALERT_LABELS:
        value = labels.get(label)
        key = label if label in ("container", "deployment") else "service"
        if value is not None and value == service.selector(key):
            return True
    return False


def alerts_for(alerts: Sequence[Alert], service: ServiceConfig) -> list[Alert]:
    return [a for a in alerts if alert_matches(a.labels, service)]
