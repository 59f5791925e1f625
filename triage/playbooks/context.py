"""What the names of a step resolve to, for one service of the incident (and maybe one finding).

The rca document gives the signals, capacity and words; the config gives the names commands
need (deployment, container, hpa); a health finding adds its target, and when it stands on
its own (no rca for its service) its names stand in for the service's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from triage.config import ServiceConfig
from triage.playbooks.expr import Missing
from triage.playbooks.inputs import PlanInputs
from triage.playbooks.names import FINDING_STRINGS, RCA_STRINGS, SIGNALS

_POD_OF_DEPLOYMENT = re.compile(r"^(?P<w>[a-z0-9]([-a-z0-9]*[a-z0-9])?)-[a-z0-9]{6,10}-[a-z0-9]{5}$")
_NO_RCA = "no root-cause analysis for this target"


def workload_of(finding: Mapping[str, Any]) -> str | None:
    """The Deployment a finding belongs to, when its name says so."""
    kind, name = finding.get("kind"), str(finding.get("name") or "")
    if kind == "deployment":
        return name
    if kind == "pod":
        m = _POD_OF_DEPLOYMENT.match(name)
        return m.group("w") if m else None
    return None


@dataclass
class Context:
    """Everything names and placeholders resolve to, for one service (and maybe one finding)."""

    rca: Mapping[str, Any] | None
    words: dict[str, Any]
    numbers: dict[str, Any] = field(default_factory=dict)
    finding: Mapping[str, Any] | None = None

    def lookup(self, name: str) -> Any:
        if name in self.numbers:
            return self.numbers[name]
        base, _, attr = name.partition(".")
        if base in SIGNALS:
            return self._signal(name, base, attr)
        if base == "capacity":
            return self._capacity(name, attr)
        if name in RCA_STRINGS or name == "confidence" or name == "invariants_violated":
            return self._rca_value(name)
        if name in FINDING_STRINGS:
            if self.finding is None:
                return Missing((name,), f"{name}: no health finding")
            key = "status" if name == "finding_status" else name
            value = self.finding.get(key)
            return Missing((name,), f"finding has no {key}") if value is None else str(value)
        if name in self.words:
            value = self.words[name]
            return Missing((name,), f"{name} is not known for this target") if value is None else value
        return Missing((name,), f"{name} is not known")

    def _signal(self, name: str, base: str, attr: str) -> Any:
        if self.rca is None:
            return Missing((base,), f"{base} is missing: {_NO_RCA}")
        sig = (self.rca.get("signals") or {}).get(base)
        if not isinstance(sig, dict):
            why = (self.rca.get("missing_reasons") or {}).get(base)
            return Missing((base,), f"{base} is missing" + (f" ({why})" if why else ""))
        if attr == "change":
            b: Any = sig.get("baseline")
            w: Any = sig.get("window")
            if not _isnum(b) or not _isnum(w) or b == 0:
                return Missing((name,), f"{name} is missing (no baseline to compare with)")
            return w / b
        value: Any = sig.get(attr or "window")
        if not _isnum(value):
            return Missing((name,), f"{name} is missing")
        return float(value)

    def _capacity(self, name: str, attr: str) -> Any:
        if self.rca is None:
            return Missing((name,), f"{name} is missing: {_NO_RCA}")
        value: Any = (self.rca.get("capacity") or {}).get(attr)
        if isinstance(value, bool):
            return value
        if not _isnum(value):
            return Missing((name,), f"{name} is missing (capacity math lacked a term)")
        return float(value)

    def _rca_value(self, name: str) -> Any:
        if self.rca is None:
            return Missing((name,), f"{name} is unknown: {_NO_RCA}")
        if name == "invariants_violated":
            return any(isinstance(i, dict) and i.get("violated") for i in self.rca.get("invariants") or [])
        value = self.rca.get(name)
        if value is None:
            return Missing((name,), f"{name} is not in the root-cause analysis")
        return float(value) if name == "confidence" else str(value)


def _isnum(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _minutes(rng: Any) -> float | None:
    if not isinstance(rng, dict):
        return None
    try:
        start = datetime.fromisoformat(str(rng["start"]).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(rng["end"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
    return (end - start).total_seconds() / 60


_DB_SIGNALS = ("db_connections_ratio", "db_lock_waits", "db_max_connections", "db_latency_p95")
_MYSQL_FAMILIES = ("mysql_global_", "mysql_info_schema_", "mysql_perf_schema_")


def database_engine(doc: Mapping[str, Any]) -> str:
    """`mysql` when a database signal of the rca was answered by mysqld_exporter's families, else `postgres`."""
    signals = doc.get("signals") or {}
    for name in _DB_SIGNALS:
        sig = signals.get(name) if isinstance(signals, dict) else None
        query = sig.get("query") if isinstance(sig, dict) else None
        if isinstance(query, str) and any(prefix in query for prefix in _MYSQL_FAMILIES):
            return "mysql"
    return "postgres"


def service_context(rca: Mapping[str, Any] | None, svc: ServiceConfig | None, inputs: PlanInputs) -> Context:
    doc = rca or {}
    name = doc.get("service") or (svc.name if svc else None)
    namespace = doc.get("namespace") or (svc.namespace if svc else None)
    cfg = svc or (ServiceConfig(name=name, namespace=namespace or "default") if name else None)
    window = _minutes(doc.get("window"))
    words = {
        "service": name,
        "namespace": namespace,
        "deployment": cfg.selector("deployment") if cfg else None,
        "container": cfg.selector("container") if cfg else None,
        "database": cfg.selector("datname") if cfg else None,
        "hpa": cfg.selector("horizontalpodautoscaler") if cfg else None,
        "prometheus_url": inputs.prometheus_url or "$TRIAGE_PROMETHEUS_URL",
        "alertmanager_url": inputs.alertmanager_url or "$TRIAGE_ALERTMANAGER_URL",
        "since": f"{max(1, round(window))}m" if window else "15m",
        "at": (doc.get("window") or {}).get("end") or "now",
        "start": (doc.get("baseline") or {}).get("start") or (doc.get("window") or {}).get("start"),
        "bottleneck": doc.get("bottleneck"),
        "trigger": doc.get("trigger"),
        "severity": doc.get("severity"),
        "missing_signals": ",".join(doc.get("missing_signals") or []) or "none",
        "database_engine": database_engine(doc),
    }
    numbers: dict[str, Any] = {}
    if window:
        numbers["window_minutes"] = window
    baseline = _minutes(doc.get("baseline"))
    if baseline:
        numbers["baseline_minutes"] = baseline
    return Context(rca=rca, words=words, numbers=numbers)


def finding_context(base: Context | None, finding: Mapping[str, Any], inputs: PlanInputs) -> Context:
    ctx = base if base is not None else service_context(None, None, inputs)
    words = dict(ctx.words)
    ns = finding.get("namespace")
    workload = workload_of(finding)
    if finding.get("kind") == "hpa" and base is not None and base.words.get("hpa") == finding.get("name"):
        workload = base.words.get("deployment")
    words.update({
        "target": str(finding.get("name") or ""),
        "target_kind": str(finding.get("kind") or ""),
        "target_namespace": ns or ctx.words.get("namespace") or "default",
        "workload": workload,
        "reason": finding.get("reason"),
        "check": finding.get("check"),
    })
    if base is None:
        # A finding on its own: its names stand in for the service's.
        words["namespace"] = ns or "default"
        if workload:
            words.update({"service": words.get("service") or workload, "deployment": workload})
        if finding.get("kind") == "container":
            words["container"] = str(finding.get("name"))
        if finding.get("kind") == "hpa":
            words["hpa"] = str(finding.get("name"))
    return Context(rca=ctx.rca, words=words, numbers=dict(ctx.numbers), finding=finding)


def owner_of(finding: Mapping[str, Any], contexts: Sequence[Context]) -> Context | None:
    """Which service a finding is about: same namespace and a name of the service."""
    name = str(finding.get("name") or "")
    ns = finding.get("namespace")
    kind = finding.get("kind")
    for ctx in contexts:
        w = ctx.words
        if ns is not None and ns != w.get("namespace"):
            continue
        names = {w.get("service"), w.get("deployment"), w.get("container"), w.get("hpa")} - {None}
        if kind in ("deployment", "hpa") and name in names:
            return ctx
        if kind == "pod" and workload_of(finding) in names:
            return ctx
        if kind == "container" and any(name == n or name.startswith(f"{n}-") or name.endswith(f"-{n}")
                                       or f"-{n}-" in name for n in names):
            return ctx
        if kind == "endpoint":
            host = re.sub(r"^[a-z]+://", "", name).split("/")[0].split(":")[0]
            if host.split(".")[0] in names:
                return ctx
    return None
