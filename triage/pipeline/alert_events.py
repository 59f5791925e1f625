"""Alerts pending → firing → resolved, read from Prometheus' `ALERTS` series (its `alertstate`
label is `pending` while a rule's `for` runs, then `firing`; the series ends when the alert does).

One query per run, over the baseline and the window at the run's step, so a transition is known to
the step. The answer is kept in the record's queries like every other; a record made before this
query existed simply has no alert events (its replay does not ask for them)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from triage.alertseries import alert_matches
from triage.config import ServiceConfig
from triage.errors import SourceError
from triage.models import RangeQuery, Series, iso
from triage.signals import Windows

ALERT_EVENTS_QUERY = 'ALERTS{alertstate=~"pending|firing"}'
MAX_ALERT_SERIES = 200


def _stamp(t: float) -> str:
    return iso(datetime.fromtimestamp(t, tz=timezone.utc))


def transitions(states: Mapping[float, str], step: float, end: float,
                start: float | None = None) -> list[dict[str, Any]]:
    """[{time, state}] of one alert: `pending`, `firing`, and `resolved` (firing ended) or
    `inactive` (pending ended without firing). A step without a sample is a step without the alert.
    A state held at `start` (the first step asked) began earlier: it is marked `already`."""
    out: list[dict[str, Any]] = []
    previous: str | None = None
    last_t: float | None = None
    for t in sorted(states):
        state = states[t]
        if previous is not None and last_t is not None and t - last_t > step * 1.5:
            out.append({"time": _stamp(last_t + step), "state": "resolved" if previous == "firing" else "inactive"})
            previous = None
        if state != previous:
            move: dict[str, Any] = {"time": _stamp(t), "state": state}
            if not out and start is not None and t <= start + step / 2:
                move["already"] = True
            out.append(move)
        previous, last_t = state, t
    if previous is not None and last_t is not None and last_t + step <= end - step / 2:
        out.append({"time": _stamp(last_t + step), "state": "resolved" if previous == "firing" else "inactive"})
    return out


def events_from_series(series: Sequence[Series], services: Sequence[ServiceConfig], step: float,
                       end: float, start: float | None = None) -> list[dict[str, Any]]:
    """One row per alert (its labels without `alertstate`) and service it belongs to."""
    alerts: dict[tuple[str, tuple[tuple[str, str], ...]], dict[float, str]] = {}
    for item in series:
        state = item.labels.get("alertstate")
        if state not in ("pending", "firing"):
            continue
        labels = {k: v for k, v in item.labels.items() if k not in ("__name__", "alertstate")}
        for svc in services:
            if not alert_matches(labels, svc):
                continue
            states = alerts.setdefault((svc.name, tuple(sorted(labels.items()))), {})
            for t, v in item.points:
                if math.isfinite(v) and v > 0 and states.get(t) != "firing":
                    states[t] = state
    rows: list[dict[str, Any]] = []
    for (service, label_items), states in alerts.items():
        moves = transitions(states, step, end, start)
        if not moves:
            continue
        named = dict(label_items)
        rows.append({"service": service, "alertname": named.get("alertname", "?"),
                     "severity": named.get("severity"), "labels": named, "transitions": moves})
    rows.sort(key=lambda r: (str(r["transitions"][0]["time"]), str(r["service"]), str(r["alertname"])))
    return rows[:MAX_ALERT_SERIES]


def read_alert_events(source: Any, services: Sequence[ServiceConfig], windows: Windows,
                      entries: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The alert events of the run, or None when the backend (or the replayed record) has no
    answer; a successful answer is appended to `entries` (the record's queries)."""
    query = RangeQuery(ALERT_EVENTS_QUERY, windows.baseline.start.timestamp(), windows.end, windows.step)
    try:
        answer = source.query_range_many([query])[0]
    except SourceError:
        return None
    if isinstance(answer, SourceError):
        return None
    from triage.sources.snapshot import series_to_json

    entries.append({"query": query.query, "start": query.start, "end": query.end, "step": query.step,
                    "result": series_to_json(answer)})
    return events_from_series(answer, services, windows.step, windows.end, query.start)
