"""Alerts pending → firing → resolved in the record and the post-mortem timeline: a real Prometheus
evaluates a rule with a `for` over checkout's generated incident (moved to end now), the rule is
then changed so the alert resolves, and `triage run` reads it all back from the ALERTS series."""

from __future__ import annotations

import json
import signal
import time
from datetime import datetime

import pytest
import requests
import yaml

from testing.backends import prometheus_from_openmetrics
from testing.cli import run_cli
from tests.conftest import need
from tests.test_cli_alerts import RATIO, checkout_now
from triage.pipeline.alert_events import transitions

pytestmark = pytest.mark.backend

FOR_S = 6


def _rules(path, firing: bool) -> None:
    expr = f"{RATIO} >= 0.9" if firing else f"{RATIO} >= 0.9 and on() vector(0) > 1"
    path.write_text(yaml.safe_dump({"groups": [{"name": "t", "interval": "1s", "rules": [
        {"alert": "CheckoutPoolExhausted", "expr": expr, "for": f"{FOR_S}s",
         "labels": {"service": "checkout", "namespace": "shop", "severity": "page"},
         "annotations": {"summary": "checkout's DB pool is exhausted"}}]}]}))


def _state(prom) -> str | None:
    alerts = requests.get(f"{prom.url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    return next((a["state"] for a in alerts if a["labels"]["alertname"] == "CheckoutPoolExhausted"), None)


def _until(prom, want: str | None, timeout: float = 30.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _state(prom) == want:
            return time.time()
        time.sleep(0.2)
    raise AssertionError(f"CheckoutPoolExhausted never became {want}")


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_record_and_timeline_show_pending_firing_resolved(tmp_path):
    need("prometheus")
    need("promtool")
    rules = tmp_path / "rules.yml"
    rules.write_text(yaml.safe_dump({"groups": []}))
    with prometheus_from_openmetrics(checkout_now(), tmp_path / "prom", rules_file=rules) as prom:
        _rules(rules, firing=True)
        prom.proc.send_signal(signal.SIGHUP)
        pending = _until(prom, "pending")
        firing = _until(prom, "firing")
        _rules(rules, firing=False)
        prom.proc.send_signal(signal.SIGHUP)
        resolved = _until(prom, None)
        time.sleep(4)  # a few steps after it resolved, so the window holds the end
        config = tmp_path / "triage.yaml"
        config.write_text(yaml.safe_dump({"prometheus": {"url": prom.url, "step": 1},
                                          "services": {"checkout": {"namespace": "shop", "tier": 1}}}))
        out = tmp_path / "run"
        r = run_cli(["run", "--config", str(config), "--service", "checkout", "--window", "2m", "--baseline", "2m",
                     "--out", str(out), "--no-kubernetes", "--no-docker"])
    assert r.code in (1, 2), r.stderr
    record = json.loads((out / "incident.json").read_text())
    rows = [e for e in record["alert_events"] if e["alertname"] == "CheckoutPoolExhausted"]
    assert len(rows) == 1 and rows[0]["service"] == "checkout" and rows[0]["severity"] == "page"
    moves = rows[0]["transitions"]
    assert [m["state"] for m in moves] == ["pending", "firing", "resolved"]
    times = [_ts(m["time"]) for m in moves]
    # Each transition to the step (1 s) and the rule's evaluation (1 s) of when the API saw it.
    for seen, at in zip((pending, firing, resolved), times):
        assert abs(seen - at) <= 3.5, (moves, pending, firing, resolved)
    assert times[1] - times[0] >= FOR_S - 2
    draft = (out / "postmortem.md").read_text()
    # The generated data's own ALERTS series fire from before the window: said as such, not as an onset.
    assert "alert HighLatencyP95 (critical) already firing when the record's data begin" in draft
    lines = [line for line in draft.splitlines() if "CheckoutPoolExhausted" in line and "|" in line]
    assert [line.split("(page) ", 1)[1].split()[0] for line in lines] == ["pending", "firing", "resolved"], lines


def test_transitions_from_samples():
    # pending 3 steps, firing 2, gone, then pending again and cleared without firing; still pending at the end.
    states = {0: "pending", 10: "pending", 20: "pending", 30: "firing", 40: "firing",
              80: "pending", 90: "pending", 130: "pending"}
    moves = [(m["state"], _ts(m["time"])) for m in transitions(states, 10, 140)]
    assert moves == [("pending", 0), ("firing", 30), ("resolved", 50), ("pending", 80), ("inactive", 100),
                     ("pending", 130)]


def test_a_state_held_from_the_first_step_began_earlier():
    moves = transitions({100: "firing", 110: "firing"}, 10, 200, start=100)
    assert moves[0] == {"time": "1970-01-01T00:01:40Z", "state": "firing", "already": True}
    assert moves[1]["state"] == "resolved" and "already" not in moves[1]
    assert "already" not in transitions({110: "firing"}, 10, 200, start=100)[0]
