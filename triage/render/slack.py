"""`--output slack`: Slack's mrkdwn for `detect`, `rca` and the status update, pasted into a channel
or posted by an incoming webhook.

mrkdwn is not markdown: it has no tables and no backslash escapes (a markdown rendering shows
`db\\_pool\\_exhaustion` there literally), `*bold*`, `_italic_` and backtick code. Its only escaping
is `&`, `<` and `>` as entities (`<` opens a link or a mention such as `<!channel>`), so every value
from outside goes through `text` or `code` here: control characters made visible, newlines
folded, those three escaped, and a backtick (which nothing escapes in a code span) made a quote.
Names from outside (services, signals, alerts) are shown as code, where `*`, `_` and `~` do nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from triage.analysis.rca import RcaResult
from triage.models import DetectReport, Status, iso
from triage.render.escape import escape_control
from triage.render.markdown.rca import missing_lines, number
from triage.render.slo import slo_lines
from triage.render.units import change_text, fmt

_EMPHASIS = {Status.OK: "OK", Status.WARNING: "*WARNING*", Status.CRITICAL: "*CRITICAL*", Status.UNKNOWN: "_UNKNOWN_"}


def text(value: object) -> str:
    """Inert mrkdwn text: Slack's own escaping of & < > (and nothing else: no backslashes)."""
    clean = escape_control(str(value)).replace("\r", " ").replace("\n", " ")
    return clean.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(value: object) -> str:
    """A value as inline code; a backtick inside would end the span, and mrkdwn has no escape for it."""
    inner = text(value).replace("`", "'")
    return f"`{inner}`" if inner else "``"


def detect_slack(report: DetectReport) -> str:
    lines = [f"*Detection and triage*: {_EMPHASIS[report.status]}",
             f"_window {iso(report.window.start)} → {iso(report.window.end)}, "
             f"baseline {iso(report.baseline.start)} → {iso(report.baseline.end)}_"]
    for det in report.services:
        sev = f" {text(det.severity)}" if det.severity else ""
        lines += ["", f"*{code(det.service)}* ({code(det.namespace)}, tier {det.tier}): "
                      f"{_EMPHASIS[det.status]}{sev}",
                  f"Affected: {text(det.affected)}"]
        lines += [text(line) for line in slo_lines(det)]
        for v in det.signals:
            if v.query is None:
                lines.append(f"• {code(v.name)} _missing_")
                continue
            change = change_text(v.change, v.baseline, v.window) if v.change is not None else ""
            now = f", now {text(fmt(v.now, v.unit))}" if v.now is not None else ""
            lines.append(f"• {code(v.name)} {text(fmt(v.baseline, v.unit))} → {text(fmt(v.window, v.unit))} "
                         f"sustained{now}{f' ({change})' if change else ''}: "
                         f"{_EMPHASIS[v.status] if v.status is not Status.OK else 'ok'}")
        for a in det.alerts:
            since = f" since {iso(a.starts_at)}" if a.starts_at else ""
            lines.append(f"• alert {code(a.name)} ({text(a.severity or 'no severity')}, {text(a.source)}){since}")
            if a.summary:
                lines.append(f"   {text(a.summary)}")
            if a.runbook_url:
                lines.append(f"   runbook: {text(a.runbook_url)}")
        for name, reason in sorted(det.missing_signals.items()):
            lines.append(f"• missing {code(name)}: {text(reason)}")
    for source, reason in report.skipped:
        lines.append(f"_skipped {text(source)}: {text(reason)}_")
    return "\n".join(lines) + "\n"


def rca_slack(result: RcaResult) -> str:
    v = result.verdict
    lines = [f"*Root cause of {code(result.service.name)}: {code(v.bottleneck)}* (confidence {v.confidence:.2f}, "
             f"trigger {text(v.trigger)}, severity {text(result.severity or 'none')})",
             f"_window {iso(result.window.start)} → {iso(result.window.end)}_",
             text(v.sentence)]
    for cand in v.candidates[:4]:
        lines += ["", f"*{text(cand.bottleneck)}* {cand.score:.2f}"]
        for ev in cand.evidence:
            sig = f"{code(ev['signal'])} " if ev["signal"] else ""
            lines.append(f"• {sig}{text(ev['summary'])}")
    if result.capacity.get("lines"):
        lines += ["", "*Capacity*"] + [f"• {text(line)}" for line in result.capacity["lines"]]
    for inv in result.invariants:
        state = "*VIOLATED*" if inv.violated else "holds"
        lines.append(f"• invariant {code(inv.name)}: {state} (observed {number(inv.minimum)}..{number(inv.maximum)})")
    missing, optional = missing_lines(result)
    if missing:
        lines.append("_missing signals_: " + ", ".join(code(m) for m in missing))
    if optional:
        lines.append("_optional signals without data_: " + ", ".join(code(m) for m in optional))
    return "\n".join(lines) + "\n"


def fleet_slack(ranking: Sequence[Mapping[str, Any]]) -> str:
    lines = ["*Root cause across the fleet* (ranking score, not a verdict's confidence)"]
    for i, row in enumerate(ranking, 1):
        sev = f", {text(row['severity'])}" if row.get("severity") else ""
        why = f" — {text(row['why'])}" if row.get("why") else ""
        lines.append(f"{i}. {code(row['service'])}: {code(row['bottleneck'])}, ranking score {row['score']:.2f}"
                     f"{sev}{why}")
    return "\n".join(lines) + "\n"


def status_update_slack(record: Mapping[str, Any]) -> str:
    """The status update (templates/status-update.md.j2) in mrkdwn, from the same record and numbers."""
    from triage.postmortem import build_context, primary_rca

    rca = primary_rca(record) or {}
    impact = build_context(record)["impact"]
    service = rca.get("service") or (record.get("services") or [{}])[0].get("name", "?")
    failed = impact.get("failed_requests")
    so_far = f", ≈ {failed} failed requests so far" if failed is not None else ""
    lines = [f":rotating_light: *INCIDENT {text(rca.get('severity') or 'none')}: {code(service)} — "
             f"{code(rca.get('bottleneck') or 'unknown')}*",
             f"*Impact:* peak p95 {text(impact['peak_p95'])}, errors {text(impact['peak_error_ratio'])}{so_far}",
             f"*Started:* {text((record.get('window') or {}).get('start', ''))}",
             f"*Services affected:* {code(service)} ({code(rca.get('namespace') or '')})",
             f"*Cause so far:* {text(rca.get('summary') or 'no root-cause analysis in this record')}",
             "*ETA:* investigating (next update in 5 minutes)",
             "*On-call:* &lt;name&gt;"]
    return "\n".join(lines) + "\n"
