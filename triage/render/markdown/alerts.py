"""`triage alerts --output markdown`, and the alert notes `detect` and `mitigate` print: an alert's
summary, description and runbook link, the way a paged engineer reads them first."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from triage.models import Alert
from triage.pipeline.alerts import AlertListing
from triage.render.escape import md, strip_control


def alert_notes(alert: Alert | Mapping[str, Any]) -> list[tuple[str, str]]:
    """(what, text) of the annotations an alert carries, in the order they help: summary,
    description, runbook. An Alert or its JSON (a record's, a plan's rca)."""
    get = (lambda k: str(alert.get(k) or "")) if isinstance(alert, Mapping) else (
        lambda k: str(getattr(alert, k) or ""))
    return [(what, get(key)) for what, key in (("summary", "summary"), ("description", "description"),
                                               ("runbook", "runbook_url")) if get(key)]


def notes_markdown(alerts: Iterable[Alert | Mapping[str, Any]]) -> list[str]:
    """Markdown list items (two-space indented under the alert's item) of its annotations."""
    lines = []
    for alert in alerts:
        for what, text in alert_notes(alert):
            lines.append(f"  - {what}: {_link(text) if what == 'runbook' else md(text)}")
    return lines


def alert_sections(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """A "Firing alerts" section from alerts as JSON (with `service`), for a plan."""
    if not rows:
        return []
    lines = ["## Firing alerts", ""]
    for a in rows:
        lines.append(f"- {md(a.get('alertname'))} ({md(a.get('severity') or 'no severity')}) "
                     f"on {md(a.get('service') or '?')}")
        lines += notes_markdown([a])
    return [*lines, ""]


def _link(url: str) -> str:
    """A runbook URL as a link only when it is one (http/https); anything else stays text."""
    clean = strip_control(url)
    return f"<{clean}>" if clean == url and url.startswith(("http://", "https://")) and not any(
        c in url for c in "<> `") else md(url)


def alerts_markdown(listing: AlertListing) -> str:
    lines = ["# Alerts", "", f"Status: **{listing.status.value.upper()}**. "
             f"{sum(a.state == 'firing' for a in listing.alerts)} firing, "
             f"{sum(a.state == 'pending' for a in listing.alerts)} pending.", ""]
    if listing.alerts:
        lines += ["| state | alert | service | namespace | severity | since | summary |",
                  "|---|---|---|---|---|---|---|"]
        for a in listing.alerts:
            since = a.to_json()["since"] or ""
            lines.append(f"| {a.state} | {md(a.alert.name)} | {md(a.service or '(no service label)')} | "
                         f"{md(a.namespace or '')} | {md(a.alert.severity or '')} | {since} | {md(a.alert.summary)} |")
        lines.append("")
        noted = [a for a in listing.alerts if a.alert.description or a.alert.runbook_url]
        for a in noted:
            lines.append(f"- {md(a.alert.name)} ({md(a.service or '?')})")
            lines += notes_markdown([a.alert])
        if noted:
            lines.append("")
    else:
        lines += ["No alert is firing or pending.", ""]
    for i in listing.incidents:
        lines.append(f"- incident: {md(i.service)} ({md(i.namespace or 'default')}), window ends "
                     f"{i.to_json()['window_end']}: `triage run --alerts` triages it")
    for source, reason in listing.skipped:
        lines.append(f"- skipped {md(source)}: {md(reason)}")
    return "\n".join(lines).rstrip() + "\n"
