"""The replay of an incident record: the inputs a live run had, from the record alone."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from triage.catalog import Catalog
from triage.config import Settings
from triage.errors import TriageError
from triage.incident import service_from_json
from triage.models import Alert
from triage.pipeline.phases import Target
from triage.pipeline.record import PlaybookRunner, run_phases
from triage.signals import Windows, make_windows
from triage.sources.interface import AlertSource
from triage.sources.snapshot import SnapshotSource


class _ReplayAlerts:
    name = "incident record (live alerts)"

    def __init__(self, raw: Sequence[Mapping[str, Any]]) -> None:
        self.raw = raw

    def alerts(self) -> list[Alert]:
        out = []
        for a in self.raw:
            starts = a.get("starts_at")
            out.append(Alert(
                name=str(a.get("alertname", "?")), state=str(a.get("state", "firing")), severity=a.get("severity"),
                source=str(a.get("source", "record")),
                labels={str(k): str(v) for k, v in (a.get("labels") or {}).items()},
                starts_at=datetime.fromisoformat(starts.replace("Z", "+00:00")) if starts else None,
                summary=str(a.get("summary", "")),
                description=str(a.get("description") or ""), runbook_url=str(a.get("runbook_url") or ""),
            ))
        return out



def replay_inputs(record: Mapping[str, Any], settings: Settings) -> tuple[Settings, Windows, Target, SnapshotSource,
                                                                        list[AlertSource], float]:
    """What a live run had: its services, windows, answers and alerts, from the record alone."""
    services = tuple(service_from_json(s) for s in record["services"])
    if not services:
        raise TriageError("the incident record names no service")
    try:
        start = datetime.fromisoformat(record["window"]["start"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(record["window"]["end"].replace("Z", "+00:00"))
        base_start = datetime.fromisoformat(record["baseline"]["start"].replace("Z", "+00:00"))
        step = float(record.get("step") or 15)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise TriageError("the incident record's window, baseline or step is malformed") from None
    windows = make_windows(end, end - start, start - base_start, step)
    replay_settings = Settings(
        config_path=settings.config_path, prometheus=None, alertmanager=None,
        services={s.name: s for s in services if s.configured} | {
            k: v for k, v in settings.services.items() if k not in {s.name for s in services}},
        signals={k: tuple(v) for k, v in (record.get("signal_overrides") or {}).items()},
        rate_interval=str(record.get("rate_interval") or settings.rate_interval),
        step=step, max_concurrency=1, queries_dirs=settings.queries_dirs, playbooks_dirs=settings.playbooks_dirs,
        templates_dirs=settings.templates_dirs, default_namespace=settings.default_namespace,
    )
    target = Target(services=services, fleet=bool(record.get("fleet")))
    source = SnapshotSource(record["queries"])
    alerts: list[AlertSource] = [_ReplayAlerts(record.get("live_alerts") or [])]
    return replay_settings, windows, target, source, alerts, windows.end



def replay_record(record: Mapping[str, Any], settings: Settings, catalog: Catalog, *, include_health: bool,
                  playbooks: Callable[[Settings], PlaybookRunner | None]) -> dict[str, Any]:
    """The analysis of a record run again on its own answers: a new record, same evidence.

    `playbooks` makes the phase-4 runner from the replay's settings (the record's services)."""
    replay_settings, windows, target, source, alerts, now = replay_inputs(record, settings)
    health = (lambda _target: record.get("health")) if include_health and record.get("health") else None
    new, _ = run_phases(replay_settings, catalog, source, windows, target, alert_sources=alerts, health=health,
                        playbooks=playbooks(replay_settings), now=now, backend=record.get("backend") or "")
    new["actions"] = list(record.get("actions") or [])
    new["replayed_from"] = record.get("id")
    return new
