"""`triage rules` from the command line: stdout, --out (atomic, never over a file without --force)."""

from __future__ import annotations

import yaml

from testing.cli import run_cli


def test_prints_a_rule_file_with_the_configs_rate(tmp_path):
    cfg = tmp_path / "triage.yaml"
    cfg.write_text("prometheus:\n  url: http://127.0.0.1:9\n  rate_interval: 2m\n")
    result = run_cli(["rules", "--config", str(cfg), "--signal", "rps", "--signal", "latency_p95"])
    assert result.code == 0, result.stderr
    doc = yaml.safe_load(result.stdout)
    records = [r["record"] for g in doc["groups"] for r in g["rules"]]
    assert "service:triage_rps:2m" in records and "service:triage_latency_p95:2m" in records
    assert result.stdout.startswith("# Recording rules for triage's fleet pass (2 records, rate interval 2m")


def test_out_writes_once_and_replaces_only_with_force(tmp_path):
    out = tmp_path / "rules" / "triage.rules.yml"
    first = run_cli(["rules", "--out", str(out), "--rate", "5m"])
    assert first.code == 0 and first.stdout == f"{out}\n"
    assert "service:triage_rps:5m" in out.read_text()
    out.write_text("# my own edits\n")
    again = run_cli(["rules", "--out", str(out)])
    assert again.code == 3 and out.read_text() == "# my own edits\n"
    assert again.stderr.count("\n") == 1 and "already exists" in again.stderr and "--force" in again.stderr
    forced = run_cli(["rules", "--out", str(out), "--force"])
    assert forced.code == 0 and "service:triage_rps:1m" in out.read_text()
    assert [p.name for p in out.parent.iterdir()] == ["triage.rules.yml"]  # no temp file left


def test_bad_options_are_exit_3_with_one_line():
    for args, words in ((["--signal", "nope"], "no such signal"), (["--prefix", "1x"], "--prefix"),
                        (["--rate", "0s"], "--rate")):
        result = run_cli(["rules", *args])
        assert result.code == 3 and result.stdout == ""
        assert words in result.stderr and "Traceback" not in result.stderr
