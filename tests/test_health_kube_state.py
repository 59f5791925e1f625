"""`health` when the Kubernetes API cannot be asked (issue 18 item 5): with a Prometheus configured,
the pods are read from kube-state-metrics instead — a crash loop and an image that cannot be
pulled are found — and the report says it fell back; without one it is as before."""

from __future__ import annotations

import json
import time

import pytest

from testing.backends.process import free_port
from testing.cli import run_cli
from testing.k8s.objects import kubeconfig
from testing.scenarios.generator import PodState, Restart, ServiceSpec, generate
from tests.conftest import need
from triage.health.kube_state import findings_from
from triage.models import Series, Status

pytestmark = pytest.mark.backend
K8S = frozenset({"http", "cadvisor", "ksm"})


@pytest.fixture(scope="module")
def now_prometheus(tmp_path_factory):
    """Two services whose pods' states end now: Prometheus answers an instant query at the present."""
    need("prometheus")
    need("promtool")
    from testing.backends import prometheus_from_openmetrics

    end = float(int(time.time()) // 30 * 30)
    start = end - 1800
    specs = [
        ServiceSpec("ledger", namespace="shop", pods=2, families=K8S,
                    pod_states=(PodState(end - 300, None, pod=0, waiting="CrashLoopBackOff"),),
                    restarts=(Restart(end - 600, 0, "Error"), Restart(end - 320, 0, "Error"))),
        ServiceSpec("catalog-api", namespace="shop", pods=2, families=K8S,
                    pod_states=(PodState(end - 400, None, pod=2, waiting="ImagePullBackOff", phase="Pending"),)),
        ServiceSpec("ratings", namespace="shop", pods=2, families=K8S,
                    pod_states=(PodState(start, start + 60, pod=1, phase="Pending"),)),
    ]
    text = generate(specs, start, end, 30).openmetrics()
    with prometheus_from_openmetrics(text, tmp_path_factory.mktemp("ksm-now")) as backend:
        yield backend


@pytest.fixture
def dead_cluster(tmp_path):
    path = tmp_path / "kubeconfig"
    path.write_text(kubeconfig(f"http://127.0.0.1:{free_port()}", token="t", namespace="shop"))
    return path


def _health(dead_cluster, *args: str):
    result = run_cli(["health", "--no-docker", "-o", "json", *args], env={"KUBECONFIG": str(dead_cluster)})
    return result, json.loads(result.stdout)


def test_pods_come_from_kube_state_metrics_when_the_api_is_down(now_prometheus, dead_cluster):
    result, payload = _health(dead_cluster, "-n", "shop", "--prometheus-url", now_prometheus.url)
    found = {(f["name"].split("-")[0], f["reason"]) for f in payload["findings"]}
    assert ("ledger", "CrashLoopBackOff") in found, payload
    assert ("catalog", "ImagePullBackOff") in found and ("catalog", "Pending") in found, payload
    assert all("kube-state-metrics" in f["detail"] for f in payload["findings"])
    (skip,) = [s for s in payload["skipped"] if s["source"] == "kubernetes"]
    assert "connection refused" in skip["reason"] and "read from kube-state-metrics" in skip["reason"]
    assert result.code == 2


def test_one_service_is_scoped_by_its_container(now_prometheus, dead_cluster):
    result, payload = _health(dead_cluster, "--service", "ratings", "-n", "shop",
                              "--prometheus-url", now_prometheus.url)
    names = {f["name"].split("-")[0] for f in payload["findings"]}
    assert names == {"ratings"}, payload
    assert {f["status"] for f in payload["findings"]} == {"ok"}
    assert result.code == 0


def test_without_a_prometheus_the_api_failure_stands(dead_cluster):
    result, payload = _health(dead_cluster, "-n", "shop")
    assert result.code == 3 and not payload["findings"]
    (skip,) = [s for s in payload["skipped"] if s["source"] == "kubernetes"]
    assert "kube-state-metrics" not in skip["reason"]


def test_findings_from_answers():
    got = {
        "phase": [Series({"namespace": "a", "pod": "p1", "phase": "Running"}, ((0.0, 1.0),)),
                  Series({"namespace": "a", "pod": "p2", "phase": "Failed"}, ((0.0, 1.0),))],
        "waiting": [Series({"namespace": "a", "pod": "p1", "container": "c", "reason": "ErrImagePull"},
                           ((0.0, 1.0),))],
        "oom": [Series({"namespace": "a", "pod": "p3", "container": "c", "reason": "OOMKilled"}, ((0.0, 1.0),))],
        "restarts": [Series({"namespace": "a", "pod": "p3", "container": "c"}, ((0.0, 1.2),)),
                     Series({"namespace": "a", "pod": "p4", "container": "c"}, ((0.0, 0.1),))],
    }
    out = {(f.name, f.reason, f.status) for f in findings_from(got)}
    assert out == {("p1", "ImagePullBackOff", Status.CRITICAL), ("p2", "Exited", Status.CRITICAL),
                   ("p3", "OOMKilled", Status.CRITICAL)}
