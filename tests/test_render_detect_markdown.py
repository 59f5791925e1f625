"""detect's markdown says what its table says: baseline, sustained, now and change, with the same
legend (issue 15 item 5: one vocabulary across outputs)."""

from __future__ import annotations

from pathlib import Path

from testing.cli import run_cli
from triage.render.markdown.detect import DETECT_LEGEND

DEMO = Path(__file__).resolve().parent.parent / "demo" / "incident.json"


def test_markdown_has_the_now_and_change_columns_and_the_legend():
    result = run_cli(["detect", "--from", str(DEMO), "-o", "markdown"])
    assert result.stdout, result.stderr
    assert "| signal | baseline | sustained | now | change | status |" in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.startswith("| latency_p95 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert len(cells) == 6 and cells[3] and cells[4].startswith("×"), row
    assert "now: its last points" in result.stdout and "sustained ÷ baseline" in DETECT_LEGEND
