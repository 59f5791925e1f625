"""The post-mortem an incident review would accept (issue 15, items 11-13): its sections, a
timeline of the incident rather than of the tool, and charts that can be read."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from testing.cli import run_cli
from triage.postmortem.charts import chart, x_axis
from triage.postmortem.context import prometheus_base
from triage.postmortem.series import query_points
from triage.postmortem.timeline import first_above, recovery

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo" / "incident.json"
SECTIONS = ["## Summary", "## Impact", "## Root cause", "## Trigger", "## Detection", "## Resolution",
            "## Action items", "## Lessons learned", "## Timeline (UTC)", "## Supporting information"]


@pytest.fixture(scope="module")
def text() -> str:
    result = run_cli(["postmortem", str(DEMO)])
    assert result.code == 0, result.stderr
    return result.stdout


def _section(text: str, heading: str) -> str:
    body = text.split(f"{heading}\n", 1)[1]
    return re.split(r"\n## ", body, maxsplit=1)[0]


# Item 13: the sections an incident review expects.

def test_sections_are_those_of_an_incident_review_in_order(text):
    at = [text.find(f"\n{h}\n") for h in SECTIONS]
    assert all(i >= 0 for i in at), [h for h, i in zip(SECTIONS, at) if i < 0]
    assert at == sorted(at)
    assert "\n## How this draft was made\n" in text[at[-1]:]


def test_no_paragraph_is_written_twice(text):
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if len(p.strip()) > 40]
    repeated = {p for p in paragraphs if paragraphs.count(p) > 1 and not p.startswith("```")}
    assert not repeated


def test_no_evidence_row_is_written_twice(text):
    evidence = _section(text, "### Evidence").split("\n### ")[0]
    signals = [row.split("|")[1].strip() for row in evidence.splitlines() if row.startswith("| ")][1:]
    assert signals and len(signals) == len(set(signals)), signals
    assert "db\\_pool\\_wait\\_p95" in signals


def test_impact_says_when_users_were_hit_what_the_user_count_is_and_that_there_is_no_slo(text):
    impact = _section(text, "## Impact")
    assert "- User impact started: 2026-11-30 14:41:48 UTC" in impact
    assert "- User impact ended: not within the record" in impact
    assert "Active users at peak (estimated): ≈ 194" in impact
    assert "Users affected" not in text
    assert "no SLO is configured for checkout" in impact


def test_action_items_are_a_table_with_type_owner_ticket_and_priority(text):
    items = _section(text, "## Action items")
    assert "| type | action item | owner | ticket | priority | done when |" in items
    rows = [r for r in items.splitlines() if r.startswith("| ") and not r.startswith("| type")]
    assert {r.split("|")[1].strip() for r in rows} == {"mitigate", "prevent", "process"}
    assert all(r.split("|")[3].strip() == "" and r.split("|")[4].strip() == "" for r in rows)


def test_lessons_learned_are_prompts_not_invented_content(text):
    lessons = _section(text, "## Lessons learned")
    assert [line for line in lessons.splitlines() if line.startswith("- ")] == [
        "- What went well?", "- What went wrong?", "- Where did we get lucky?"]


def test_links_go_to_the_configured_prometheus_never_to_a_placeholder(text):
    assert "prometheus.example" not in text
    assert "TRIAGE_PROMETHEUS_URL" in text
    linked = run_cli(["postmortem", str(DEMO)],
                     env={"TRIAGE_PROMETHEUS_URL": "http://user:secret@127.0.0.1:9090/"}).stdout
    assert linked.count("[open in Prometheus](http://127.0.0.1:9090/graph?g0.expr=") >= 3
    assert "secret" not in linked and "user@" not in linked


def test_placeholder_hosts_are_not_prometheus():
    assert prometheus_base("http://prometheus.example:9090") is None
    assert prometheus_base("https://prom.example.com") is None
    assert prometheus_base("$PROMETHEUS_URL") is None
    assert prometheus_base("http://127.0.0.1:9090/") == "http://127.0.0.1:9090"


# Item 12: a timeline of the incident, not of the tool.

def test_timeline_is_the_incidents_to_the_second(text):
    timeline = _section(text, "## Timeline (UTC)")
    rows = [r for r in timeline.splitlines() if r.startswith("| 2")]
    assert rows and all(re.match(r"\| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \| ", r) for r in rows)
    for event in ("| 2026-11-30 14:41:48 | traffic surge begins: 14.5 req/s",
                  "| 2026-11-30 14:41:48 | db\\_pool\\_wait\\_p95 leaves its baseline",
                  "| 2026-11-30 14:42:03 | alert DBConnectionsHigh (warning) firing",
                  "| 2026-11-30 14:43:03 | alert HighLatencyP95 (critical) firing",
                  "| 2026-11-30 14:42:33 | latency\\_p95 above its critical threshold 3.00 s"):
        assert event in timeline
    assert "triage detect" not in timeline and "incident window opens" not in timeline
    started = json.loads(DEMO.read_text())["phases"]["detect"]["started"].replace("T", " ").replace("Z", "")
    assert f"- triage detect: done, started {started} UTC" in _section(text, "## How this draft was made")


def test_times_to_detect_mitigate_and_resolve(text):
    resolution = _section(text, "## Resolution")
    assert "- Time to detect: 0.2 min (15 s)" in resolution
    assert "- Time to mitigate: not in the record" in resolution
    assert "- Time to resolve: not in the record" in resolution


def test_a_blip_is_not_a_crossing_and_recovery_needs_to_hold():
    blip = [(0, 0.1), (15, 0.9), (30, 0.1), (45, 0.9), (60, 0.9), (75, 0.9), (90, 0.1), (105, 0.1), (120, 0.1)]
    assert first_above(blip, 0.8) == 45
    assert recovery(blip, 0.8) == 90
    assert recovery(blip[:-1], 0.8) is None


def test_a_batched_query_answer_is_taken_apart_by_its_tag():
    inner = 'sum(rate(x_total{service=~"a"}[1m]))'
    batch = f'label_replace((up), "triage_q", "0", "", "") or label_replace(({inner}), "triage_q", "1", "", "")'
    record = {"queries": [{"query": batch, "result": [
        {"metric": {"triage_q": "0"}, "values": [[1, "9"]]},
        {"metric": {"triage_q": "1", "pod": "a"}, "values": [[1, "2"], [2, "3"]]},
        {"metric": {"triage_q": "1", "pod": "b"}, "values": [[1, "5"], [2, "NaN"]]}]}]}
    assert query_points(record, inner) == [(1.0, 5.0), (2.0, 3.0)]


# Item 11: charts that can be read.

def test_charts_set_a_palette_real_time_thresholds_and_percent(text):
    blocks = re.findall(r"```mermaid\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 4
    for block in blocks:
        assert '"plotColorPalette": "#1f77b4, #d62728, #ff7f0e"' in block.splitlines()[0]
        # Evenly spaced samples on a numeric time axis: the baseline (from -4 min) before the window (0).
        assert '    x-axis "minutes from the window start, 14:41:33 UTC" -4 --> 3\n' in block
    pool = next(b for b in blocks if "db_pool_usage_ratio" in b)
    assert 'y-axis "percent" 0 --> 100\n' in pool and "ratio\" 0" not in pool
    assert "line [95, 95" in pool and "line [80, 80" in pool
    assert "red: the critical threshold, 95.0 %" in text
    assert "the first alert fired at 14:42:03 UTC (+0.5 min)" in text


def test_uneven_samples_get_one_unique_clock_label_each():
    points = [(0.0, 1.0), (15.0, 2.0), (45.0, 3.0), (60.0, 4.0)]
    axis = x_axis(points, 30.0)
    labels = re.findall(r'"(\d\d:\d\d:\d\d)"', axis)
    assert labels == ["00:00:00", "00:00:15", "00:00:45", "00:01:00"]
    assert chart("t", "ratio", points, {"critical": 0.95}, 30.0)["block"].count("    line [") == 2


def test_a_template_written_for_the_earlier_context_still_renders(tmp_path):
    # A template of one's own (templates_dir) asks for the names the earlier draft used.
    own = tmp_path / "mine.md.j2"
    own.write_text("{{ impact.duration_minutes }} {{ impact.affected_users }} {{ detection.time_to_detect_minutes }}\n"
                   "{% for f in fixes %}{{ f.title }}|{{ f.priority }}|{{ f.metric }}\n{% endfor %}"
                   "{% for e in timeline %}{{ e.time }} {{ e.event }}\n{% endfor %}"
                   "{% for c in charts %}{{ c.title }}{% endfor %} {{ summary }} {{ trigger }}\n")
    result = run_cli(["postmortem", str(DEMO), "--template", str(own)])
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("3 194 0.2\nPgBouncer in transaction pooling")
