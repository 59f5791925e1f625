"""The incident record (`triage.incident/v1`): what was queried, found and done.

It holds every query with its raw answer, so a record replays with no network; it is
written atomically and never overwritten without being asked to.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping, Sequence

from triage import __version__
from triage.config import ServiceConfig
from triage.errors import ConfigError, UsageError

SCHEMA = "triage.incident/v1"
MAX_RECORD_BYTES = 200 * 1024 * 1024


def incident_id(service_names: Sequence[str], end_iso: str) -> str:
    stamp = end_iso.replace("-", "").replace(":", "")
    who = service_names[0] if len(service_names) == 1 else f"{len(service_names)}-services"
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in who)[:60]
    return f"{stamp}-{safe}"


def service_to_json(svc: ServiceConfig) -> dict[str, Any]:
    return {
        "name": svc.name, "namespace": svc.namespace, "database": svc.database, "tier": svc.tier,
        "depends_on": list(svc.depends_on), "health_urls": list(svc.health_urls), "container": svc.container,
        "deployment": svc.deployment, "hpa": svc.hpa,
        "signals": {k: list(v) for k, v in svc.signals.items()},
        "invariants": [dict(i) for i in svc.invariants], "configured": svc.configured,
    }


def service_from_json(raw: Mapping[str, Any]) -> ServiceConfig:
    try:
        return ServiceConfig(
            name=str(raw["name"]), namespace=str(raw.get("namespace") or "default"),
            database=raw.get("database"), tier=int(raw.get("tier") or 2),
            depends_on=tuple(raw.get("depends_on") or ()), health_urls=tuple(raw.get("health_urls") or ()),
            container=raw.get("container"), deployment=raw.get("deployment"), hpa=raw.get("hpa"),
            signals={k: tuple(v) for k, v in (raw.get("signals") or {}).items()},
            invariants=tuple(raw.get("invariants") or ()), configured=bool(raw.get("configured")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"incident record: a service entry is malformed ({exc})") from None


def write_new(path: Path, text: str, *, force: bool = False) -> None:
    """Create `path` atomically (temp file + rename); refuse to replace a file unless forced."""
    path = Path(path)
    if path.exists() and not force:
        raise UsageError(f"{path} already exists; it may hold someone's edits (use --force to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save(record: Mapping[str, Any], path: Path, *, force: bool = False) -> None:
    write_new(path, json.dumps(record, indent=1, ensure_ascii=False, allow_nan=False) + "\n", force=force)


def load(path: Path) -> dict[str, Any]:
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the incident record: {exc.strerror}") from None
    if size > MAX_RECORD_BYTES:
        raise ConfigError(f"{path}: {size} bytes is too large for an incident record")
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, not an incident record")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8; not an incident record") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the incident record: {exc.strerror}") from None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); truncated or hand-edited?") from None
    if not isinstance(record, dict):
        raise ConfigError(f"{path}: not an incident record (a JSON object with schema {SCHEMA})")
    schema = record.get("schema")
    if schema != SCHEMA:
        if isinstance(schema, str) and schema.startswith("triage.incident/v"):
            raise ConfigError(f"{path}: written by a newer triage ({schema}); this version reads {SCHEMA}")
        raise ConfigError(f"{path}: not an incident record (schema {schema!r}, expected {SCHEMA})")
    for key, kind in (("services", list), ("window", dict), ("baseline", dict), ("queries", list)):
        if not isinstance(record.get(key), kind):
            raise ConfigError(f"{path}: incident record is missing '{key}' or it is not a {kind.__name__}")
    for key in ("detect", "health", "rca", "playbooks"):
        if record.get(key) is not None and not isinstance(record[key], dict):
            raise ConfigError(f"{path}: incident record: '{key}' must be an object or null")
    if not all(isinstance(q, dict) for q in record["queries"]):
        raise ConfigError(f"{path}: incident record: 'queries' must be a list of objects")
    if not all(isinstance(s, dict) and isinstance(s.get("name"), str) and s["name"] for s in record["services"]):
        raise ConfigError(f"{path}: incident record: every service needs a name")
    for key in ("window", "baseline"):
        for end in ("start", "end"):
            value = record[key].get(end)
            try:
                datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                raise ConfigError(f"{path}: incident record: {key}.{end} is not an RFC 3339 time: {value!r}") from None
    return record


def append_actions(path: Path, actions: Sequence[Mapping[str, Any]]) -> None:
    """Add actions taken to a record, keeping everything else as it was."""
    record = load(path)
    record.setdefault("actions", []).extend(dict(a) for a in actions)
    save(record, path, force=True)


def new_record(*, services: Sequence[ServiceConfig], window: Mapping[str, str], baseline: Mapping[str, str],
               step: float, rate_interval: str, backend: str, incident: str) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "id": incident,
        "tool": {"name": "triage", "version": __version__},
        "services": [service_to_json(s) for s in services],
        "window": dict(window),
        "baseline": dict(baseline),
        "step": step,
        "rate_interval": rate_interval,
        "backend": backend,
        "phases": {},
        "queries": [],
        "live_alerts": [],
        "detect": None,
        "health": None,
        "rca": None,
        "playbooks": None,
        "actions": [],
        "series": {},
    }
