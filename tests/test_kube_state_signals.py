"""kube-state-metrics' pod states as signals (issue 18 item 5): a crash loop and an image that
cannot be pulled are seen by `detect` and `rca` from metrics alone, in a real Prometheus; a
healthy service shows no pod-state rows at all."""

from __future__ import annotations

import json

import pytest

from testing.cli import run_cli
from testing.scenarios.kube_states import kube_state_scenarios
from testing.scenarios.rca_library import AT, serve_library
from tests.conftest import need

pytestmark = pytest.mark.backend
SCENARIOS = {s.name: s for s in kube_state_scenarios()}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    need("prometheus")
    need("promtool")
    with serve_library(tmp_path_factory.mktemp("kube-states"), list(SCENARIOS.values())) as srv:
        yield srv


def _run(server, command: str, service: str) -> tuple[int, dict]:
    result = run_cli([command, "--prometheus-url", server.url, "--config", str(server.config),
                      "--service", service, "--at", AT, "--output", "json"])
    assert result.stdout.strip(), result.stderr
    return result.code, json.loads(result.stdout)


def _signal(detection: dict, name: str) -> dict | None:
    return detection["services"][0]["signals"].get(name)


def test_crash_loop_is_named_with_its_waiting_reason(server):
    _, rca = _run(server, "rca", "ledger")
    assert rca["bottleneck"] == "application_errors", rca
    assert rca["trigger"] == "deploy"
    said = " ".join(e["summary"] for c in rca["candidates"] for e in c["evidence"])
    assert "CrashLoopBackOff" in said
    code, det = _run(server, "detect", "ledger")
    crash = _signal(det, "crash_looping")
    assert crash is not None and crash["window"] >= 1 and crash["status"] != "ok", crash
    assert code in (1, 2)


def test_an_image_that_cannot_be_pulled_is_an_incident_before_users_see_it(server):
    code, rca = _run(server, "rca", "catalog-api")
    assert rca["bottleneck"] == "application_errors", rca
    said = " ".join(e["summary"] for c in rca["candidates"] for e in c["evidence"])
    assert "cannot pull its image" in said and "rollout" in said
    assert code in (1, 2)
    assert any("not running" in n for n in rca["notes"]), rca["notes"]
    code, det = _run(server, "detect", "catalog-api")
    pull = _signal(det, "image_pull_failing")
    assert pull is not None and pull["window"] == 1 and pull["status"] == "warning", pull
    pending = _signal(det, "pods_not_running")
    assert pending is not None and pending["window"] == 1, pending
    assert code == 1


def test_a_healthy_service_shows_no_pod_state_rows(server):
    code, det = _run(server, "detect", "ratings")
    names = set(det["services"][0]["signals"])
    assert not names & {"crash_looping", "image_pull_failing", "pods_not_running"}, names
    assert not any(n in det["services"][0].get("missing_signals", {}) for n in ("crash_looping",))
    assert code == 0
    _, rca = _run(server, "rca", "ratings")
    assert rca["bottleneck"] == "none", rca
