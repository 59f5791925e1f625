"""The real `kubectl` reads the API-server fixture: proof that the fake serves what real
clients accept (discovery, lists, pagination, label selectors, server-side tables)."""

from __future__ import annotations

import json
import subprocess

import pytest

from testing.k8s import FakeKubeAPI, load_logs, load_manifests
from tests.conftest import need

pytestmark = pytest.mark.backend


@pytest.fixture(scope="module")
def api():
    with FakeKubeAPI(load_manifests(), logs=load_logs()) as server:
        yield server


def kubectl(api: FakeKubeAPI, *args: str) -> str:
    binary = need("kubectl")
    proc = subprocess.run([binary, "--server", api.url, "--request-timeout", "10s", *args],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_get_pods_all_namespaces_json(api):
    out = json.loads(kubectl(api, "get", "pods", "-A", "-o", "json"))
    assert out["kind"] == "List"
    pods = {(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in out["items"]}
    assert len(pods) == 14
    assert ("kube-system", "coredns-5d78c9869d-hx7kq") in pods
    crash = pods[("shop", "checkout-7d9f8b6c5-q5wl9")]
    assert crash["kind"] == "Pod"
    assert crash["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert pods[("shop", "report-6b5d8c7f9-m8n2p")]["status"]["reason"] == "Evicted"
    assert "/api/v1/pods" in api.paths()


def test_get_hpa_table(api):
    out = kubectl(api, "get", "hpa", "-n", "shop")
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]
    checkout = next(line.split() for line in lines if line.startswith("checkout"))
    assert checkout[:7] == ["checkout", "Deployment/checkout", "cpu:", "55%/70%", "2", "3", "3"]


def test_get_hpa_yaml_keeps_conditions(api):
    out = json.loads(kubectl(api, "get", "hpa", "checkout", "-n", "shop", "-o", "json"))
    conditions = {c["type"]: c for c in out["status"]["conditions"]}
    assert conditions["ScalingActive"]["status"] == "False"
    assert conditions["ScalingActive"]["reason"] == "FailedGetResourceMetric"


def test_pagination_and_label_selector(api):
    names = kubectl(api, "get", "pods", "-A", "--chunk-size", "3", "-o", "name").split()
    assert len(names) == 14 and len(set(names)) == 14
    chosen = kubectl(api, "get", "pods", "-n", "shop", "-l", "app.kubernetes.io/name in (checkout,payment)",
                     "-o", "name").split()
    assert sorted(chosen) == ["pod/checkout-7d9f8b6c5-2xkqp", "pod/checkout-7d9f8b6c5-8fzt4",
                              "pod/checkout-7d9f8b6c5-q5wl9", "pod/payment-6c8d7f9b4-jx2mt",
                              "pod/payment-6c8d7f9b4-wq7nd"]


def test_get_pods_table_and_logs(api):
    out = kubectl(api, "get", "pods", "-n", "shop")
    row = next(line.split() for line in out.splitlines() if line.startswith("cart-5b7c9d8f6-k2m4n"))
    assert row[1:4] == ["0/1", "ImagePullBackOff", "0"]
    logs = kubectl(api, "logs", "-n", "shop", "checkout-7d9f8b6c5-q5wl9", "--previous", "--tail", "2")
    assert logs.splitlines()[-1] == "INFO checkout.health GET /ready 200"
