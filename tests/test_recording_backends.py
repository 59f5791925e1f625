"""`triage rules` evaluated by the real rulers, and the fleet pass reading what they recorded.

Prometheus loads the file and evaluates it (live); the history is evaluated by promtool through
that Prometheus (`create-blocks-from rules`: a ruler never evaluates backfilled history) and
served by a Prometheus started over raw and recorded blocks. vmalert evaluates the same file
against VictoriaMetrics and remote-writes the results back (live, then `-replay` over history).
Either way `rca --all-services` reads the records and gives the verdicts the raw series give."""

from __future__ import annotations

import json

import pytest

from testing.cli import run_cli
from testing.recording import backfill_rules_prometheus, rule_groups_health, vmalert_live, vmalert_replay
from testing.scenarios.library import DATA_END_S, DATA_START_S, bottleneck_fleet, default_fleet, triage_config
from tests.conftest import need

AT = "2026-11-10T20:01:00Z"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    import yaml

    work = tmp_path_factory.mktemp("recording")
    config = work / "triage.yaml"
    config.write_text(yaml.safe_dump(triage_config(default_fleet() + bottleneck_fleet())))
    rules = work / "triage.rules.yml"
    # 15s: the scenario's own resolution, so each step of the pass reads a record evaluated within it
    result = run_cli(["rules", "--interval", "15s", "--out", str(rules)])
    assert result.code == 0, result.stderr
    return work, config, rules


def _fleet(url: str, config, command: str = "rca") -> dict:
    result = run_cli([command, "--prometheus-url", url, "--config", str(config), "--at", AT, "-o", "json",
                      "--all-services"])
    assert result.stdout.strip(), result.stderr
    return json.loads(result.stdout)


def _verdicts(payload: dict) -> dict:
    return {name: (s["bottleneck"], s["status"], s["severity"], s["trigger"], tuple(s["missing_signals"]))
            for name, s in payload["services"].items()}


def _assert_same_as_raw(raw: dict, recorded: dict) -> None:
    assert _verdicts(recorded) == _verdicts(raw)
    for name, s in recorded["services"].items():
        assert abs(s["confidence"] - raw["services"][name]["confidence"]) <= 0.1, name
    raw_order = [r["service"] for r in raw["ranking"]]
    rec_order = [r["service"] for r in recorded["ranking"]]
    assert sorted(rec_order) == sorted(raw_order)
    assert all(abs(rec_order.index(n) - raw_order.index(n)) <= 2 for n in raw_order), (raw_order, rec_order)
    assert rec_order.index("bank-api") < rec_order.index("payment")
    rows = {r["service"]: r["symptom_of"] for r in recorded["ranking"]}
    assert rows == {r["service"]: r["symptom_of"] for r in raw["ranking"]}


def _queries_used(payload: dict) -> set[str]:
    return {sig["query"] for s in payload["services"].values() for sig in s["signals"].values() if sig["query"]}


def test_prometheus_evaluates_the_rules_and_the_fleet_pass_reads_them(fleet_dataset, setup):
    need("prometheus")
    need("promtool")
    from testing.backends import prometheus_from_openmetrics

    work, config, rules = setup
    openmetrics, _ = fleet_dataset
    raw_backend = prometheus_from_openmetrics(openmetrics, work, rules_file=rules)
    try:
        evaluated = rule_groups_health(raw_backend)
        assert {r["health"] for r in evaluated} == {"ok"}, [r.get("lastError") for r in evaluated]
        raw = _fleet(raw_backend.url, config)
        raw_detect = _fleet(raw_backend.url, config, "detect")
        assert not any(q.startswith("service:triage_") for q in _queries_used(raw))
        both = backfill_rules_prometheus(raw_backend, rules, DATA_START_S, DATA_END_S)
    finally:
        raw_backend.stop()
    with both:
        recorded = _fleet(both.url, config)
        detect = _fleet(both.url, config, "detect")
    used = _queries_used(recorded)
    assert {"service:triage_rps:1m", "service:triage_latency_p95:1m", "container:triage_cpu_usage_ratio:1m",
            "datname:triage_db_connections_ratio"} <= used
    assert all(":triage_" in q for q in used), sorted(q for q in used if ":triage_" not in q)
    _assert_same_as_raw(raw, recorded)
    statuses = {s["service"]: s["status"] for s in detect["services"]}
    assert statuses == {s["service"]: s["status"] for s in raw_detect["services"]}


def test_vmalert_writes_the_records_to_victoria_metrics_and_the_fleet_pass_reads_them(fleet_dataset, setup):
    need("victoria-metrics")
    need("vmalert")
    from testing.backends import victoria_metrics_from_import

    work, config, rules = setup
    _, vm_text = fleet_dataset
    with victoria_metrics_from_import(vm_text, work) as vm:
        raw = _fleet(vm.url, config)
        with vmalert_live(vm, rules, work / "vmalert-live") as ruler:
            evaluated = rule_groups_health(ruler)
            assert {r["health"] for r in evaluated} == {"ok"}, [r.get("lastError") for r in evaluated]
        vmalert_replay(vm, rules, DATA_START_S, DATA_END_S, work / "vmalert-replay")
        recorded = _fleet(vm.url, config)
    used = _queries_used(recorded)
    assert {"service:triage_rps:1m", "service:triage_error_ratio:1m", "container:triage_memory_usage_ratio"} <= used
    assert all(":triage_" in q for q in used), sorted(q for q in used if ":triage_" not in q)
    _assert_same_as_raw(raw, recorded)
