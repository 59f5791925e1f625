"""Capacity's lines read like the rest of the output: units as detect prints them, one pod not
"1 pods", a mean time of seconds in seconds, connections to two significant digits."""

from __future__ import annotations

from pathlib import Path

from testing.cli import run_cli

DEMO = Path(__file__).resolve().parent.parent / "demo" / "incident.json"


def test_the_demo_capacity_lines():
    result = run_cli(["capacity", "--from", str(DEMO), "--service", "checkout"])
    assert result.code == 0, result.stderr
    text = result.stdout
    assert "1 pod × 4 connections" in text and "1 pods" not in text
    assert "× 4.36 s mean time" in text            # not "4358 ms"
    assert "DB time per request = 0.055 " in text  # two significant digits, not "0.1"
    assert "(CPU 15.6 %)" in text                  # as detect says it, not rounded to "16 %"
