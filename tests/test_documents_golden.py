"""Every document, rendering and help text the CLI writes, pinned byte for byte under tests/data/documents/.

The files were written by the code before the shape issue (14) moved the renderers, the CLI inputs
and the document builders: a move must not change one byte of what users read or parse. Values
that differ between runs (the backend's port, temporary paths, how long a phase took) are
replaced by placeholders before the comparison; nothing else is.

Regenerate only for an intended change of output: TRIAGE_REGEN_GOLDEN=1 pytest tests/test_documents_golden.py
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from testing.cli import run_cli
from testing.scenarios.library import bottleneck_fleet, default_fleet, triage_config

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "data" / "documents"
DEMO = ROOT / "demo" / "incident.json"
AT = "2026-11-10T20:01:00Z"
REGEN = os.environ.get("TRIAGE_REGEN_GOLDEN") == "1"
ENV = {"COLUMNS": "120"}

COMMANDS = ["detect", "health", "mitigate", "rca", "capacity", "fix", "postmortem", "run", "demo", "serve",
            "completion", "queries", "queries list", "queries check", "playbooks", "playbooks list", "playbooks show",
            "playbooks validate", "rules"]


def _normal(text: str, subs: dict[str, str]) -> str:
    for old, new in subs.items():
        text = text.replace(old, new)
    return text


def _mask_record(record: dict[str, Any]) -> dict[str, Any]:
    for phase in (record.get("phases") or {}).values():
        for key in ("started", "seconds"):
            if key in phase:
                phase[key] = key.upper()
    return record


def _check(name: str, text: str) -> None:
    path = GOLDEN / name
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), f"no golden file {path} (TRIAGE_REGEN_GOLDEN=1 writes it)"
    assert text == path.read_text(), f"{name} differs from its golden file"


def _record_text(path: Path, subs: dict[str, str]) -> str:
    record = _mask_record(json.loads(path.read_text()))
    return _normal(json.dumps(record, indent=1, sort_keys=False, ensure_ascii=False), subs) + "\n"


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_texts(command):
    result = run_cli([*command.split(), "--help"], env=ENV)
    assert result.code == 0, result.stderr
    _check(f"help/{command.replace(' ', '-') or 'triage'}.txt", result.stdout)


REPLAYS = {
    "detect": ["detect"], "rca": ["rca"], "capacity": ["capacity", "--service", "checkout"],
    "mitigate": ["mitigate"], "fix": ["fix"],
}


@pytest.mark.parametrize("output", ["json", "markdown", "table"])
@pytest.mark.parametrize("name", sorted(REPLAYS))
def test_replays_of_the_demo_record(name, output):
    result = run_cli([*REPLAYS[name], "--from", str(DEMO), "-o", output], env=ENV)
    subs = {str(ROOT): "ROOT"}  # the checkout's path: the plan names its source record
    _check(f"demo/{name}.{output}", f"exit {result.code}\n--- stdout\n{_normal(result.stdout, subs)}--- stderr\n"
                                     f"{_normal(result.stderr, subs)}")


def test_demo_record(tmp_path):
    result = run_cli(["demo", "--out", str(tmp_path / "out")], env=ENV)
    assert result.code == 0, result.stderr
    subs = {str(tmp_path): "TMP"}
    _check("demo/demo.out", f"--- stdout\n{_normal(result.stdout, subs)}--- stderr\n{_normal(result.stderr, subs)}")
    _check("demo/incident.json", _record_text(tmp_path / "out" / "incident.json", subs))


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    path = tmp_path_factory.mktemp("golden") / "triage.yaml"
    cfg = triage_config(default_fleet() + bottleneck_fleet())
    cfg["services"]["checkout"]["invariants"] = [
        {"name": "no overselling", "query": 'min(db_connection_pool_size{service="$service"}) - 25', "min": 0}]
    path.write_text(yaml.safe_dump(cfg))
    return path


LIVE = {
    "detect-fleet": ["detect", "--all-services"],
    "detect-checkout": ["detect", "--service", "checkout"],
    "rca-fleet": ["rca", "--all-services"],
    "rca-checkout": ["rca", "--service", "checkout"],
    "capacity-checkout": ["capacity", "--service", "checkout"],
    "mitigate-fleet": ["mitigate", "--all-services", "--no-health"],
    "fix-checkout": ["fix", "--service", "checkout", "--no-health"],
}


@pytest.mark.parametrize("output", ["json", "markdown", "table"])
@pytest.mark.parametrize("name", sorted(LIVE))
def test_live_documents(prometheus_server, config, name, output):
    args = [*LIVE[name], "--prometheus-url", prometheus_server.url, "--config", str(config), "--at", AT,
            "-o", output]
    result = run_cli(args, env=ENV)
    subs = {prometheus_server.url: "PROMETHEUS", str(config.parent): "CONFIG"}
    _check(f"live/{name}.{output}", f"exit {result.code}\n--- stdout\n{_normal(result.stdout, subs)}--- stderr\n"
                                     f"{_normal(result.stderr, subs)}")


@pytest.mark.parametrize("scope", [["--all-services"], ["--service", "checkout"]], ids=["fleet", "checkout"])
def test_run_record_and_its_replays(prometheus_server, config, tmp_path, scope):
    name = "fleet" if scope[0] == "--all-services" else "checkout"
    out = tmp_path / "out"
    result = run_cli(["run", *scope, "--prometheus-url", prometheus_server.url, "--config", str(config), "--at", AT,
                      "--no-kubernetes", "--no-docker", "--out", str(out)], env=ENV)
    subs = {prometheus_server.url: "PROMETHEUS", str(tmp_path): "TMP", str(config.parent): "CONFIG"}
    _check(f"run/{name}.out", f"exit {result.code}\n--- stdout\n{_normal(result.stdout, subs)}--- stderr\n"
                              f"{_normal(result.stderr, subs)}")
    record = json.loads((out / "incident.json").read_text())
    # The queries and their answers are the backend's; the documents built from them are pinned.
    _check(f"run/{name}.incident.json",
           _record_text_of({k: v for k, v in record.items() if k != "queries"}, subs))
    _check(f"run/{name}.queries.count", f"{len(record['queries'])}\n")
    # "How this draft was made" carries the wall-clock time and duration each phase ran.
    postmortem = re.sub(r"(- triage \w+: \w+), started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \([\d.]+ s\)",
                        r"\1, started STARTED (SECONDS)", (out / "postmortem.md").read_text())
    _check(f"run/{name}.postmortem.md", _normal(postmortem, subs))
    for command in (["rca"], ["detect"], ["fix"]):
        again = run_cli([*command, "--from", str(out / "incident.json"), "-o", "json"], env=ENV)
        _check(f"run/{name}.replay-{command[0]}.json",
               f"exit {again.code}\n--- stdout\n{_normal(again.stdout, subs)}--- stderr\n"
               f"{_normal(again.stderr, subs)}")


def _record_text_of(record: dict[str, Any], subs: dict[str, str]) -> str:
    text = json.dumps(_mask_record(record), indent=1, ensure_ascii=False)
    return re.sub(r"\s+\n", "\n", _normal(text, subs)) + "\n"
