"""Labelled recordings: the incident lab's (``data.om[.gz]`` + ``labels.json`` naming one
service) and any ``*.om`` whose directory holds a ``labels.json``, each served by its own
Prometheus and asked the same two ways as the library."""

from __future__ import annotations

import gzip
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench._common import ROOT
from bench.eval.ask import run_fleet, run_single
from bench.eval.cases import CLASSES, Case, Run
from testing.backends import prometheus_from_openmetrics


def _last_timestamp(text: str) -> float | None:
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line and not line.startswith("#"):
            try:
                return float(line.rsplit(" ", 1)[1])
            except (IndexError, ValueError):
                return None
    return None


@dataclass
class Recording:
    path: Path                       # the data file (.om or .om.gz)
    cases: list[Case]
    at: str | None
    extra: list[str] = field(default_factory=list)     # --window/--baseline of a lab recording
    config: dict | None = None                          # a triage.yaml to write for it


def _lab_recording(directory: Path, raw: dict) -> Recording | None:
    """The incident lab's format (lab/record.py): one service, its class, at/window/baseline."""
    data = next((directory / n for n in ("data.om", "data.om.gz") if (directory / n).exists()), None)
    if data is None or raw.get("bottleneck") not in CLASSES:
        return None
    source = str(data.relative_to(ROOT) if data.is_relative_to(ROOT) else data)
    case = Case(source, raw["service"], raw["bottleneck"], (), raw.get("trigger"), raw.get("story", "")[:80])
    svc = {"namespace": raw.get("namespace", "lab"), "database": raw["service"], "tier": 1,
           "depends_on": ["bank-api"]}
    if raw.get("invariants"):
        svc["invariants"] = raw["invariants"]
    return Recording(data, [case], raw["at"], ["--window", raw["window"], "--baseline", raw["baseline"]],
                     {"services": {raw["service"]: svc}})


def recording_sets(root: Path) -> list[Recording]:
    """Every labelled recording under root: the lab's directories (data.om[.gz] + labels.json
    naming one service) and plain ``*.om`` files with a labels.json of services."""
    found = []
    for labels_path in sorted(root.rglob("labels.json")):
        raw = json.loads(labels_path.read_text())
        if isinstance(raw, dict) and isinstance(raw.get("service"), str) and "bottleneck" in raw:
            rec = _lab_recording(labels_path.parent, raw)
            if rec is not None:
                found.append(rec)
            continue
        for om in sorted(labels_path.parent.glob("*.om")):
            this = raw[om.name] if isinstance(raw, dict) and isinstance(raw.get(om.name), dict) else raw
            at = this.get("at") if isinstance(this, dict) else None
            services = this.get("services", this) if isinstance(this, dict) else {}
            source = str(om.relative_to(ROOT) if om.is_relative_to(ROOT) else om)
            cases = []
            for service, value in services.items():
                if service in ("at", "services") or service.endswith(".om"):
                    continue
                if isinstance(value, str):
                    cases.append(Case(source, service, value))
                elif isinstance(value, dict) and value.get("bottleneck") in CLASSES:
                    cases.append(Case(source, service, value["bottleneck"], tuple(value.get("acceptable") or ()),
                                      value.get("trigger"), value.get("note", "")))
            bad = [c for c in cases if c.label not in CLASSES]
            if bad:
                print(f"warning: {labels_path}: labels that are not CONTRACT classes: "
                      f"{[(c.service, c.label) for c in bad]}", file=sys.stderr)
                cases = [c for c in cases if c.label in CLASSES]
            if cases:
                found.append(Recording(om, cases, at))
    return found


def evaluate_recording(rec: Recording, work: Path, single: Run, fleet: Run) -> dict:
    raw = rec.path.read_bytes()
    text = (gzip.decompress(raw) if rec.path.suffix == ".gz" else raw).decode("utf-8")
    at = rec.at
    if at is None:
        last = _last_timestamp(text)
        if last is None:
            raise SystemExit(f"{rec.path}: no samples")
        at = str(int(last))
    own = work / f"{rec.path.parent.name}-{rec.path.name.split('.')[0]}"
    own.mkdir(parents=True, exist_ok=True)
    cfg: Path | None
    if rec.config is not None:
        cfg = own / "triage.yaml"
        cfg.write_text(json.dumps(rec.config))          # JSON is YAML
    else:
        sibling = rec.path.parent / "triage.yaml"
        cfg = sibling if sibling.exists() else None
    t0 = time.perf_counter()
    with prometheus_from_openmetrics(text, own / "prom") as prom:
        load = time.perf_counter() - t0
        del text
        run_single(prom.url, cfg, at, rec.cases, single, work, rec.extra)
        info = run_fleet(prom.url, cfg, at, rec.cases, fleet, work, rec.extra)
    return {"load_seconds": load, **info}
