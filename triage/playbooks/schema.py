"""What a playbook file is: its YAML schema, and the steps, playbooks and library it loads into.

A step keeps its parsed `when` and compute expressions, so a plan never parses again; what
a playbook covers (classes, reasons, signals) is read from those trees, not declared twice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage.errors import UsageError
from triage.models import BOTTLENECKS, HEALTH_REASONS
from triage.playbooks.expr import literals_compared, names_in
from triage.playbooks.names import SIGNALS
from triage.yamlschema import AnyMapOf, Choice, Field, ListOf

ACTION_KINDS = ("scale_deployment", "rollout_restart", "restart_container")

_STEP = {
    "id": Field(str, required=True),
    "title": Field(str, required=True),
    "seed": Field(str, required=True),
    "when": Field(str, required=True),
    "description": Field(str),
    "evidence": Field(ListOf(str)),
    "compute": Field(AnyMapOf(str)),
    "commands": Field(ListOf(str), required=True),
    "risk": Field(str, required=True),
}
MITIGATION_SCHEMA = {
    **_STEP,
    "safe": Field(bool),
    "action": Field({
        "kind": Field(Choice(*ACTION_KINDS), required=True),
        "replicas": Field(str),
        "name": Field(str),
        "namespace": Field(str),
    }),
}
FIX_SCHEMA = {
    **_STEP,
    "effort": Field(str, required=True),
    "timeline": Field(str, required=True),
    "priority": Field(Choice("P0", "P1", "P2")),
    "success_metric": Field(str, required=True),
}
PLAYBOOK_SCHEMA = {
    "title": Field(str, required=True),
    "description": Field(str),
    "mitigations": Field(ListOf(MITIGATION_SCHEMA)),
    "fixes": Field(ListOf(FIX_SCHEMA)),
}
EVIDENCE_EXTRA = ("finding", "summary", "capacity.lines", "missing_signals")


@dataclass(frozen=True)
class Step:
    playbook: str
    phase: str  # "mitigations" or "fixes"
    id: str
    title: str
    seed: str
    when_text: str
    when: Any
    commands: tuple[str, ...]
    risk: str
    compute: tuple[tuple[str, str, Any], ...] = ()
    evidence: tuple[str, ...] = ()
    description: str = ""
    safe: bool = False
    action: Mapping[str, Any] | None = None
    action_replicas: Any = None
    effort: str = ""
    timeline: str = ""
    priority: str | None = None
    success_metric: str = ""
    line: int = 0
    finding_scoped: bool = False

    @property
    def full_id(self) -> str:
        return f"{self.playbook}/{self.id}"

    @property
    def seeds(self) -> list[str]:
        """Every seed the step cites, in order: `004 §2.3 + 003 (...)` → ["004", "003"]."""
        out: list[str] = []
        for n in re.findall(r"(?<![\w.=#])00[0-4](?![\w.])", self.seed):
            if n not in out:
                out.append(n)
        return out

    def covers(self, name: str) -> set[str]:
        return literals_compared(self.when, name)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.full_id, "title": self.title, "seed": self.seed, "when": self.when_text,
                               "evidence": list(self.evidence),
                               "compute": {n: t for n, t, _ in self.compute}, "commands": list(self.commands),
                               "risk": self.risk, "line": self.line}
        if self.description:
            out["description"] = self.description
        if self.phase == "mitigations":
            out["safe"] = self.safe
            if self.action is not None:
                out["action"] = dict(self.action)
        else:
            out.update({"effort": self.effort, "timeline": self.timeline, "priority": self.priority,
                        "success_metric": self.success_metric})
        return out


@dataclass(frozen=True)
class Playbook:
    name: str
    path: Path
    title: str
    description: str
    mitigations: tuple[Step, ...]
    fixes: tuple[Step, ...]
    bundled: bool = True

    @property
    def steps(self) -> tuple[Step, ...]:
        return self.mitigations + self.fixes

    def covers(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for key, names in (("bottlenecks", "bottleneck"), ("reasons", "reason")):
            found: set[str] = set()
            for s in self.steps:
                found |= s.covers(names)
            order = BOTTLENECKS if key == "bottlenecks" else HEALTH_REASONS
            out[key] = [n for n in order if n in found]
        sig: set[str] = set()
        for s in self.steps:
            sig |= {n.split(".")[0] for n in names_in(s.when) if n.split(".")[0] in SIGNALS}
        out["signals"] = sorted(sig)
        return out

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "file": str(self.path), "bundled": self.bundled, "title": self.title,
                "description": self.description, "covers": self.covers(),
                "mitigations": [s.to_json() for s in self.mitigations], "fixes": [s.to_json() for s in self.fixes]}


@dataclass(frozen=True)
class Library:
    playbooks: Mapping[str, Playbook]

    def get(self, name: str) -> Playbook:
        if name not in self.playbooks:
            raise UsageError(f"no playbook named '{name}' (have: {', '.join(self.playbooks)})")
        return self.playbooks[name]

    def steps(self, phase: str) -> list[Step]:
        return [s for p in self.playbooks.values() for s in (p.mitigations if phase == "mitigations" else p.fixes)]


def coverage(library: Library) -> dict[str, dict[str, list[str]]]:
    """Class/reason → titles of the mitigations and fixes that name it in `when`."""
    out: dict[str, dict[str, list[str]]] = {}
    for key, names in (("bottleneck", BOTTLENECKS), ("reason", HEALTH_REASONS)):
        for n in names:
            out[n] = {ph: [s.title for s in library.steps(ph) if n in s.covers(key)]
                      for ph in ("mitigations", "fixes")}
    return out
