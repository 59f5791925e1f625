"""What a plan is made from: documents, never live objects.

A `triage.rca/v1` (or `triage.fleet/v1`) dict and a `triage.health/v1` dict, as `triage
rca`/`triage health` print them or as an incident record holds them. So a plan made live and
a plan made from a record a week later are the same plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage.config import ServiceConfig
from triage.errors import ConfigError, UsageError
from triage.incident import load, service_from_json


@dataclass(frozen=True)
class PlanInputs:
    """The documents of one incident a plan reads: rca documents per service, a health document,
    and the names its commands need (services, the URLs to paste)."""

    rcas: tuple[Mapping[str, Any], ...]
    health: Mapping[str, Any] | None
    services: Mapping[str, ServiceConfig]
    source: str = "live"
    record_path: Path | None = None
    prometheus_url: str | None = None
    alertmanager_url: str | None = None


def rca_documents(doc: Mapping[str, Any] | None, only: str | None = None) -> list[Mapping[str, Any]]:
    """The `triage.rca/v1` objects of a rca or fleet document, root cause first."""
    if not doc:
        return []
    schema = doc.get("schema")
    if schema == "triage.rca/v1":
        out = [doc]
    elif schema == "triage.fleet/v1":
        services = doc.get("services") or {}
        order = [r.get("service") for r in doc.get("ranking") or [] if isinstance(r, dict)]
        order += [n for n in services if n not in order]
        out = [services[n] for n in order if n in services and isinstance(services[n], dict)]
    else:
        raise ConfigError(f"not a root-cause document (schema {schema!r}; expected triage.rca/v1 or triage.fleet/v1)")
    if only is not None:
        chosen = [d for d in out if d.get("service") == only]
        if not chosen:
            names = ", ".join(str(d.get("service")) for d in out) or "none"
            raise UsageError(f"service '{only}' is not in the root-cause analysis (it has: {names})")
        return chosen
    if schema == "triage.fleet/v1":
        incidents = [d for d in out if d.get("bottleneck") not in ("none", None)]
        return incidents or out[:1]
    return out


def check_health(doc: Any, where: str) -> Mapping[str, Any] | None:
    if doc is None:
        return None
    if not isinstance(doc, dict) or doc.get("schema") != "triage.health/v1":
        schema = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
        raise ConfigError(f"{where}: not a health document (schema {schema!r}, expected triage.health/v1)")
    if not isinstance(doc.get("findings"), list):
        raise ConfigError(f"{where}: health document without a findings list")
    return doc


def incident_from_record(path: Path, *, service: str | None = None) -> PlanInputs:
    """`--from incident.json`: the record's rca and health, nothing from the network."""
    # The record's own reader: every section a reader walks is checked for its shape first.
    record = load(path)
    rcas = rca_documents(record.get("rca"), service) if record.get("rca") else []
    health = check_health(record.get("health"), f"{path}: health")
    if not rcas and health is None:
        raise ConfigError(f"{path}: the record holds neither a root-cause analysis nor health checks")
    services = {}
    for raw in record.get("services") or []:
        if isinstance(raw, dict) and raw.get("name"):
            svc = service_from_json(raw)
            services[svc.name] = svc
    return PlanInputs(rcas=tuple(rcas), health=health, services=services, source=str(path), record_path=path)
