"""Incidents: one per firing alert group. Repeats, `repeat_interval` notifications and further
alerts of the same group (or a fingerprint already in an open incident) add to it; `resolved`
closes it. Every change is saved (one JSON file per incident) before the spooled notification
that caused it is removed, so a restart picks up exactly where the process stopped."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from triage.incident import incident_id
from triage.models import iso
from triage.serve.alerts import Notification, service_of
from triage.serve.spool import read_json, write_json

# Alerts kept per incident (a group of thousands keeps its count, not every copy).
MAX_KEPT_ALERTS = 50
# Closed incidents kept in memory for GET /incidents; older ones stay on disk only.
MAX_CLOSED_IN_MEMORY = 1000


@dataclass
class Incident:
    id: str
    group_key: str
    service: str
    namespace: str | None
    status: str
    run: str
    opened: float
    starts_at: float
    window_end: float
    source: str = "alertmanager"
    external_url: str = ""
    receiver: str = ""
    fingerprints: list[str] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    notifications: int = 1
    alert_count: int = 0
    resolved_at: float | None = None
    record: str | None = None
    reason: str | None = None
    attempts: int = 0
    rerender: bool = False
    result: dict[str, Any] = field(default_factory=dict)
    sinks: dict[str, str] = field(default_factory=dict)

    @property
    def open(self) -> bool:
        return self.status == "firing"

    def summary(self) -> dict[str, Any]:
        """The row of GET /incidents (CONTRACT: id, service, status, bottleneck, confidence,
        started, resolved, record)."""
        return {"id": self.id, "service": self.service, "namespace": self.namespace, "status": self.status,
                "run": self.run, "bottleneck": self.result.get("bottleneck"),
                "confidence": self.result.get("confidence"), "severity": self.result.get("severity"),
                "started": _iso(self.starts_at), "resolved": _iso(self.resolved_at), "record": self.record,
                "alerts": self.alert_count, "notifications": self.notifications, "reason": self.reason}

    def notification_json(self) -> dict[str, Any]:
        """What the record keeps of the alerts that opened and closed the incident."""
        return {"source": self.source, "group_key": self.group_key, "status": self.status,
                "opened": _iso(self.opened), "started": _iso(self.starts_at), "resolved": _iso(self.resolved_at),
                "external_url": self.external_url, "receiver": self.receiver, "notifications": self.notifications,
                "alert_count": self.alert_count, "alerts": list(self.alerts)}


def _iso(ts: float | None) -> str | None:
    return iso(datetime.fromtimestamp(ts, tz=timezone.utc)) if ts is not None else None


def _alert_row(alert: Any) -> dict[str, Any]:
    return {"alertname": alert.labels.get("alertname", ""), "status": alert.status,
            "labels": dict(alert.labels), "starts_at": _iso(alert.starts_at), "ends_at": _iso(alert.ends_at),
            "fingerprint": alert.fingerprint, "generator_url": alert.generator_url, **dict(alert.annotations)}


class Store:
    """Incidents in memory and on disk, behind one lock; workers wait on its condition."""

    def __init__(self, directory: Path, *, settle: float, labels: tuple[str, ...]) -> None:
        self.directory = directory / "incidents"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.settle = settle
        self.labels = labels
        self.cond = threading.Condition()
        self.incidents: dict[str, Incident] = {}
        self._by_group: dict[str, str] = {}
        self._by_fingerprint: dict[str, str] = {}
        self._busy: set[str] = set()
        self._load()

    def _load(self) -> None:
        found = []
        for path in self.directory.glob("*.json"):
            try:
                found.append(Incident(**read_json(path)))
            except (OSError, ValueError, TypeError):
                path.rename(path.with_suffix(".bad"))
        found.sort(key=lambda i: i.opened)
        closed = [i for i in found if not i.open and i.run in ("done", "failed") and not i.rerender]
        forgotten = {i.id for i in closed[:-MAX_CLOSED_IN_MEMORY]}
        for inc in found:
            if inc.id in forgotten:
                continue
            if inc.run == "running":
                inc.run = "pending"  # the process stopped mid-run: run it again (its record was not written)
            self._index(inc)

    def _index(self, inc: Incident) -> None:
        self.incidents[inc.id] = inc
        if inc.open:
            self._by_group[inc.group_key] = inc.id
            for fp in inc.fingerprints:
                self._by_fingerprint[fp] = inc.id

    def _unindex(self, inc: Incident) -> None:
        if self._by_group.get(inc.group_key) == inc.id:
            del self._by_group[inc.group_key]
        for fp in inc.fingerprints:
            if self._by_fingerprint.get(fp) == inc.id:
                del self._by_fingerprint[fp]

    def save(self, inc: Incident) -> None:
        write_json(self.directory / f"{inc.id}.json", asdict(inc))

    def _find(self, n: Notification) -> Incident | None:
        ident = self._by_group.get(n.group_key)
        if ident is None:
            known = self._by_fingerprint
            ident = next((known[a.fingerprint] for a in n.alerts if a.fingerprint in known), None)
        return self.incidents.get(ident) if ident else None

    def apply(self, n: Notification, received: float) -> tuple[str, Incident | None]:
        """What the notification does: `opened`, `merged`, `resolved` or `ignored` (a resolved
        notification for no open incident)."""
        with self.cond:
            inc = self._find(n)
            if inc is None and n.status == "resolved":
                return "ignored", None
            if inc is None:
                inc = self._open(n, received)
                event = "opened"
            else:
                self._merge(inc, n)
                event = "merged"
            if n.status == "resolved":
                self._resolve(inc, n)
                event = "resolved"
            self.save(inc)
            self.cond.notify_all()
            return event, inc

    def _open(self, n: Notification, received: float) -> Incident:
        found = service_of(n, self.labels)
        service, namespace = found if found else ("unknown", None)
        starts = [a.starts_at for a in n.alerts if a.status == "firing" and a.starts_at is not None]
        start = min(starts) if starts else received
        end = min(start, received) + self.settle
        digest = hashlib.sha256(f"{n.group_key}\x00{received}".encode()).hexdigest()[:6]
        ident = f"{incident_id([service], _iso(end) or '')}-{digest}"
        inc = Incident(id=ident, group_key=n.group_key, service=service, namespace=namespace, status="firing",
                       run="pending", opened=received, starts_at=start, window_end=end, source=n.source,
                       external_url=n.external_url, receiver=n.receiver, notifications=0)
        self._merge(inc, n)
        self._index(inc)
        return inc

    def _merge(self, inc: Incident, n: Notification) -> None:
        inc.notifications += 1
        known = set(inc.fingerprints)
        for alert in n.alerts:
            if alert.fingerprint in known:
                continue
            known.add(alert.fingerprint)
            inc.fingerprints.append(alert.fingerprint)
            if inc.open:
                self._by_fingerprint[alert.fingerprint] = inc.id
            if len(inc.alerts) < MAX_KEPT_ALERTS:
                inc.alerts.append(_alert_row(alert))
        inc.alert_count = len(inc.fingerprints) + n.truncated

    def _resolve(self, inc: Incident, n: Notification) -> None:
        ends = [a.ends_at for a in n.alerts if a.ends_at is not None]
        inc.resolved_at = max(ends) if ends else time.time()
        self._unindex(inc)
        inc.status = "resolved"
        if inc.run == "pending" and inc.resolved_at > inc.starts_at:
            inc.window_end = min(inc.window_end, inc.resolved_at)
        if inc.run in ("done", "failed", "running"):
            inc.rerender = True  # the draft on disk (or about to be) does not say it ended

    def take(self, now: float) -> tuple[str, Incident] | None:
        """The next piece of work that is due: a run, or a draft to re-render after `resolved`.
        The caller holds the condition."""
        due = sorted((i for i in self.incidents.values() if i.id not in self._busy and (
            (i.run == "pending" and i.window_end <= now) or (i.rerender and i.run in ("done", "failed")))),
            key=lambda i: i.window_end)
        if not due:
            return None
        inc = due[0]
        self._busy.add(inc.id)
        if inc.run == "pending":
            inc.run = "running"
            inc.attempts += 1
            self.save(inc)
            return "run", inc
        return "render", inc

    def next_due(self) -> float | None:
        pending = [i.window_end for i in self.incidents.values() if i.run == "pending" and i.id not in self._busy]
        return min(pending) if pending else None

    def release(self, inc: Incident) -> None:
        with self.cond:
            self._busy.discard(inc.id)
            self.save(inc)
            self._trim()
            self.cond.notify_all()

    def _trim(self) -> None:
        closed = [i for i in self.incidents.values() if not i.open and i.run in ("done", "failed")
                  and not i.rerender and i.id not in self._busy]
        for inc in sorted(closed, key=lambda i: i.opened)[:-MAX_CLOSED_IN_MEMORY]:
            del self.incidents[inc.id]

    def listing(self) -> list[dict[str, Any]]:
        with self.cond:
            rows = [i.summary() for i in sorted(self.incidents.values(), key=lambda i: i.opened, reverse=True)]
        return rows

    def get(self, ident: str) -> Incident | None:
        with self.cond:
            return self.incidents.get(ident)

    def pending_sinks(self) -> Iterable[Incident]:
        with self.cond:
            return [i for i in self.incidents.values() if any(s == "pending" for s in i.sinks.values())]

    def counts(self) -> dict[str, int]:
        with self.cond:
            out = {"pending": 0, "running": 0, "done": 0, "failed": 0, "open": 0}
            for inc in self.incidents.values():
                out[inc.run] = out.get(inc.run, 0) + 1
                out["open"] += int(inc.open)
            return out
