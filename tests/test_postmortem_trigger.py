"""The post-mortem names the alert a run started from — `triage serve`'s notification or the firing
alerts of `triage run --alerts` — once, in Detection (it was said twice, and never for run --alerts)."""

from __future__ import annotations

import json
from pathlib import Path

from testing.cli import run_cli

DEMO = Path(__file__).resolve().parent.parent / "demo" / "incident.json"
ALERT = {"alertname": "HighLatencyP95", "summary": "checkout p95 above 3 s", "description": "for 5 minutes",
         "runbook_url": "https://runbooks.example/checkout-latency"}


def _draft(tmp_path: Path, **extra) -> str:
    record = {**json.loads(DEMO.read_text()), **extra}
    path = tmp_path / "incident.json"
    path.write_text(json.dumps(record))
    result = run_cli(["postmortem", str(path)])
    assert result.code == 0, result.stderr
    return result.stdout


def test_run_alerts_records_name_their_alert(tmp_path):
    text = _draft(tmp_path, triggered_by={"command": "triage run --alerts", "service": "checkout",
                                          "started": "2026-11-30T14:42:00Z", "alerts": [ALERT]})
    assert text.count("Triaged by `triage run --alerts` from the firing alert **HighLatencyP95** (1 alert)") == 1
    assert "https://runbooks.example/checkout-latency" in text


def test_a_serve_notification_is_said_once(tmp_path):
    note = {"source": "alertmanager", "alert_count": 2, "started": "2026-11-30T14:42:00Z", "resolved": None,
            "alerts": [ALERT]}
    text = _draft(tmp_path, notification=note)
    assert text.count("Triaged by `triage serve` from the alertmanager notification of **HighLatencyP95** "
                      "(2 alerts)") == 1
    detection = text.index("## Detection")
    assert text.index("Triaged by") > detection


def test_a_plain_run_says_nothing_of_a_trigger(tmp_path):
    assert "Triaged by" not in _draft(tmp_path)
