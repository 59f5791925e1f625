"""`triage mitigate --apply`: only safe steps, one confirmation each (or --yes), every action
recorded — against a local Kubernetes API server (the requests that arrive are asserted) and a
real Docker Engine (the container really restarts)."""

from __future__ import annotations

import json

import pytest

from testing.k8s.apply import FakeKubeApply, deployment
from tests.test_cli_playbooks import run_pb, write_record
from tests.test_playbooks import finding, health_doc, rca_doc


@pytest.fixture(autouse=True)
def config(tmp_path, monkeypatch):
    """What `--apply` may change is what the config names (issue 13): ./triage.yaml names the services."""
    (tmp_path / "triage.yaml").write_text("services:\n  orders: {namespace: shop}\n  reviews: {namespace: shop}\n"
                                          "  web: {namespace: shop}\n")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def cluster(tmp_path, monkeypatch):
    with FakeKubeApply([deployment("orders", "shop", 2), deployment("reviews", "shop", 2)]) as fake:
        monkeypatch.setenv("KUBECONFIG", str(fake.kubeconfig(tmp_path / "kubeconfig")))
        yield fake


def test_apply_scales_a_deployment_through_the_api_and_records_it(cluster, tmp_path):
    rec = write_record(tmp_path / "incident.json", rca=rca_doc("cpu_saturation", service="orders"))
    result = run_pb(["mitigate", "--from", str(rec), "--apply", "--yes", "-o", "json"])
    assert result.code == 2, result.stderr
    [write] = cluster.writes()
    assert write == {"method": "PATCH", "path": "/apis/apps/v1/namespaces/shop/deployments/orders/scale",
                     "content_type": "application/merge-patch+json", "body": {"spec": {"replicas": 3}}}
    assert cluster.objects[("shop", "orders")]["spec"]["replicas"] == 3
    [action] = json.loads(result.stdout)["actions"]
    assert action["result"] == "ok" and action["before"] == {"replicas": 2} and action["after"] == {"replicas": 3}
    assert action["what"] == "scale to 3 replicas" and action["target"] == "deployment shop/orders"
    assert action["step"] == "cpu_saturation/scale-out" and action["time"].endswith("Z")
    record = json.loads(rec.read_text())
    assert record["actions"] == [action]
    assert record["notes"] == "kept as is" and record["rca"]["bottleneck"] == "cpu_saturation"
    assert "recorded 1 action(s)" in result.stderr


def test_apply_rollout_restart_sends_what_kubectl_sends(cluster, tmp_path):
    rec = write_record(tmp_path / "incident.json", rca=rca_doc("memory_pressure", service="reviews"))
    result = run_pb(["mitigate", "--from", str(rec), "--apply", "--yes"])
    assert result.code == 2, result.stderr
    [write] = cluster.writes()
    assert write["method"] == "PATCH" and write["path"] == "/apis/apps/v1/namespaces/shop/deployments/reviews"
    assert write["content_type"] == "application/strategic-merge-patch+json"
    stamp = write["body"]["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
    assert stamp.endswith("Z") and list(write["body"]) == ["spec"]
    assert "rollout restart of deployment shop/reviews: ok" in result.stderr
    assert "ACTIONS" in result.stdout


def test_apply_asks_before_each_step_and_records_a_refusal(cluster, tmp_path):
    rec = write_record(tmp_path / "incident.json", rca=rca_doc("cpu_saturation", service="orders"))
    declined = run_pb(["mitigate", "--from", str(rec), "--apply", "-o", "json"], stdin="n\n", tty=True)
    assert declined.code == 2, declined.stderr
    assert cluster.writes() == []
    assert ("apply step cpu_saturation/scale-out: scale to 3 replicas of deployment shop/orders in context fake?"
            in declined.stderr)
    [action] = json.loads(declined.stdout)["actions"]
    assert action["result"] == "declined"
    accepted = run_pb(["mitigate", "--from", str(rec), "--apply", "-o", "json"], stdin="y\n", tty=True)
    assert accepted.code == 2, accepted.stderr
    assert len(cluster.writes()) == 1
    assert [a["result"] for a in json.loads(rec.read_text())["actions"]] == ["declined", "ok"]


def test_apply_only_runs_safe_steps(cluster, tmp_path):
    # lock contention has no safe step: its steps end sessions and throttle writes, which a human decides
    rec = write_record(tmp_path / "incident.json", rca=rca_doc("lock_contention", service="orders"))
    result = run_pb(["mitigate", "--from", str(rec), "--apply", "--yes", "-o", "json"])
    assert result.code == 2
    assert json.loads(result.stdout)["actions"] == [] and cluster.writes() == []
    assert "no step marked safe applies" in result.stderr


def test_a_failed_action_is_recorded_not_raised(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing-kubeconfig"))
    rec = write_record(tmp_path / "incident.json", rca=rca_doc("memory_pressure", service="reviews"))
    result = run_pb(["mitigate", "--from", str(rec), "--apply", "--yes", "-o", "json"])
    assert result.code == 2, result.stderr
    [action] = json.loads(result.stdout)["actions"]
    assert action["result"].startswith("failed: kubeconfig")
    assert json.loads(rec.read_text())["actions"][0]["result"] == action["result"]


# ---- a real Docker Engine ----------------------------------------------------------------


@pytest.fixture(scope="module")
def engine():
    from testing.docker_engine import EngineError, start_engine

    try:
        eng = start_engine()
    except EngineError as exc:
        pytest.skip(f"cannot start a private dockerd for the restart test: {str(exc).splitlines()[0]}")
    try:
        eng.import_busybox()
        yield eng
    finally:
        eng.stop()


def test_apply_restarts_an_unhealthy_docker_container(engine, tmp_path, monkeypatch):
    from testing.docker_engine import healthcheck

    # sh as PID 1 exits on SIGTERM, so the restart takes a moment, not the 10 s stop timeout
    engine.run("shop-web-1", "trap 'exit 0' TERM; while true; do sleep 0.2; done", healthcheck=healthcheck("exit 1"))
    engine.wait_for(lambda: (engine.state("shop-web-1")["State"].get("Health") or {}).get("Status") == "unhealthy",
                    "shop-web-1 to be unhealthy")
    started = engine.state("shop-web-1")["State"]["StartedAt"]
    health = tmp_path / "health.json"
    health.write_text(json.dumps(health_doc(finding("Unhealthy", kind="container", name="shop-web-1"))))
    monkeypatch.setenv("DOCKER_HOST", engine.host)
    result = run_pb(["mitigate", "--health-from", str(health), "--apply", "--yes", "-o", "json"])
    assert result.code == 2, result.stderr
    [action] = json.loads(result.stdout)["actions"]
    assert action["step"] == "probes/restart-unhealthy-container"
    assert action["result"] == "ok", action
    state = engine.state("shop-web-1")["State"]
    assert state["Status"] == "running" and state["StartedAt"] > started
    assert action["before"]["started_at"] == started and action["after"]["started_at"] == state["StartedAt"]


def test_apply_refuses_before_acting_when_the_record_cannot_take_actions(cluster, tmp_path):
    rec = tmp_path / "incident.json"
    # a record the playbooks can read (rca + health) but triage.incident cannot save (no queries, window...)
    rec.write_text(json.dumps({"schema": "triage.incident/v1", "rca": rca_doc("cpu_saturation"), "health": None}))
    result = run_pb(["mitigate", "--from", str(rec), "--apply", "--yes"])
    assert result.code == 3
    assert "incident record is missing" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert cluster.writes() == []
