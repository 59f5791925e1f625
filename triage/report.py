"""Reports as markdown text. Every value that came from outside is escaped first."""

from __future__ import annotations

import re

from triage.analysis.detect import fmt
from triage.models import DetectReport, Status, iso

# Inline values only (newlines are folded first), so list and heading markers need no escape.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#!|<>~$])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x9b]")


def strip_control(text: str) -> str:
    """Terminal escape sequences and other control characters removed (terminal injection)."""
    return _CONTROL.sub("", str(text))


def md(text: object) -> str:
    """Inert markdown: control characters gone, every markdown/HTML special escaped."""
    return _MD_SPECIAL.sub(r"\\\1", strip_control(str(text)).replace("\n", " "))


def md_code(text: object) -> str:
    """Inline code that cannot be broken out of: the fence is longer than any backtick run inside."""
    clean = strip_control(str(text)).replace("\n", " ")
    longest = max((len(m) for m in re.findall(r"`+", clean)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if clean.startswith("`") or clean.endswith("`") else ""
    return f"{fence}{pad}{clean}{pad}{fence}"


_ICON = {Status.OK: "OK", Status.WARNING: "WARNING", Status.CRITICAL: "CRITICAL", Status.UNKNOWN: "UNKNOWN"}


def detect_markdown(report: DetectReport) -> str:
    lines = [
        "# Detection & triage",
        "",
        f"Window {iso(report.window.start)} → {iso(report.window.end)}, "
        f"baseline {iso(report.baseline.start)} → {iso(report.baseline.end)}. "
        f"Overall: **{_ICON[report.status]}**.",
        "",
    ]
    for det in report.services:
        sev = f", {det.severity}" if det.severity else ""
        lines += [f"## {md(det.service)} ({md(det.namespace)}, tier {det.tier}): {_ICON[det.status]}{sev}", ""]
        lines += [f"Affected: {md(det.affected)}", ""]
        lines += ["| signal | baseline | window | status |", "|---|---|---|---|"]
        for v in det.signals:
            if v.query is None:
                lines.append(f"| {v.name} | n/a | n/a | missing |")
            else:
                lines.append(
                    f"| {v.name} | {md(fmt(v.baseline, v.unit))} | {md(fmt(v.window, v.unit))} | {v.status.value} |"
                )
        lines.append("")
        if det.alerts:
            lines.append("Firing alerts:")
            for a in det.alerts:
                since = f" since {iso(a.starts_at)}" if a.starts_at else ""
                lines.append(f"- {md(a.name)} ({md(a.severity or 'no severity')}, {md(a.source)}){since}")
            lines.append("")
        if det.missing_signals:
            lines.append("Missing signals: " + ", ".join(
                f"{name} ({md(reason)})" for name, reason in sorted(det.missing_signals.items())))
            lines.append("")
    for source, reason in report.skipped:
        lines.append(f"- skipped {md(source)}: {md(reason)}")
    return "\n".join(lines).rstrip() + "\n"
