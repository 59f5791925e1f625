"""What an alert's annotations (from outside: anyone who writes a rule) can do to the output of
`triage alerts`, `detect` and `mitigate`: nothing but be shown."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from datetime import datetime, timezone

from triage.models import Alert
from triage.pipeline.alerts import AlertListing, ListedAlert, group_incidents, list_alerts
from triage.render.markdown.alerts import alert_notes, alerts_markdown, notes_markdown

HOSTILE = Alert(name="Evil", state="firing", severity="critical", source="prometheus",
                labels={"alertname": "Evil", "service": "checkout"},
                starts_at=datetime(2026, 11, 10, 19, 48, tzinfo=timezone.utc),
                summary="\x1b[31mred\x1b[0m | *bold*", description="line one\nline two",
                runbook_url="javascript:alert(1)")


class _Source:
    def __init__(self, name, alerts):
        self.name, self._alerts = name, alerts

    def alerts(self):
        return list(self._alerts)


def test_a_runbook_that_is_not_http_is_text_not_a_link():
    lines = notes_markdown([HOSTILE])
    assert "  - runbook: javascript:alert\\(1\\)" in lines
    assert not any("<javascript" in line for line in lines)
    good = Alert(name="A", state="firing", severity=None, source="x", labels={}, runbook_url="https://rb.example/a")
    assert notes_markdown([good]) == ["  - runbook: <https://rb.example/a>"]


def test_markdown_escapes_the_summary_and_keeps_one_row_per_alert():
    listing = list_alerts([_Source("prometheus", [HOSTILE])], ("service",))
    text = alerts_markdown(listing)
    assert "\x1b" not in text
    row = next(line for line in text.splitlines() if line.startswith("| firing"))
    assert row.count(" | ") == 6 and "\\*bold\\*" in row


def test_the_table_strips_terminal_escapes():
    from triage.cli.alerts import alerts_table

    out = io.StringIO()
    with redirect_stdout(out):
        alerts_table(list_alerts([_Source("prometheus", [HOSTILE])], ("service",)))
    assert "\x1b[31m" not in out.getvalue() and "runbook: javascript:alert(1)" in out.getvalue()


def test_the_same_alert_from_two_backends_is_one_row_and_firing_wins():
    pending = Alert(name="Evil", state="pending", severity="critical", source="prometheus",
                    labels=dict(HOSTILE.labels), starts_at=datetime(2026, 11, 10, 19, 40, tzinfo=timezone.utc))
    active = Alert(name="Evil", state="active", severity="critical", source="alertmanager",
                   labels=dict(HOSTILE.labels), runbook_url="https://rb.example/evil")
    listing = list_alerts([_Source("p", [pending]), _Source("a", [active])], ("service",))
    assert len(listing.alerts) == 1
    row = listing.alerts[0].to_json()
    assert (row["state"], row["sources"], row["runbook_url"]) == ("firing", ["prometheus", "alertmanager"],
                                                                  "https://rb.example/evil")
    assert row["since"] == "2026-11-10T19:40:00Z"   # the earlier start is kept


def test_incident_window_ends_at_start_plus_settle_never_after_now():
    listing = list_alerts([_Source("p", [HOSTILE])], ("service",))
    start = HOSTILE.starts_at.timestamp()
    assert group_incidents(listing, 120, now=start + 1000).incidents[0].window_end == start + 120
    assert group_incidents(listing, 120, now=start + 30).incidents[0].window_end == start + 30


def test_notes_of_a_record_alert_in_order():
    assert [w for w, _ in alert_notes(HOSTILE.to_json())] == ["summary", "description", "runbook"]
    assert isinstance(ListedAlert, type) and AlertListing(()).status.value == "ok"
