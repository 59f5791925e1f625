"""`triage alerts` and `triage run --alerts`: the alerts Prometheus and Alertmanager hold now,
each mapped to a service by the labels `serve` uses, and grouped into incidents as `serve` groups
a notification (one incident per service and namespace; its window ends at the first alert's
start plus the settle delay)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from triage.analysis.detect import alert_status
from triage.errors import SourceError
from triage.models import Alert, Status, iso
from triage.serve.alerts import service_from_labels
from triage.sources.interface import AlertSource

SCHEMA = "triage.alerts/v1"
# Alertmanager says `active` for what Prometheus calls `firing` (it never holds pending alerts).
_STATE = {"active": "firing", "firing": "firing", "pending": "pending", "suppressed": "suppressed",
          "unprocessed": "unprocessed"}
_STATE_ORDER = {"firing": 0, "pending": 1}


@dataclass(frozen=True)
class ListedAlert:
    alert: Alert
    state: str
    service: str | None
    namespace: str | None
    sources: tuple[str, ...]
    fingerprint: str

    @property
    def status(self) -> Status:
        """What the alert says of the service: its severity when firing; pending says nothing yet."""
        return alert_status(self.alert) if self.state == "firing" else Status.OK

    def to_json(self) -> dict[str, Any]:
        a = self.alert
        return {"alertname": a.name, "state": self.state, "service": self.service, "namespace": self.namespace,
                "severity": a.severity, "status": self.status.value,
                "since": iso(a.starts_at) if a.starts_at else None, "summary": a.summary,
                "description": a.description, "runbook_url": a.runbook_url, "sources": list(self.sources),
                "fingerprint": self.fingerprint, "labels": dict(a.labels)}


@dataclass(frozen=True)
class AlertIncident:
    """The firing alerts of one service: one `run` each, as `serve` opens one incident per group."""

    service: str
    namespace: str | None
    starts_at: float
    window_end: float
    alerts: tuple[ListedAlert, ...]

    def to_json(self) -> dict[str, Any]:
        return {"service": self.service, "namespace": self.namespace, "started": _iso(self.starts_at),
                "window_end": _iso(self.window_end), "alerts": [a.alert.name for a in self.alerts]}


@dataclass(frozen=True)
class AlertListing:
    alerts: tuple[ListedAlert, ...]
    skipped: tuple[tuple[str, str], ...] = ()
    incidents: tuple[AlertIncident, ...] = field(default_factory=tuple)

    @property
    def status(self) -> Status:
        """The worst firing alert; UNKNOWN when a backend could not be asked and nothing critical
        was found (a quiet answer from half the backends is not "none firing")."""
        worst = Status.worst([a.status for a in self.alerts])
        if self.skipped and worst is not Status.CRITICAL:
            return Status.UNKNOWN
        return worst

    def to_json(self) -> dict[str, Any]:
        firing = [a for a in self.alerts if a.state == "firing"]
        return {"schema": SCHEMA, "status": self.status.value,
                "counts": {"firing": len(firing), "pending": sum(a.state == "pending" for a in self.alerts),
                           "unmapped": sum(a.service is None for a in firing)},
                "alerts": [a.to_json() for a in self.alerts],
                "incidents": [i.to_json() for i in self.incidents],
                "skipped": [{"source": s, "reason": r} for s, r in self.skipped]}


def _iso(ts: float) -> str:
    return iso(datetime.fromtimestamp(ts, tz=timezone.utc))


def fingerprint(labels: Mapping[str, str]) -> str:
    """One alert is one label set, whichever backend told us about it."""
    text = "\x00".join(f"{k}\x01{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _merge(old: ListedAlert, new: ListedAlert) -> ListedAlert:
    """The same alert from Prometheus and Alertmanager: firing wins over pending, the earlier start
    and the annotations that are there are kept."""
    a, b = old.alert, new.alert
    start = min((t for t in (a.starts_at, b.starts_at) if t is not None), default=None)
    state = old.state if _STATE_ORDER.get(old.state, 9) <= _STATE_ORDER.get(new.state, 9) else new.state
    alert = Alert(name=a.name, state=state, severity=a.severity or b.severity, source=a.source, labels=a.labels,
                  starts_at=start, summary=a.summary or b.summary, description=a.description or b.description,
                  runbook_url=a.runbook_url or b.runbook_url)
    return ListedAlert(alert, state, old.service, old.namespace, tuple(dict.fromkeys(old.sources + new.sources)),
                       old.fingerprint)


def list_alerts(sources: Sequence[AlertSource], keys: Sequence[str], *, service: str | None = None,
                namespace: str | None = None) -> AlertListing:
    """Every firing and pending alert of the backends, deduplicated by label set, firing first."""
    found: dict[str, ListedAlert] = {}
    skipped: list[tuple[str, str]] = []
    for source in sources:
        try:
            raw = source.alerts()
        except SourceError as exc:
            skipped.append((source.name, exc.message))
            continue
        for alert in raw:
            state = _STATE.get(alert.state, alert.state)
            if state not in _STATE_ORDER:
                continue
            mapped = service_from_labels([alert.labels], keys)
            svc, ns = mapped if mapped else (None, alert.labels.get("namespace") or None)
            item = ListedAlert(alert, state, svc, ns, (alert.source,), fingerprint(alert.labels))
            found[item.fingerprint] = _merge(found[item.fingerprint], item) if item.fingerprint in found else item
    rows = [a for a in found.values() if (service is None or a.service == service)
            and (namespace is None or a.namespace == namespace)]
    rows.sort(key=lambda a: (_STATE_ORDER[a.state], -a.status.rank, a.service or "~", a.alert.name,
                             a.alert.starts_at or datetime.max.replace(tzinfo=timezone.utc)))
    return AlertListing(tuple(rows), tuple(skipped))


def group_incidents(listing: AlertListing, settle: float, now: float | None = None) -> AlertListing:
    """The firing alerts that name a service, one incident per (service, namespace), as `serve`
    dedupes a group: its window ends at the first alert's start plus `settle`, never after now."""
    current = time.time() if now is None else now
    groups: dict[tuple[str, str | None], list[ListedAlert]] = {}
    for a in listing.alerts:
        if a.state == "firing" and a.service is not None:
            groups.setdefault((a.service, a.namespace), []).append(a)
    incidents = []
    for (svc, ns), members in groups.items():
        starts = [a.alert.starts_at.timestamp() for a in members if a.alert.starts_at is not None]
        start = min(starts) if starts else current
        incidents.append(AlertIncident(svc, ns, start, min(start + settle, current), tuple(members)))
    incidents.sort(key=lambda i: (i.starts_at, i.service))
    return AlertListing(listing.alerts, listing.skipped, tuple(incidents))
