"""The alert that started a `triage serve` run, as the post-mortem tells it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from triage.postmortem.series import ts
from triage.render.escape import md


def notification_context(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """The alert's annotations and, once resolved, when it ended: of the notification `triage serve`
    ran for, or of the alerts `triage run --alerts` ran for; None for a record of plain `triage run`."""
    note = record.get("notification")
    origin = f"`triage serve` from the {md(str((note or {}).get('source') or 'alertmanager'))} notification of"
    if not isinstance(note, dict):
        note = record.get("triggered_by")
        if not isinstance(note, dict):
            return None
        origin = "`triage run --alerts` from the firing alert"
        note = {**note, "alert_count": len(note.get("alerts") or [])}
    first = next((a for a in note.get("alerts") or [] if isinstance(a, dict)), {})
    started, resolved = ts(note.get("started")), ts(note.get("resolved"))
    return {
        "origin": origin,
        "alertname": md(first.get("alertname") or ""), "summary": md(first.get("summary") or ""),
        "description": md(first.get("description") or ""), "runbook_url": md(first.get("runbook_url") or ""),
        "source": md(note.get("source") or "alertmanager"), "alerts": int(note.get("alert_count") or 0),
        "started": md(note.get("started") or ""), "resolved": md(note.get("resolved") or ""),
        "duration_minutes": round((resolved - started) / 60) if started and resolved else None,
    }
