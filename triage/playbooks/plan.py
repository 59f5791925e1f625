"""A plan: every step whose `when` holds in this incident (proposed, with its commands and
numbers filled in) or cannot be decided (skipped, saying what was missing).

A step about health findings is planned once per finding, and findings that give the same
commands are folded into one step ("also: ..."), so ten crash-looping pods are one restart.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from triage.analysis.detect import fmt
from triage.config import ServiceConfig
from triage.errors import UsageError
from triage.models import Status
from triage.playbooks.context import Context, finding_context, owner_of, service_context
from triage.playbooks.expr import Missing, evaluate, num_text, show
from triage.playbooks.inputs import PlanInputs, check_health, rca_documents
from triage.playbooks.load import load_library
from triage.playbooks.names import SIGNALS
from triage.playbooks.schema import Library, Step
from triage.playbooks.template import RenderError, render_template

PLAN_SCHEMA = "triage.plan/v1"
PHASES = {"mitigate": "mitigations", "fix": "fixes"}


@dataclass(frozen=True)
class PlannedStep:
    step: Step
    status: str  # "proposed" or "skipped"
    why: str
    service: str | None
    target: Mapping[str, Any] | None
    title: str
    evidence: tuple[Mapping[str, Any], ...] = ()
    numbers: tuple[Mapping[str, Any], ...] = ()
    commands: tuple[str, ...] = ()
    risk: str = ""
    action: Mapping[str, Any] | None = None
    success_metric: str = ""
    verify: str = ""
    findings: tuple[Mapping[str, Any], ...] = ()
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        s = self.step
        out: dict[str, Any] = {
            "id": s.full_id, "playbook": s.playbook, "kind": "mitigation" if s.phase == "mitigations" else "fix",
            "title": self.title, "status": self.status, "when": s.when_text,
            "why": self.why, "service": self.service, "target": dict(self.target) if self.target else None,
            "evidence": [dict(e) for e in self.evidence], "numbers": [dict(n) for n in self.numbers],
            "commands": list(self.commands), "risk": self.risk,
        }
        if self.description:
            out["description"] = self.description
        if s.phase == "mitigations":
            out["safe"] = s.safe
            out["action"] = dict(self.action) if self.action else None
        else:
            out.update({"effort": s.effort, "timeline": s.timeline, "priority": s.priority,
                        "success_metric": self.success_metric, "verify": self.verify})
        return out


@dataclass(frozen=True)
class Plan:
    phase: str  # "mitigate", "fix" or "both"
    status: Status
    source: str
    services: tuple[Mapping[str, Any], ...]
    steps: tuple[PlannedStep, ...]
    notes: tuple[str, ...] = ()

    def of(self, phase: str) -> list[PlannedStep]:
        return [p for p in self.steps if p.step.phase == phase]

    @property
    def proposed(self) -> list[PlannedStep]:
        return [p for p in self.steps if p.status == "proposed"]

    @property
    def safe_steps(self) -> list[PlannedStep]:
        return [p for p in self.proposed if p.step.safe and p.action]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema": PLAN_SCHEMA, "phase": self.phase, "status": self.status.value,
                               "source": self.source, "services": [dict(s) for s in self.services]}
        # Proposed steps only under mitigations/fixes (what a post-mortem lists as action items);
        # the ones that could not be decided or rendered are kept apart, each with its why.
        if self.phase in ("mitigate", "both"):
            out["mitigations"] = [p.to_json() for p in self.of("mitigations") if p.status == "proposed"]
        if self.phase in ("fix", "both"):
            out["fixes"] = [p.to_json() for p in self.of("fixes") if p.status == "proposed"]
        out["skipped"] = [p.to_json() for p in self.steps if p.status == "skipped"]
        out["notes"] = list(self.notes)
        return out


def incident_status(inputs: PlanInputs) -> Status:
    statuses = []
    for rca in inputs.rcas:
        try:
            statuses.append(Status(rca.get("status") or ("unknown" if rca.get("bottleneck") == "unknown" else "ok")))
        except ValueError:
            statuses.append(Status.UNKNOWN)
    for f in (inputs.health or {}).get("findings") or []:
        if isinstance(f, dict):
            try:
                statuses.append(Status(f.get("status") or "ok"))
            except ValueError:
                statuses.append(Status.UNKNOWN)
    return Status.worst(statuses)


def make_plan(library: Library, inputs: PlanInputs, phase: str) -> Plan:
    """Every step whose `when` holds (proposed) or cannot be decided (skipped, with why)."""
    phases = ["mitigations", "fixes"] if phase == "both" else [PHASES[phase]]
    contexts = [service_context(rca, inputs.services.get(str(rca.get("service"))), inputs) for rca in inputs.rcas]
    findings = [f for f in (inputs.health or {}).get("findings") or []
                if isinstance(f, dict) and f.get("reason") and f.get("status") in ("warning", "critical")]
    bottlenecks = {str(r.get("bottleneck")) for r in inputs.rcas}
    planned: list[PlannedStep] = []
    for ph in phases:
        steps = sorted(library.steps(ph), key=lambda s: (0 if s.covers("bottleneck") & bottlenecks else 1))
        for step in steps:
            if step.finding_scoped:
                planned.extend(_per_finding(step, findings, contexts, inputs))
            else:
                planned.extend(p for p in (_plan_step(step, ctx) for ctx in contexts) if p is not None)
    planned.sort(key=lambda p: (p.status != "proposed",))
    services = tuple(_service_summary(r) for r in inputs.rcas)
    return Plan(phase=phase, status=incident_status(inputs), source=inputs.source, services=services,
                steps=tuple(planned), notes=tuple(_notes(inputs, findings)))


def _notes(inputs: PlanInputs, findings: Sequence[Mapping[str, Any]]) -> list[str]:
    """What the plan could not consider, so an empty plan is not read as "nothing is wrong"."""
    notes: list[str] = []
    if not inputs.rcas:
        notes.append("no root-cause analysis: only the steps for health findings were considered")
    if inputs.health is None:
        notes.append("no health checks: the steps for health findings were not considered")
    elif not findings:
        notes.append("the health checks found nothing to act on")
    for skip in (inputs.health or {}).get("skipped") or []:
        if isinstance(skip, dict):
            notes.append(f"health: skipped {skip.get('source')}: {skip.get('reason')}")
    return notes


def _service_summary(rca: Mapping[str, Any]) -> dict[str, Any]:
    return {"service": rca.get("service"), "namespace": rca.get("namespace"), "bottleneck": rca.get("bottleneck"),
            "confidence": rca.get("confidence"), "trigger": rca.get("trigger"), "severity": rca.get("severity"),
            "status": rca.get("status"), "summary": rca.get("summary")}


def _per_finding(step: Step, findings: Sequence[Mapping[str, Any]], contexts: Sequence[Context],
                 inputs: PlanInputs) -> list[PlannedStep]:
    """The step for each finding; findings that plan the same thing are one step, naming them all."""
    by_key: dict[tuple, PlannedStep] = {}
    for f in findings:
        owner = owner_of(f, contexts)
        ctx = finding_context(owner, f, inputs)
        engines = {c.words.get("database_engine") for c in contexts}
        if owner is None and len(engines) == 1:
            # a finding of no analysed service (a dependency's endpoint): the one database the rcas saw
            ctx.words["database_engine"] = engines.pop()
        p = _plan_step(step, ctx)
        if p is None:
            continue
        key = (p.status, p.commands, json.dumps(p.action, sort_keys=True), p.why if p.status == "skipped" else "")
        if key in by_key:
            prev = by_key[key]
            by_key[key] = PlannedStep(**{**prev.__dict__, "findings": prev.findings + (f,)})
        else:
            by_key[key] = p
    return list(by_key.values())


def _plan_step(step: Step, ctx: Context) -> PlannedStep | None:
    decided = evaluate(step.when, ctx.lookup)
    if decided is False:
        return None
    service = ctx.words.get("service")
    target = _target(ctx)
    found = (ctx.finding,) if ctx.finding else ()
    if isinstance(decided, Missing):
        return PlannedStep(step=step, status="skipped", why=f"not decided: {decided.why}",
                           service=service, target=target, title=_plain(step, ctx), findings=found)
    why = show(step.when, ctx.lookup)
    numbers, values = _compute(step, ctx)
    full = Context(ctx.rca, ctx.words, values, ctx.finding)
    try:
        title = render_template(step.title, full.lookup, shell=False)
        risk = render_template(step.risk, full.lookup, shell=False)
        description = render_template(step.description, full.lookup, shell=False)
        commands = tuple(render_template(c, full.lookup, shell=True) for c in step.commands)
        metric = render_template(step.success_metric, full.lookup, shell=True) if step.success_metric else ""
        action = _action(step, full)
    except RenderError as exc:
        why = str(exc) if str(exc).startswith("cannot compute") else f"cannot render the commands: {exc}"
        return PlannedStep(step=step, status="skipped", why=why, service=service,
                           target=target, title=_plain(step, ctx), findings=found)
    verify = ""
    if metric:
        verify = f"promtool query instant {full.words['prometheus_url']} '{metric}'"
    return PlannedStep(step=step, status="proposed", why=why, service=service, target=target, title=title,
                       evidence=tuple(_evidence(step, full)), numbers=tuple(numbers), commands=commands, risk=risk,
                       action=action, success_metric=metric, verify=verify, description=description,
                       findings=found)


def _compute(step: Step, ctx: Context) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The step's numbers, each shown with its formula and the values it had; and all values by name."""
    numbers: list[dict[str, Any]] = []
    values = dict(ctx.numbers)
    for name, text, node in step.compute:
        local = Context(ctx.rca, ctx.words, values, ctx.finding)
        value = evaluate(node, local.lookup)
        if isinstance(value, Missing):
            # Only what a command, the action or the success metric needs skips the step;
            # a number that is only shown is shown as missing.
            value = Missing(value.names, f"cannot compute {name} = {text}: {value.why}")
            numbers.append({"name": name, "formula": show(node), "with": show(node, local.lookup), "value": None,
                            "missing": value.why})
        else:
            numbers.append({"name": name, "formula": show(node), "with": show(node, local.lookup),
                            "value": round(value, 6) if isinstance(value, float) else value})
        values[name] = value
    return numbers, values


def _plain(step: Step, ctx: Context) -> str:
    """A skipped step's title: the numbers that can be computed filled in, the others n/a."""
    _, values = _compute(step, ctx)
    try:
        return render_template(step.title, Context(ctx.rca, ctx.words, values, ctx.finding).lookup, shell=False)
    except RenderError:
        return step.title


def _target(ctx: Context) -> dict[str, Any] | None:
    if ctx.finding is not None:
        return {"kind": ctx.finding.get("kind"), "name": ctx.finding.get("name"),
                "namespace": ctx.finding.get("namespace")}
    if ctx.words.get("service"):
        return {"kind": "service", "name": ctx.words["service"], "namespace": ctx.words.get("namespace")}
    return None


def _action(step: Step, ctx: Context) -> dict[str, Any] | None:
    if not step.safe or step.action is None:
        return None
    kind = step.action["kind"]
    out: dict[str, Any] = {"kind": kind}
    if kind in ("scale_deployment", "rollout_restart"):
        name_t = step.action.get("name") or ("{workload}" if step.finding_scoped else "{deployment}")
        ns_t = step.action.get("namespace") or ("{target_namespace}" if step.finding_scoped else "{namespace}")
        out["namespace"] = render_template(ns_t, ctx.lookup, shell=True)
        out["name"] = render_template(name_t, ctx.lookup, shell=True)
        if kind == "scale_deployment":
            value = evaluate(step.action_replicas, ctx.lookup)
            if isinstance(value, Missing):
                raise RenderError(value.why)
            out["replicas"] = int(math.ceil(value - 1e-9))
    else:
        out["name"] = render_template(step.action.get("name") or "{target}", ctx.lookup, shell=True)
    return out


def _evidence(step: Step, ctx: Context) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    rca = ctx.rca or {}
    for name in step.evidence:
        if name == "finding":
            f = ctx.finding or {}
            where = f"{f.get('namespace')}/{f.get('name')}" if f.get("namespace") else f.get("name")
            text = f"{f.get('kind')} {where}: {f.get('reason')} — {f.get('detail', '')}"
            out.append({"name": "finding", "text": text, "check": f.get("check"), "status": f.get("status")})
        elif name == "summary":
            if rca.get("summary"):
                out.append({"name": "summary", "text": str(rca["summary"])})
        elif name == "capacity.lines":
            for line in (rca.get("capacity") or {}).get("lines") or []:
                out.append({"name": "capacity", "text": str(line)})
        elif name == "missing_signals":
            missing = rca.get("missing_reasons") or {m: "" for m in rca.get("missing_signals") or []}
            for m, why in missing.items():
                out.append({"name": m, "text": f"{m}: missing{' (' + str(why) + ')' if why else ''}"})
        elif name in SIGNALS:
            out.append(_signal_evidence(name, (rca.get("signals") or {}).get(name)))
        else:  # capacity.* and the plain numbers
            v = ctx.lookup(name)
            out.append({"name": name, "value": None if isinstance(v, Missing) else v,
                        "text": f"{name} = {'missing' if isinstance(v, Missing) else num_text(v)}"})
    return out


def _signal_evidence(name: str, sig: Any) -> dict[str, Any]:
    if not isinstance(sig, dict):
        return {"name": name, "text": f"{name}: missing"}
    unit = str(sig.get("unit") or "")
    text = f"{name} {fmt(sig.get('window'), unit)} (baseline {fmt(sig.get('baseline'), unit)})"
    return {"name": name, "baseline": sig.get("baseline"), "window": sig.get("window"), "unit": unit,
            "query": sig.get("query"), "text": text}


def plan_for_record(rca: Mapping[str, Any] | None, health: Mapping[str, Any] | None, settings: Any) -> dict[str, Any]:
    """The `playbooks` phase of `triage run`: both mitigations and fixes, as JSON."""
    library = load_library(getattr(settings, "playbooks_dirs", ()) or ())
    prom = getattr(settings, "prometheus", None)
    am = getattr(settings, "alertmanager", None)
    inputs = PlanInputs(rcas=tuple(rca_documents(rca)), health=check_health(health, "health") if health else None,
                        services=dict(getattr(settings, "services", {}) or {}), source="run",
                        prometheus_url=prom.display_url if prom else None,
                        alertmanager_url=am.display_url if am else None)
    return make_plan(library, inputs, "both").to_json()


def check_targets(steps: Sequence[PlannedStep], services: Sequence[ServiceConfig], *, config: str) -> None:
    """Refuse `--apply` when an action's target is not a service the operator names now.

    A record, a health document or a playbook can be edited by anyone it passed through, so
    what an action changes must be what the current config (or the command line: `--service`,
    `--namespace`) names for a service: its namespace and deployment, or a container of it.
    The names the record carries are never enough on their own.
    """
    from triage.health.run import docker_selector

    deployments = {(s.namespace, s.selector("deployment")) for s in services}
    containers = docker_selector(list(services)) if services else None
    for p in steps:
        action = p.action or {}
        kind = action.get("kind")
        if kind in ("scale_deployment", "rollout_restart"):
            ns, name = str(action.get("namespace")), str(action.get("name"))
            if (ns, name) in deployments:
                continue
            shown = ", ".join(sorted(f"{n}/{d}" for n, d in deployments)[:6]) or "none"
            raise UsageError(
                f"refusing to --apply: step {p.step.full_id} targets deployment {ns}/{name}, which is not the "
                f"deployment of a service named by {config} or the command line (named: {shown}); to act on it, "
                f"add it to the config or name it with --service {name} --namespace {ns}")
        if kind == "restart_container":
            name = str(action.get("name"))
            if containers is not None and containers(name, {}):
                continue
            shown = ", ".join(sorted(s.selector("container") for s in services)[:6]) or "none"
            raise UsageError(
                f"refusing to --apply: step {p.step.full_id} targets docker container {name}, which is not a "
                f"container of a service named by {config} or the command line (named: {shown}); "
                "add its service to the config to act on it")
