"""The incident record (`triage.incident/v1`): what was queried, found and done.

It holds every query with its raw answer, so a record replays with no network; it is
written atomically and never overwritten without being asked to.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from triage import __version__
from triage.config import ServiceConfig
from triage.errors import ConfigError
from triage.files import WriteError, directory_lock, write_new

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
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
        raise ConfigError(f"incident record: a service entry is malformed ({exc})") from None


def record_text(record: Mapping[str, Any], path: Path | str = "incident.json") -> str:
    """The record as JSON whose text is inert (C1 and bidi controls \\u-escaped, like C0)."""
    from triage.render.json import inert_json

    try:
        return inert_json(record, indent=1) + "\n"
    except RecursionError:
        raise WriteError(f"cannot write {path}: the record nests too deeply to write as JSON") from None
    except ValueError as exc:
        raise WriteError(f"cannot write {path}: the record holds a value JSON cannot carry ({exc})") from None


def save(record: Mapping[str, Any], path: Path, *, force: bool = False) -> None:
    write_new(path, record_text(record, path), force=force)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def read_json(path: Path, what: str = "incident record", *, limit: int = MAX_RECORD_BYTES) -> Any:
    """A JSON file from outside, read bounded; every way it can be unusable is one line naming it."""
    path = Path(path)
    try:
        if os.path.isdir(path):
            raise ConfigError(f"{path}: is a directory, not an {what}")
        size = path.stat().st_size
        if size > limit:
            raise ConfigError(f"{path}: {size} bytes is too large for an {what} (limit {limit})")
        with open(path, "rb") as fh:  # bounded even for a pipe or a device, whose size says 0
            data = fh.read(limit + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what}: {exc.strerror}") from None
    if len(data) > limit:
        raise ConfigError(f"{path}: more than {limit} bytes is too large for an {what}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8; not an {what}") from None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); truncated or hand-edited?") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be an {what}") from None
    except ValueError as exc:  # NaN/Infinity, or an integer of more than 4300 digits
        reason = str(exc).split(":")[0] if "digits" in str(exc) else str(exc)
        raise ConfigError(f"{path}: not valid JSON ({reason}); not an {what}") from None


def _positive_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def load(path: Path) -> dict[str, Any]:
    path = Path(path)
    record = read_json(path, "incident record")
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
    for raw in record["services"]:
        try:
            service_from_json(raw)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc.message}") from None
    if record.get("step") is not None and not _positive_number(record["step"]):
        raise ConfigError(f"{path}: incident record: step must be a positive number of seconds, "
                          f"not {record['step']!r}")
    for key in ("window", "baseline"):
        start, end = (_instant(record[key].get(e), f"{key}.{e}", path) for e in ("start", "end"))
        if start >= end:
            raise ConfigError(f"{path}: incident record: {key}.start must be before {key}.end")
    _check_shapes(record, path)
    return record


def _instant(value: Any, where: str, path: Path) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{path}: incident record: {where} is not an RFC 3339 time: {value!r}") from None
    if moment.tzinfo is None:
        raise ConfigError(f"{path}: incident record: {where} has no time zone (RFC 3339 needs one): {value!r}")
    return moment


_KINDS: dict[type, str] = {dict: "an object", list: "a list", str: "a string"}


def _need(value: Any, kind: type | str, where: str, path: Path, *, optional: bool = True) -> Any:
    """`value` if it is of `kind` (a type, or "number": finite, not a bool); an absent optional
    section reads as empty, so a reader can walk it."""
    if value is None and optional:
        return {} if kind is dict else [] if kind is list else None
    if isinstance(kind, str):  # "number"
        if not (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)):
            raise ConfigError(f"{path}: incident record: {where} must be a number, not {value!r:.40}")
        return value
    if not isinstance(value, kind):
        raise ConfigError(f"{path}: incident record: {where} must be {_KINDS.get(kind, kind)}, "
                          f"not {type(value).__name__}")
    return value


def _check_shapes(record: dict[str, Any], path: Path) -> None:
    """Every section a reader walks has the shape the reader expects (a hand-edited record fails
    here, in one line naming the key, not deep inside a renderer with an AttributeError)."""
    _check_services(record, path)
    _check_queries(record, path)
    _check_inputs(record, path)
    _check_sections(record, path)
    _check_detect(record, path)
    rca = record.get("rca")
    if isinstance(rca, dict) and rca.get("schema") == "triage.fleet/v1":
        for i, row in enumerate(_need(rca.get("ranking"), list, "rca.ranking", path)):
            _need(row, dict, f"rca.ranking[{i}]", path, optional=False)
        for name, one in _need(rca.get("services"), dict, "rca.services", path).items():
            _check_rca(_need(one, dict, f"rca.services.{name}", path, optional=False), f"rca.services.{name}", path)
    elif isinstance(rca, dict):
        _check_rca(rca, "rca", path)


def _check_services(record: dict[str, Any], path: Path) -> None:
    for i, raw in enumerate(record["services"]):
        where = f"services[{i}]"
        for key in ("depends_on", "health_urls", "invariants"):
            _need(raw.get(key), list, f"{where}.{key}", path)
        for j, inv in enumerate(raw.get("invariants") or ()):
            _need(inv, dict, f"{where}.invariants[{j}]", path, optional=False)
        for name, queries in _need(raw.get("signals"), dict, f"{where}.signals", path).items():
            _need(queries, list, f"{where}.signals.{name}", path, optional=False)


def _check_queries(record: dict[str, Any], path: Path) -> None:
    for i, q in enumerate(record["queries"]):
        where = f"queries[{i}]"
        _need(q.get("query"), str, f"{where}.query", path, optional=False)
        for key in ("start", "end", "step"):
            if q.get(key) is not None:
                _need(q[key], "number", f"{where}.{key}", path)
        for j, item in enumerate(_need(q.get("result"), list, f"{where}.result", path)):
            _need(item, dict, f"{where}.result[{j}]", path, optional=False)
            _need(item.get("metric"), dict, f"{where}.result[{j}].metric", path)
            _need(item.get("values"), list, f"{where}.result[{j}].values", path)


def _check_inputs(record: dict[str, Any], path: Path) -> None:
    """What a replay takes besides the queries: the alerts seen, the catalog overrides, the rate interval."""
    for i, alert in enumerate(_need(record.get("live_alerts"), list, "live_alerts", path)):
        _need(alert, dict, f"live_alerts[{i}]", path, optional=False)
        _need(alert.get("labels"), dict, f"live_alerts[{i}].labels", path)
        if alert.get("starts_at"):
            _instant(alert["starts_at"], f"live_alerts[{i}].starts_at", path)
    for name, queries in _need(record.get("signal_overrides"), dict, "signal_overrides", path).items():
        _need(queries, list, f"signal_overrides.{name}", path, optional=False)
    if record.get("rate_interval") is not None:
        _need(record["rate_interval"], str, "rate_interval", path)


def _check_sections(record: dict[str, Any], path: Path) -> None:
    """What a run wrote besides its documents: the tool, the phases, the series, the actions."""
    for key in ("tool", "series", "phases"):
        _need(record.get(key), dict, key, path)
    for name, phase in (record.get("phases") or {}).items():
        _need(phase, dict, f"phases.{name}", path, optional=False)
    for service, signals in (record.get("series") or {}).items():
        _need(signals, dict, f"series.{service}", path, optional=False)
        for name, one in signals.items():
            _need(one, dict, f"series.{service}.{name}", path, optional=False)
            _need(one.get("points"), list, f"series.{service}.{name}.points", path)
    for i, action in enumerate(_need(record.get("actions"), list, "actions", path)):
        _need(action, dict, f"actions[{i}]", path, optional=False)


def _check_detect(record: dict[str, Any], path: Path) -> None:
    detect = record.get("detect") or {}
    for i, det in enumerate(_need(detect.get("services"), list, "detect.services", path)):
        _need(det, dict, f"detect.services[{i}]", path, optional=False)
        for j, alert in enumerate(_need(det.get("alerts"), list, f"detect.services[{i}].alerts", path)):
            _need(alert, dict, f"detect.services[{i}].alerts[{j}]", path, optional=False)
        _need(det.get("signals"), dict, f"detect.services[{i}].signals", path)


def _check_rca(rca: dict[str, Any], where: str, path: Path) -> None:
    for i, cand in enumerate(_need(rca.get("candidates"), list, f"{where}.candidates", path)):
        _need(cand, dict, f"{where}.candidates[{i}]", path, optional=False)
        for j, ev in enumerate(_need(cand.get("evidence"), list, f"{where}.candidates[{i}].evidence", path)):
            _need(ev, dict, f"{where}.candidates[{i}].evidence[{j}]", path, optional=False)
    _need(rca.get("capacity"), dict, f"{where}.capacity", path)
    _need(rca.get("missing_signals"), list, f"{where}.missing_signals", path)
    _need(rca.get("signals"), dict, f"{where}.signals", path)
    if rca.get("confidence") is not None:
        _need(rca["confidence"], "number", f"{where}.confidence", path)


def append_actions(path: Path, actions: Sequence[Mapping[str, Any]]) -> None:
    """Add actions taken to a record, keeping everything else as it was (atomically: on a full
    disk the record stays as it was and the failure is one line). Read, append and replace
    happen under a lock on the record's directory, so of two `mitigate --apply` recording into
    one record at once neither loses the other's actions."""
    path = Path(path)
    with directory_lock(path.parent):
        record = load(path)
        record.setdefault("actions", []).extend(dict(a) for a in actions)
        save(record, path, force=True)


def check_recordable(path: Path) -> None:
    """The record can take actions: readable as `triage.incident/v1` and its directory writable.

    Asked before anything is changed (`mitigate --apply --from`), not after."""
    load(path)
    # Try what the save does (a temp file beside the record) rather than os.access: that answers
    # for the real uid, while the write is made with the effective one.
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=path.parent)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot record actions: {path.parent} is not writable ({exc.strerror})") from None
    os.close(fd)
    os.unlink(probe)


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
