"""`triage health --output markdown`: for an incident channel or a ticket. Everything that
came from outside (names, details, log lines) goes through `md()` / `md_code()`."""

from __future__ import annotations

from collections import Counter

from triage.health.text import ok_summary, where
from triage.models import HealthReport, Status
from triage.render.escape import md, md_code

_TITLE = {Status.CRITICAL: "Critical", Status.WARNING: "Warning", Status.UNKNOWN: "Unknown"}


def health_markdown(report: HealthReport, overall: Status) -> str:
    counts = Counter(f.status for f in report.findings)
    lines = [
        "# Quick health checks",
        "",
        (f"Overall: **{overall.value.upper()}** ({counts[Status.CRITICAL]} critical, {counts[Status.WARNING]} warning, "
        f"{counts[Status.OK]} ok)."),
        "",
    ]
    for status in (Status.CRITICAL, Status.WARNING, Status.UNKNOWN):
        group = [f for f in report.findings if f.status is status]
        if not group:
            continue
        lines += [f"## {_TITLE[status]} ({len(group)})", "", "| kind | name | check | reason | detail |",
                  "|---|---|---|---|---|"]
        for f in group:
            lines.append(f"| {f.kind} | {md(where(f))} | {md(f.check)} | {md(f.reason or '')} | {md(f.detail)} |")
        lines.append("")
        for f in (f for f in group if f.evidence):
            lines += [f"Quoted from {md(where(f))} ({md(f.check)}):", ""]
            lines += [f"- {md_code(e)}" for e in f.evidence]
            lines.append("")
    summary = ok_summary(report.findings)
    if summary:
        lines += [f"OK: {summary}.", ""]
    if report.skipped:
        lines += ["## Skipped", ""]
        lines += [f"- {md(s.source)}: {md(s.reason)}" for s in report.skipped]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
