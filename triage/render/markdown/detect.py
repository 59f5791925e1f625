"""`triage detect --output markdown`."""

from __future__ import annotations

from triage.models import DetectReport, Status, iso
from triage.render.escape import md
from triage.render.markdown.alerts import notes_markdown
from triage.render.slo import slo_markdown
from triage.render.units import change_text, fmt

# The columns of detect's table, said once for the terminal, markdown and Slack.
DETECT_LEGEND = ("baseline: its median before the window; sustained: the highest level it held through the "
                 "window; now: its last points; change: sustained ÷ baseline")

_ICON = {Status.OK: "OK", Status.WARNING: "WARNING", Status.CRITICAL: "CRITICAL", Status.UNKNOWN: "UNKNOWN"}


def detect_markdown(report: DetectReport) -> str:
    lines = [
        "# Detection & triage",
        "",
        (f"Window {iso(report.window.start)} → {iso(report.window.end)}, "
        f"baseline {iso(report.baseline.start)} → {iso(report.baseline.end)}. "
        f"Overall: **{_ICON[report.status]}**."),
        "",
    ]
    for det in report.services:
        sev = f", {det.severity}" if det.severity else ""
        lines += [f"## {md(det.service)} ({md(det.namespace)}, tier {det.tier}): {_ICON[det.status]}{sev}", ""]
        lines += [f"Affected: {md(det.affected)}", ""]
        lines += slo_markdown(det)
        lines += ["| signal | baseline | sustained | now | change | status |", "|---|---|---|---|---|---|"]
        for v in det.signals:
            if v.query is None:
                lines.append(f"| {v.name} | | | | | missing |")
            else:
                now = md(fmt(v.now, v.unit)) if v.now is not None else ""
                lines.append(f"| {v.name} | {md(fmt(v.baseline, v.unit))} | {md(fmt(v.window, v.unit))} | {now} | "
                             f"{md(change_text(v.change, v.baseline, v.window))} | {v.status.value} |")
        lines += ["", f"_{md(DETECT_LEGEND)}_", ""]
        if det.alerts:
            lines.append("Firing alerts:")
            for a in det.alerts:
                since = f" since {iso(a.starts_at)}" if a.starts_at else ""
                lines.append(f"- {md(a.name)} ({md(a.severity or 'no severity')}, {md(a.source)}){since}")
                lines += notes_markdown([a])
            lines.append("")
        if det.missing_signals:
            lines.append("Missing signals: " + ", ".join(
                f"{name} ({md(reason)})" for name, reason in sorted(det.missing_signals.items())))
            lines.append("")
    for source, reason in report.skipped:
        lines.append(f"- skipped {md(source)}: {md(reason)}")
    return "\n".join(lines).rstrip() + "\n"
