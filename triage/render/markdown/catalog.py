"""`triage queries list` and `triage playbooks list|show` as markdown: the user's own files, escaped."""

from __future__ import annotations

from typing import Any

from triage.catalog import Catalog
from triage.render.escape import md, md_code
from triage.render.units import fmt


def threshold(value: float | None, unit: str = "") -> str:
    """A bound as detect shows values of its unit (5.0 %, 500 ms, not 0.05 and 0.5); a count as written
    (the unit column names it)."""
    if value is None:
        return ""
    return fmt(value, unit) if unit in ("s", "ratio", "req/s") else f"{value:g}"


QUERIES_LEGEND = ("warning, critical: the level above which the signal warns or is critical (where each comes "
                  "from: queries/README.md); exporters: the families of its queries, in the order tried")


def families(signal: Any) -> str:
    """The exporter families of a signal's queries, in the order they are tried, each named once."""
    return ", ".join(dict.fromkeys(a.family or "custom" for a in signal.alternatives))


# Where a threshold comes from is documented in queries/README.md (and `queries list -o json`'s
# `source`): the table and markdown show what is measured and when it warns.
def queries_markdown(catalog: Catalog) -> str:
    lines = ["| signal | unit | warning | critical | exporters |", "|---|---|---|---|---|"]
    for s in catalog.signals.values():
        lines.append(f"| {md(s.name)} | {md(s.unit)} | {md(threshold(s.threshold.warning, s.unit))} | "
                     f"{md(threshold(s.threshold.critical, s.unit))} | {md(families(s))} |")
    return "\n".join(lines) + f"\n\n{QUERIES_LEGEND}.\n"


def covers(book: Any) -> str:
    """What a playbook is for, in one line: bottlenecks, reasons, then its signals."""
    c = book.covers()
    parts = c["bottlenecks"] + c["reasons"]
    if c["signals"]:
        parts.append("signals: " + ", ".join(c["signals"]))
    return ", ".join(parts)


def playbooks_markdown(books: list[Any]) -> str:
    lines = ["| playbook | title | covers | mitigations | fixes | file |", "|---|---|---|---|---|---|"]
    for p in books:
        lines.append(f"| {md(p.name)} | {md(p.title)} | {md(covers(p))} | {len(p.mitigations)} | "
                     f"{len(p.fixes)} | {md(p.path)} |")
    return "\n".join(lines) + "\n"


def action_kind(action: Any) -> str:
    """A playbook's `action:` as its kind (rollout_restart), never Python's repr of the mapping."""
    if isinstance(action, dict):
        return str(action.get("kind") or "an action")
    return str(action)


def playbook_markdown(book: Any) -> str:
    """One playbook as written (`playbooks show`), its commands unrendered in a fence."""
    lines = [f"# {md(book.name)}: {md(book.title)}", "", md(book.description), ""]
    for phase, steps in (("Mitigations", book.mitigations), ("Permanent fixes", book.fixes)):
        if not steps:
            continue
        lines += [f"## {phase}", ""]
        for s in steps:
            lines += [f"### {md(s.id)}: {md(s.title)}", "", f"- when: {md_code(s.when_text)}"]
            lines += [f"- compute: {md_code(n + ' = ' + t)}" for n, t, _ in s.compute]
            lines.append(f"- risk: {md(s.risk)}")
            if s.phase == "fixes":
                lines += [f"- effort: {md(s.effort)}; timeline: {md(s.timeline)}",
                          f"- success metric: {md_code(s.success_metric)}"]
            if s.safe:
                lines.append(f"- safe: `--apply` runs {md(action_kind(s.action))} (it asks first)")
            body = "\n".join(s.commands)
            lines += ["", "````sh", body, "````", ""]
    return "\n".join(lines).rstrip() + "\n"
