"""A plan (`triage mitigate`/`triage fix`) as markdown, for a ticket or a chat thread.

Every value that came from the incident or a playbook is escaped (`md`, `md_code`): a label
value or a finding's detail must not turn into markdown, HTML or a fence that closes early.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from triage.playbooks import Plan, PlannedStep, num_text
from triage.render.escape import md, md_code
from triage.render.markdown.alerts import alert_sections

_TITLES = {"mitigate": "Mitigation plan (phase 2)", "fix": "Permanent fixes (phase 4)",
           "both": "Mitigations and permanent fixes"}


def plan_markdown(plan: Plan, actions: Sequence[Mapping[str, Any]] = (),
                  alerts: Sequence[Mapping[str, Any]] = ()) -> str:
    lines = [f"# {_TITLES[plan.phase]}", "", f"Status: **{plan.status.value.upper()}**. Source: {md(plan.source)}.",
             ""]
    for s in plan.services:
        lines.append(f"- {md(s.get('service'))} ({md(s.get('namespace'))}): **{md(s.get('bottleneck'))}**, "
                     f"confidence {s.get('confidence')}, trigger {md(s.get('trigger'))}, "
                     f"severity {md(s.get('severity') or 'none')}")
    if plan.services:
        lines.append("")
    lines += alert_sections(alerts)
    for ph, head in (("mitigations", "Mitigations"), ("fixes", "Permanent fixes")):
        if plan.phase in ("both", "mitigate" if ph == "mitigations" else "fix"):
            lines += _md_phase(plan, ph, head)
    if actions:
        lines += _md_actions(actions)
    for note in plan.notes:
        lines.append(f"- note: {md(note)}")
    return "\n".join(lines).rstrip() + "\n"


def _md_phase(plan: Plan, phase: str, head: str) -> list[str]:
    proposed = [p for p in plan.of(phase) if p.status == "proposed"]
    lines = [f"## {head}", ""]
    if not proposed:
        lines += ["Nothing in the playbooks applies to what was found.", ""]
    for i, p in enumerate(proposed, 1):
        lines += _md_step(i, p)
    skipped = [p for p in plan.of(phase) if p.status == "skipped"]
    if skipped:
        lines += ["### Skipped", ""]
        for p in skipped:
            lines.append(f"- {md(p.title)} ({md(p.step.full_id)}): {md(p.why)}")
        lines.append("")
    return lines


def _md_actions(actions: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = ["## Actions", "", "| time | action | target | before | after | result |", "|---|---|---|---|---|---|"]
    for a in actions:
        lines.append(f"| {md(a.get('time', ''))} | {md(a.get('what', ''))} | {md(a.get('target', ''))} | "
                     f"{_md_value(a.get('before'))} | {_md_value(a.get('after'))} | "
                     f"{md(a.get('result', ''))} |")
    lines.append("")
    return lines


def _md_value(value: Any) -> str:
    """A recorded before/after: a dash when there was none (a restart has no before), never `None`."""
    return "—" if value is None else md(json.dumps(value))


def _md_step(i: int, p: PlannedStep) -> list[str]:
    s = p.step
    where = f" — {md(p.target['kind'])} {md(p.target['name'])}" if p.target else ""
    lines = [f"### {i}. {md(p.title)}{where}", "",
             f"*{md(s.full_id)}*", ""] + ([md(p.description), ""] if p.description else []) + [
             f"- when: {md_code(s.when_text)}"]
    for ev in p.evidence:
        lines.append(f"- evidence: {md(ev['text'])}" + (f" — {md_code(ev['query'])}" if ev.get("query") else ""))
    for f in p.findings[1:]:
        lines.append(f"- also: {md(f.get('kind'))} {md(f.get('name'))}: {md(f.get('reason'))}")
    for n in p.numbers:
        result = f"**{num_text(n['value'])}**" if n["value"] is not None else f"n/a ({md(n.get('missing', ''))})"
        lines.append(f"- {md_code(n['name'] + ' = ' + n['formula'])} = {md_code(n['with'])} = {result}")
    lines.append(f"- risk: {md(p.risk)}")
    if s.phase == "fixes":
        prio = f", priority {md(s.priority)}" if s.priority else ""
        lines.append(f"- effort: {md(s.effort)}; timeline: {md(s.timeline)}{prio}")
        lines.append(f"- success metric: {md_code(p.success_metric)}")
    if p.action:
        lines.append(f"- safe to apply with `--apply`: {md(describe_action(p.action))}")
    body = "\n".join(list(p.commands) + ([f"# verify\n{p.verify}"] if p.verify else []))
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    lines += ["", f"{fence}sh", body, fence, ""]
    return lines


def describe_action(action: Mapping[str, Any]) -> str:
    """An action in the words an operator reads before `--apply` (the markdown and the terminal table)."""
    kind = action.get("kind")
    if kind == "scale_deployment":
        return f"scale deployment {action.get('namespace')}/{action.get('name')} to {action.get('replicas')} replicas"
    if kind == "rollout_restart":
        return f"rollout restart deployment {action.get('namespace')}/{action.get('name')}"
    if kind == "restart_container":
        return f"restart Docker container {action.get('name')}"
    return f"unknown action {kind!r}"


def plan_alerts(rcas: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The firing alerts of the plan's services (from their rca documents), each with its service:
    what `mitigate` shows beside the steps, their runbook first of all."""
    out: list[dict[str, Any]] = []
    for rca in rcas:
        for a in rca.get("alerts") or []:
            if isinstance(a, Mapping) and a.get("state", "firing") in ("firing", "active"):
                out.append({"service": rca.get("service"), "namespace": rca.get("namespace"),
                            **{k: a.get(k) for k in ("alertname", "severity", "starts_at", "summary",
                                                     "description", "runbook_url")}})
    return out
