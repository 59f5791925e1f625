"""`triage queries list` and `triage playbooks list|show` as markdown: the user's own files, escaped."""

from __future__ import annotations

from typing import Any

from triage.catalog import Catalog
from triage.render.escape import md, md_code


def threshold(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def queries_markdown(catalog: Catalog) -> str:
    lines = ["| signal | unit | warning | critical | families | source |", "|---|---|---|---|---|---|"]
    for s in catalog.signals.values():
        fams = ", ".join(a.family for a in s.alternatives)
        lines.append(f"| {md(s.name)} | {md(s.unit)} | {threshold(s.threshold.warning)} | "
                     f"{threshold(s.threshold.critical)} | {md(fams)} | {md(s.threshold.source)} |")
    return "\n".join(lines) + "\n"


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


def playbook_markdown(book: Any) -> str:
    """One playbook as written (`playbooks show`), its commands unrendered in a fence."""
    lines = [f"# {md(book.name)}: {md(book.title)}", "", md(book.description), ""]
    for phase, steps in (("Mitigations", book.mitigations), ("Permanent fixes", book.fixes)):
        if not steps:
            continue
        lines += [f"## {phase}", ""]
        for s in steps:
            lines += [f"### {md(s.id)}: {md(s.title)}", "", f"- seed: {md(s.seed)}", f"- when: {md_code(s.when_text)}"]
            lines += [f"- compute: {md_code(n + ' = ' + t)}" for n, t, _ in s.compute]
            lines.append(f"- risk: {md(s.risk)}")
            if s.phase == "fixes":
                lines += [f"- effort: {md(s.effort)}; timeline: {md(s.timeline)}",
                          f"- success metric: {md_code(s.success_metric)}"]
            if s.safe:
                lines.append(f"- safe: {md(s.action)}")
            body = "\n".join(s.commands)
            lines += ["", "````sh", body, "````", ""]
    return "\n".join(lines).rstrip() + "\n"
