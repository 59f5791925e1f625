"""Phase 5 and the whole run: the record, replay, the post-mortem, the demo."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from testing.cli import run_cli
from triage.errors import ConfigError, UsageError
from triage.incident import load, save

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo" / "incident.json"
AT = "2026-11-10T20:01:00Z"
# An intended change of the demo's post-mortem: TRIAGE_REGEN_GOLDEN=1 rewrites it (read the diff).
REGEN = os.environ.get("TRIAGE_REGEN_GOLDEN") == "1"


def test_postmortem_of_the_demo_record_matches_the_golden_file():
    result = run_cli(["postmortem", str(DEMO)])
    assert result.code == 0, result.stderr
    path = ROOT / "tests" / "golden" / "demo-postmortem.md"
    if REGEN:
        path.write_text(result.stdout)
    assert result.stdout == path.read_text()


def test_postmortem_has_what_a_reviewer_expects():
    text = run_cli(["postmortem", str(DEMO)]).stdout
    for heading in ("## Summary", "## Impact", "## Root cause", "## Trigger", "## Detection", "## Resolution",
                    "## Action items", "## Lessons learned", "## Timeline (UTC)", "## Supporting information",
                    "### Charts", "### Evidence", "### Queries"):
        assert heading in text
    # The incident lab's recording of seed 000's story (lab/recordings/db-pool): a pool of 4,
    # traffic ×3 (10 → 32 req/s) for 3 minutes, the lab Prometheus' own alert rules firing.
    assert "checkout: db pool exhaustion" in text
    assert "Service | checkout (lab)" in text
    peak = float(text.split("Peak p95 latency: ")[1].split(" ")[0])
    assert 3.0 < peak < 10.0
    assert "First alert: **DBConnectionsHigh** at 2026-11-30 14:42:03 UTC" in text
    assert "alert HighLatencyP95 (critical) firing" in text
    assert text.count("```mermaid\n%%{init:") >= 4
    # The record's backend is a placeholder host: no link to it, the queries are given to paste.
    assert "prometheus.example" not in text and "`max by (service) (db_connection_pool_used" in text
    failed = int(text.split("Failed requests in the window: ≈ ")[1].split(" ")[0])
    assert 50 < failed < 600  # a few % of ~30 req/s over 3 minutes


def test_status_update_template():
    result = run_cli(["postmortem", str(DEMO), "--template", "status-update"])
    assert result.code == 0
    assert result.stdout.startswith("🚨 INCIDENT P0: checkout")


def evil_record(tmp_path: Path) -> Path:
    record = json.loads(DEMO.read_text())
    evil = "</details><script>x</script>{{ 7*7 }}\x1b[31m"
    record["rca"]["summary"] = f"pwned {evil}"
    record["rca"]["candidates"][0]["evidence"][0]["summary"] = evil
    record["detect"]["services"][0]["alerts"][0]["alertname"] = evil
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(record))
    return path


def test_outside_values_render_inert(tmp_path):
    text = run_cli(["postmortem", str(evil_record(tmp_path))]).stdout
    assert "49" not in text.split("## Impact")[0]
    assert "{{ 7*7 }}" not in text and "\\{\\{ 7\\*7 \\}\\}" in text
    assert "<script>" not in text and "\\<script\\>" in text
    assert "</details>" not in text
    assert "\x1b" not in text


def test_postmortem_never_overwrites_without_force(tmp_path):
    out = tmp_path / "pm.md"
    out.write_text("a human's edits")
    result = run_cli(["postmortem", str(DEMO), "--out", str(out)])
    assert result.code == 3 and "already exists" in result.stderr
    assert out.read_text() == "a human's edits"
    assert run_cli(["postmortem", str(DEMO), "--out", str(out), "--force"]).code == 0
    assert out.read_text().startswith("# Post-mortem")


def test_atomic_write_leaves_the_old_file_when_interrupted(tmp_path, monkeypatch):
    path = tmp_path / "incident.json"
    save({"schema": "triage.incident/v1", "old": True}, path)
    import triage.files as incident

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(incident.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        save({"schema": "triage.incident/v1", "new": True}, path, force=True)
    assert json.loads(path.read_text()) == {"schema": "triage.incident/v1", "old": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["incident.json"]


def test_bad_records_are_refused_in_one_line(tmp_path):
    truncated = tmp_path / "t.json"
    truncated.write_text(DEMO.read_text()[:5000])
    newer = tmp_path / "n.json"
    newer.write_text(json.dumps({"schema": "triage.incident/v2"}))
    nonsense = tmp_path / "x.json"
    nonsense.write_text(json.dumps({"schema": "triage.incident/v1", "services": "checkout"}))
    for path, needle in ((truncated, "not valid JSON"), (newer, "newer triage"), (nonsense, "'services'")):
        with pytest.raises(ConfigError, match=needle):
            load(path)
        result = run_cli(["rca", "--from", str(path)])
        assert result.code == 3 and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_demo_writes_record_and_postmortem_and_exits_0(tmp_path):
    result = run_cli(["demo"], cwd=tmp_path)
    assert result.code == 0, result.stderr
    paths = [Path(p) for p in result.stdout.split()]
    assert [p.name for p in paths] == ["incident.json", "postmortem.md"]
    record = load(tmp_path / paths[0])
    assert record["rca"]["bottleneck"] == "db_pool_exhaustion"
    assert (tmp_path / paths[1]).read_text().startswith("# Post-mortem: checkout")
    again = run_cli(["demo"], cwd=tmp_path)  # a new directory beside the first (tests/test_cli_demo.py)
    assert again.code == 0 and Path(again.stdout.split()[0]).parent.name == f"{paths[0].parent.name}-2"


def test_replay_equals_live(prometheus_server, tmp_path):
    cfg = tmp_path / "triage.yaml"
    cfg.write_text("services:\n  checkout: {namespace: shop, database: checkout, tier: 1}\n")
    common = ["--prometheus-url", prometheus_server.url, "--config", str(cfg), "--service", "checkout", "--at", AT]
    run = run_cli(["run", *common, "--out", str(tmp_path / "out"), "--no-kubernetes", "--no-docker"])
    assert run.code == 2, run.stderr
    record = tmp_path / "out" / "incident.json"
    live_rca = json.loads(run_cli(["rca", *common, "-o", "json"]).stdout)
    replay_rca = json.loads(run_cli(["rca", "--from", str(record), "-o", "json"]).stdout)
    live_det = json.loads(run_cli(["detect", *common, "-o", "json"]).stdout)
    replay_det = json.loads(run_cli(["detect", "--from", str(record), "-o", "json"]).stdout)
    for doc in (live_rca, replay_rca, live_det, replay_det):
        doc.pop("skipped", None)
    assert replay_rca == live_rca
    assert replay_det == live_det
    assert json.loads(record.read_text())["rca"]["bottleneck"] == "db_pool_exhaustion"
    # the run refuses to overwrite its own outputs
    again = run_cli(["run", *common, "--out", str(tmp_path / "out"), "--no-kubernetes", "--no-docker"])
    assert again.code == 3 and "already exists" in again.stderr


def test_outputs_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        result = run_cli(["demo", "--out", str(tmp_path / "o")])
    finally:
        os.umask(old)
    assert result.code == 0
    mode = (tmp_path / "o" / "incident.json").stat().st_mode & 0o777
    assert mode == 0o640


def test_write_new_refuses_existing(tmp_path):
    from triage.files import write_new

    path = tmp_path / "x"
    path.write_text("keep")
    with pytest.raises(UsageError):
        write_new(path, "new")
    assert path.read_text() == "keep"


def test_write_new_names_the_file_exclusively(tmp_path, monkeypatch):
    """The final name is created with an operation that fails when it exists: a file that appears
    between the check and the write (another writer) is refused, never replaced."""
    import triage.files as incident
    from triage.files import write_new

    path = tmp_path / "pm.md"
    real_stage = incident._stage

    def racing_stage(p, text):
        tmp = real_stage(p, text)
        path.write_text("the other writer's")  # lands after the existence check, before the name is taken
        return tmp

    monkeypatch.setattr(incident, "_stage", racing_stage)
    with pytest.raises(UsageError, match="already exists"):
        write_new(path, "mine")
    assert path.read_text() == "the other writer's"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pm.md"]


def test_write_new_without_hard_links_still_refuses(tmp_path, monkeypatch):
    """On a file system without hard links the name is taken with O_EXCL."""
    import errno

    import triage.files as incident
    from triage.files import write_new

    def no_links(*args):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(incident.os, "link", no_links)
    path = tmp_path / "pm.md"
    write_new(path, "first")
    assert path.read_text() == "first"
    with pytest.raises(UsageError):
        write_new(path, "second")
    assert path.read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pm.md"]


def test_write_files_is_all_or_nothing(tmp_path, monkeypatch):
    """The second file failing (ENOSPC at its fsync, Ctrl-C) takes the first back with it, and the
    directory the call made: nothing blocks a rerun."""
    import errno

    import triage.files as incident
    from triage.errors import TriageError
    from triage.files import write_files

    out = tmp_path / "new" / "dir"
    files = [(out / "incident.json", "{}\n"), (out / "postmortem.md", "# pm\n")]
    real_fsync = os.fsync
    for failure in (OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()):
        calls = []

        def fsync(fd, failure=failure, calls=calls):
            calls.append(fd)
            if len(calls) == 2:
                raise failure
            return real_fsync(fd)

        monkeypatch.setattr(incident.os, "fsync", fsync)
        with pytest.raises((TriageError, KeyboardInterrupt)) as info:
            write_files(files)
        if isinstance(failure, OSError):
            assert "No space left on device" in info.value.message and "postmortem.md" in info.value.message
        assert sorted(p.name for p in tmp_path.iterdir()) == [], list(tmp_path.rglob("*"))
    monkeypatch.setattr(incident.os, "fsync", real_fsync)
    write_files(files)
    assert (out / "incident.json").read_text() == "{}\n" and (out / "postmortem.md").read_text() == "# pm\n"
    with pytest.raises(UsageError):
        write_files(files)


def test_read_json_bounds_what_it_reads(tmp_path):
    from triage.incident import read_json

    path = tmp_path / "x.json"
    path.write_text('{"a": 1}' + " " * 100)
    with pytest.raises(ConfigError, match="too large"):
        read_json(path, limit=50)
    for text, needle in (("[" * 50_000 + "]" * 50_000, "nested too deeply"), ('{"a": NaN}', "NaN"),
                         ('{"a": Infinity}', "Infinity"), ('{"a": ' + "9" * 5000 + "}", "4300 digits")):
        path.write_text(text)
        with pytest.raises(ConfigError, match=needle):
            read_json(path)


def test_save_of_an_unwritable_value_is_one_error(tmp_path):
    from triage.errors import TriageError

    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    for record, needle in (({"x": deep}, "nests too deeply"), ({"x": float("nan")}, "JSON cannot carry")):
        with pytest.raises(TriageError, match=needle):
            save(record, tmp_path / "incident.json")
    assert list(tmp_path.iterdir()) == []
