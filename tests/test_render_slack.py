"""`--output slack` (render/slack.py): Slack's mrkdwn for `detect`, `rca` and the status update.

Slack shows a markdown rendering's escapes literally (`db\\_pool\\_exhaustion`, `\\(baseline…\\)`,
issue 15 item 9) and has no tables; its own escaping is & < > as entities, nothing else.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testing.cli import run_cli
from triage.render.slack import code, text

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo" / "incident.json"
EVIL = "<script>&x</script> *b* _i_ `tick` <!channel>"
COMMANDS = {"detect": ["detect", "--from", str(DEMO)], "rca": ["rca", "--from", str(DEMO)],
            "status update": ["postmortem", str(DEMO), "--template", "status-update"]}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_demo_in_slack_has_no_markdown_escapes_and_no_tables(name):
    result = run_cli([*COMMANDS[name], "-o", "slack"])
    assert result.code in (0, 2), result.stderr
    assert ("db_pool_usage_ratio" if name == "detect" else "db_pool_exhaustion") in result.stdout
    assert "&" not in result.stdout.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "")
    assert "\\" not in result.stdout
    assert not [line for line in result.stdout.splitlines() if line.lstrip().startswith("|")]
    assert "\x1b" not in result.stdout
    assert "*" in result.stdout  # mrkdwn's bold, once at least


def test_the_markdown_status_update_still_escapes_for_markdown():
    """The template's markdown is unchanged: only `-o slack` is Slack's."""
    assert "db\\_pool\\_exhaustion" in run_cli([*COMMANDS["status update"]]).stdout


def _evil_record(tmp_path: Path) -> Path:
    record = json.loads(DEMO.read_text())
    for q in record["queries"]:
        if q["query"].startswith("ALERTS"):
            q["result"][0]["metric"]["alertname"] = EVIL
    record["rca"]["summary"] = f"pwned {EVIL}"
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(record))
    return path


def test_a_label_value_is_escaped_slack_style(tmp_path):
    evil = _evil_record(tmp_path)
    detect = run_cli(["detect", "--from", str(evil), "-o", "slack"]).stdout
    status = run_cli(["postmortem", str(evil), "--template", "status-update", "-o", "slack"]).stdout
    assert "`&lt;script&gt;&amp;x&lt;/script&gt; *b* _i_ 'tick' &lt;!channel&gt;`" in detect
    assert "pwned &lt;script&gt;&amp;x&lt;/script&gt;" in status
    for out in (detect, status):
        assert "<script>" not in out and "<!channel>" not in out and "\\" not in out


def test_text_and_code_escape_only_what_slack_escapes():
    assert text("a & b < c > d *e* _f_ (g) [h] #i |j|") == "a &amp; b &lt; c &gt; d *e* _f_ (g) [h] #i |j|"
    assert text("line\nnext\x1b[31m") == "line next\\x1b[31m"
    assert code("a`b") == "`a'b`"


def test_slack_is_offered_only_where_it_is_meant():
    for command in (["mitigate", "--from", str(DEMO)], ["fix", "--from", str(DEMO)],
                    ["capacity", "--from", str(DEMO), "--service", "checkout"]):
        result = run_cli([*command, "-o", "slack"])
        assert result.code != 0 and "slack" in result.stderr, command


def test_slack_for_the_post_mortem_itself_is_one_clear_line():
    result = run_cli(["postmortem", str(DEMO), "-o", "slack"])
    assert result.code == 3
    assert result.stderr.strip().count("\n") == 0 and "--template status-update" in result.stderr


def test_the_fleet_ranking_in_slack():
    from triage.render.slack import fleet_slack

    out = fleet_slack([{"service": "pay<ment>", "bottleneck": "external_dependency", "score": 0.91,
                        "severity": "P1", "why": "callers wait on it & time out"},
                       {"service": "checkout", "bottleneck": "external_dependency", "score": 0.4, "severity": None}])
    assert ("1. `pay&lt;ment&gt;`: `external_dependency`, ranking score 0.91, P1 — "
            "callers wait on it &amp; time out") in out
    assert "2. `checkout`: `external_dependency`, ranking score 0.40\n" in out
    assert "|" not in out and "\\" not in out
