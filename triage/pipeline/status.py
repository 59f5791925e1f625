"""The status of a whole incident record: what `triage run` and `triage demo` exit with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from triage.models import Status


def record_status(record: Mapping[str, Any]) -> Status:
    """The worst of the phases' statuses: detection, health, and every analysed service."""
    statuses = []
    detect = record.get("detect") or {}
    statuses.append(Status(detect.get("status", "ok")))
    health = record.get("health") or {}
    if health.get("status"):
        statuses.append(Status(health["status"]))
    rca = record.get("rca") or {}
    if rca.get("schema") == "triage.fleet/v1":
        statuses += [Status(s.get("status", "ok")) for s in (rca.get("services") or {}).values()]
    elif rca.get("status"):
        statuses.append(Status(rca["status"]))
    return Status.worst(statuses)
