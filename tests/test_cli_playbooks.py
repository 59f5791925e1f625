"""`triage mitigate`, `triage fix` and `triage playbooks ...` driven like a shell drives them:
through the error boundary, against a real Prometheus, and offline from incident records."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
import yaml

from testing.cli import Result, run_cli
from testing.scenarios.library import bottleneck_fleet, default_fleet, triage_config
from tests.test_playbooks import finding, health_doc, rca_doc

AT = "2026-11-10T20:01:00Z"


class _Stdin(io.StringIO):
    def __init__(self, text: str, tty: bool) -> None:
        super().__init__(text)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def run_pb(args: Sequence[str], *, env: Mapping[str, str] | None = None, stdin: str = "",
           tty: bool = False, cwd: Path | None = None) -> Result:
    saved_stdin = os.sys.stdin
    os.sys.stdin = _Stdin(stdin, tty)
    try:
        return run_cli(args, env=env, cwd=cwd)
    finally:
        os.sys.stdin = saved_stdin


def write_record(path: Path, *, rca: dict | None = None, health: dict | None = None, **extra) -> Path:
    services = [{"name": (rca or {}).get("service", "orders"), "namespace": "shop"}]
    record = {"schema": "triage.incident/v1", "id": "20261110T200100Z-test", "services": services,
              "window": {"start": "2026-11-10T19:46:00Z", "end": AT},
              "baseline": {"start": "2026-11-10T18:46:00Z", "end": "2026-11-10T19:46:00Z"},
              "queries": [], "rca": rca, "health": health, "actions": [], "notes": "kept as is", **extra}
    path.write_text(json.dumps(record, indent=1))
    return path


def by_id(payload: dict, phase: str) -> dict:
    return {s["id"].split("/", 1)[1]: s for s in payload[phase] if s["status"] == "proposed"}


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    path = tmp_path_factory.mktemp("mitigate") / "triage.yaml"
    path.write_text(yaml.safe_dump(triage_config(default_fleet() + bottleneck_fleet())))
    return path


# ---- live, against a real Prometheus -------------------------------------------------------


def test_mitigate_checkout_proposes_pool_and_db_steps_with_numbers(prometheus_server, config):
    result = run_pb(["mitigate", "--service", "checkout", "--prometheus-url", prometheus_server.url,
                     "--config", str(config), "--at", AT, "-o", "json", "--no-kubernetes", "--no-docker"])
    assert result.code == 2, result.stderr
    payload = json.loads(result.stdout)
    assert payload["schema"] == "triage.plan/v1" and payload["phase"] == "mitigate"
    assert payload["services"][0]["bottleneck"] == "db_pool_exhaustion"
    steps = by_id(payload, "mitigations")
    assert {"cap-pods-at-db-budget", "find-connection-holders", "end-idle-transactions", "restart-to-release",
            "shed-load"} <= set(steps)
    cap = {n["name"]: n for n in steps["cap-pods-at-db-budget"]["numbers"]}
    assert cap["max_pods"]["value"] == 4
    assert cap["max_pods"]["with"] == "max(floor(0.8 × 100 ÷ 20), 1)"
    assert """kubectl -n shop patch hpa checkout --type=merge -p '{"spec":{"maxReplicas":4}}'""" in \
        steps["cap-pods-at-db-budget"]["commands"]
    needed = {n["name"]: n["value"] for n in steps["find-connection-holders"]["numbers"]}["needed"]
    assert 6 < needed < 8  # 324 req/s × 21 ms of DB time per request: the queries need ~7 connections
    assert any("psql -X -d checkout" in c and "pg_stat_activity" in c
               for c in steps["find-connection-holders"]["commands"])
    assert steps["restart-to-release"]["action"] == {"kind": "rollout_restart", "namespace": "shop",
                                                     "name": "checkout"}
    assert all("db_pool_exhaustion" == s["playbook"] for s in list(steps.values())[:5])
    evidence = {e["name"]: e for e in steps["find-connection-holders"]["evidence"]}
    assert evidence["db_pool_usage_ratio"]["window"] == 1.0 and evidence["db_pool_usage_ratio"]["query"]
    assert payload["actions"] == []
    assert "no health checks" in " ".join(payload["notes"])


def test_mitigate_table_shows_formulas_commands_and_changes_nothing(prometheus_server, config):
    result = run_pb(["mitigate", "--service", "checkout", "--prometheus-url", prometheus_server.url,
                     "--config", str(config), "--at", AT])
    assert result.code == 2, result.stderr
    out = result.stdout
    assert ("max_pods = max(floor(0.8 × db_max_connections ÷ capacity.pool_per_pod), 1) = "
            "max(floor(0.8 × 100 ÷ 20), 1) = 4") in out
    assert "$ kubectl -n shop rollout restart deployment/checkout" in out
    assert "[safe]" in out and "status: CRITICAL" in out
    assert "nothing was changed" in result.stderr
    # the health phase ran and said why its sources were skipped (no cluster, no Docker here)
    assert "note: health: skipped kubernetes" in out


def test_fix_from_a_recorded_run_works_offline(prometheus_server, config, tmp_path):
    out_dir = tmp_path / "incident"
    run = run_cli(["run", "--prometheus-url", prometheus_server.url, "--config", str(config), "--at", AT,
                   "--service", "checkout", "--out", str(out_dir), "--no-kubernetes", "--no-docker"])
    assert run.code == 2, run.stderr
    record_path = out_dir / "incident.json"
    record = json.loads(record_path.read_text())
    # `triage run` found plan_for_record and filled the playbooks phase; the post-mortem lists the fixes
    assert record["phases"]["playbooks"]["status"] == "done"
    assert record["playbooks"]["fixes"]
    postmortem = (out_dir / "postmortem.md").read_text()
    assert "PgBouncer in transaction pooling in front of checkout: default\\_pool\\_size 14" in postmortem
    assert "n/a" not in postmortem.split("## Action items")[1].split("##")[0]
    # offline: no Prometheus reachable, and none asked
    result = run_pb(["fix", "--from", str(record_path), "-o", "json"],
                    env={"TRIAGE_PROMETHEUS_URL": "http://127.0.0.1:9"})
    assert result.code == 2, result.stderr
    payload = json.loads(result.stdout)
    fixes = by_id(payload, "fixes")
    assert fixes["pgbouncer"]["priority"] == "P0"
    numbers = {n["name"]: n["value"] for n in fixes["pgbouncer"]["numbers"]}
    assert numbers["server_pool"] == 14 and numbers["client_conns"] == 400
    assert fixes["pgbouncer"]["success_metric"].startswith("histogram_quantile(0.95")
    assert fixes["pgbouncer"]["verify"].startswith("promtool query instant http://127.0.0.1:9 '")
    assert payload["source"] == str(record_path)


def test_mitigate_fleet_plans_the_services_with_an_incident(prometheus_server, config):
    result = run_pb(["mitigate", "--all-services", "--prometheus-url", prometheus_server.url, "--config", str(config),
                     "--at", AT, "-o", "json", "--no-health"])
    assert result.code == 2, result.stderr
    payload = json.loads(result.stdout)
    planned = {s["service"] for s in payload["services"]}
    assert {"checkout", "orders", "payment"} <= planned
    by_service = {s["service"] for s in payload["mitigations"] if s["status"] == "proposed"}
    assert {"checkout", "orders", "payment"} <= by_service


# ---- offline, from documents ---------------------------------------------------------------


def test_fix_from_a_record_markdown(tmp_path):
    rec = write_record(tmp_path / "incident.json", rca=rca_doc("lock_contention", service="tickets"),
                       health=health_doc(finding("CrashLoopBackOff", name="tickets-6b7c8d9f5-x2k4p")))
    result = run_pb(["fix", "--from", str(rec), "-o", "markdown"])
    assert result.code == 2, result.stderr
    text = result.stdout
    assert text.startswith("# Permanent fixes (phase 4)")
    assert "Make the decrement atomic" in text and "priority P0" in text
    assert "```sh\n" in text and "kubectl -n shop logs tickets-6b7c8d9f5-x2k4p" in text
    assert "success metric: `" in text


def test_mitigate_from_health_only(tmp_path):
    health = tmp_path / "health.json"
    health.write_text(json.dumps(health_doc(finding("OOMKilled", kind="container", name="shop-cache-1"),
                                            finding("NodePressure", status="warning"))))
    result = run_pb(["mitigate", "--health-from", str(health), "-o", "json"])
    assert result.code == 2, result.stderr
    payload = json.loads(result.stdout)
    steps = by_id(payload, "mitigations")
    assert steps["oom-container"]["action"] == {"kind": "restart_container", "name": "shop-cache-1"}
    assert "docker restart shop-cache-1" in steps["oom-container"]["commands"]
    assert "kubectl describe node node-a1 | grep -A 8 Conditions" in steps["node-pressure"]["commands"]
    assert "no root-cause analysis" in " ".join(payload["notes"])


def test_from_refuses_a_file_that_is_not_an_incident_record(tmp_path):
    path = tmp_path / "rca.json"
    path.write_text(json.dumps(rca_doc("cpu_saturation")))
    for command in ("mitigate", "fix"):
        result = run_pb([command, "--from", str(path)])
        assert result.code == 3
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "not an incident record (schema 'triage.rca/v1'" in lines[0]


def test_without_inputs_it_says_which_are_needed():
    result = run_pb(["mitigate"])
    assert result.code == 3 and "give --service NAME" in result.stderr and "--from incident.json" in result.stderr


def test_apply_refuses_when_stdin_is_not_a_terminal(tmp_path):
    rec = write_record(tmp_path / "incident.json", rca=rca_doc("cpu_saturation"))
    before = rec.read_text()
    result = run_pb(["mitigate", "--from", str(rec), "--apply"], tty=False)
    assert result.code == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "refusing to --apply: stdin is not a terminal" in lines[0] and "--yes" in lines[0]
    assert result.stdout == ""
    assert rec.read_text() == before


# ---- triage playbooks list|show|validate ---------------------------------------------------


def test_playbooks_list_and_show():
    result = run_pb(["playbooks", "list", "-o", "json"])
    assert result.code == 0, result.stderr
    books = {p["name"]: p for p in json.loads(result.stdout)["playbooks"]}
    assert len(books) >= 14 and books["db_pool_exhaustion"]["bundled"]
    assert "OOMKilled" in books["memory_pressure"]["covers"]["reasons"]
    table = run_pb(["playbooks", "list"])
    assert table.code == 0 and "memory_pressure" in table.stdout and "built-in" in table.stdout
    shown = run_pb(["playbooks", "show", "cpu_saturation", "-o", "json"])
    assert shown.code == 0
    doc = json.loads(shown.stdout)
    scale = doc["mitigations"][0]
    assert scale["id"] == "cpu_saturation/scale-out" and scale["safe"] is True
    assert scale["compute"]["replicas_needed"] == "ceil(replicas * cpu_usage_ratio / 0.7)"
    text = run_pb(["playbooks", "show", "cpu_saturation"])
    assert "kubectl -n {namespace} scale deployment/{deployment} --replicas={replicas_target}" in text.stdout
    missing = run_pb(["playbooks", "show", "nope"])
    assert missing.code == 3 and "no playbook named 'nope'" in missing.stderr


def test_playbooks_validate_passes_on_the_shipped_set():
    result = run_pb(["playbooks", "validate"])
    assert result.code == 0, result.stdout + result.stderr
    assert "0 invalid" in result.stdout and "warning" not in result.stdout


def test_playbooks_validate_fails_clearly_on_broken_files(tmp_path):
    (tmp_path / "ok.yaml").write_text(
        "title: t\nmitigations:\n  - id: a\n    title: T\n    seed: '002'\n    when: 'error_ratio > 10%'\n"
        "    commands: [kubectl get pods]\n    risk: none\n")
    (tmp_path / "bad.yaml").write_text(
        "title: t\nmitigations:\n  - id: a\n    title: T\n    seed: '002'\n    when: 'eror_ratio > 10%'\n"
        "    commands: [kubectl get pods]\n    risk: none\n    retries: 3\n")
    result = run_pb(["playbooks", "validate", str(tmp_path)])
    assert result.code == 3
    assert f"ok {tmp_path / 'ok.yaml'}" in result.stdout
    assert f"FAILED {tmp_path / 'bad.yaml'}:9: unknown key 'mitigations[0].retries'" in result.stdout
    (tmp_path / "bad.yaml").write_text((tmp_path / "bad.yaml").read_text().replace("    retries: 3\n", ""))
    result = run_pb(["playbooks", "validate", str(tmp_path), "-o", "json"])
    payload = json.loads(result.stdout)
    assert result.code == 3 and not payload["valid"]
    [err] = payload["errors"]
    assert err.startswith(f"{tmp_path / 'bad.yaml'}:6:") and "unknown signal or name 'eror_ratio'" in err


def test_user_playbooks_dir_overrides_by_name(tmp_path):
    user = tmp_path / "playbooks"
    user.mkdir()
    (user / "none.yaml").write_text(
        "title: Ours\nmitigations:\n  - id: shrug\n    title: Nothing for {service}\n    seed: '001'\n"
        "    when: 'bottleneck == \"none\"'\n    commands:\n      - kubectl -n {namespace} get pods\n    risk: none\n")
    (tmp_path / "triage.yaml").write_text("playbooks_dir: playbooks\n")
    listed = run_pb(["playbooks", "list", "-o", "json", "--config", str(tmp_path / "triage.yaml")])
    books = {p["name"]: p for p in json.loads(listed.stdout)["playbooks"]}
    assert books["none"]["title"] == "Ours" and not books["none"]["bundled"]
    rec = write_record(tmp_path / "incident.json", rca=rca_doc("none", service="search"))
    result = run_pb(["mitigate", "--from", str(rec), "-o", "json"], env={"TRIAGE_PLAYBOOKS_DIR": str(user)})
    assert result.code == 0, result.stderr
    steps = by_id(json.loads(result.stdout), "mitigations")
    assert list(steps) == ["shrug"] and steps["shrug"]["title"] == "Nothing for search"
    # validate with no paths checks the user's directory and the built-ins, and the merge still covers all
    check = run_pb(["playbooks", "validate"], env={"TRIAGE_PLAYBOOKS_DIR": str(user)})
    assert check.code == 0 and f"ok {user / 'none.yaml'}" in check.stdout
    assert "warning: none: no fixes" in check.stdout
