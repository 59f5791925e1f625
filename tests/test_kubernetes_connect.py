"""`triage.sources.kubernetes.connect`: the one kubeconfig loader of the reads (`health`) and the
actions (`--apply`). Only local files are read here; no request reaches a cluster."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from triage.errors import SourceError, UsageError
from triage.sources.actions import ActionRunner
from triage.sources.kubernetes import KubeconfigError, KubernetesSource, connect

TOKEN = "connect-test-token-7c1e"


def _kubeconfig(path: Path, *, current: str | None = "prod") -> Path:
    doc = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:9"}}],
        "users": [{"name": "u", "user": {"token": TOKEN}}],
        "contexts": [{"name": "prod", "context": {"cluster": "c", "user": "u", "namespace": "shop"}},
                     {"name": "staging", "context": {"cluster": "c", "user": "u"}}],
    }
    if current is not None:
        doc["current-context"] = current
    path.write_text(yaml.safe_dump(doc))
    return path


def test_the_context_names_the_namespace_and_the_api_server(tmp_path):
    conn = connect(context=None, kubeconfig=str(_kubeconfig(tmp_path / "kc")), env={}, timeout=2)
    assert (conn.namespace, conn.where) == ("shop", "the Kubernetes API at http://127.0.0.1:9")
    staging = connect(context="staging", kubeconfig=str(_kubeconfig(tmp_path / "kc")), env={}, timeout=2)
    assert staging.namespace == "default"


def test_an_unknown_context_is_a_usage_error_for_the_reads(tmp_path):
    path = _kubeconfig(tmp_path / "kc")
    with pytest.raises(UsageError, match=r"--context nope: no such context in .* \(contexts: prod, staging\)"):
        KubernetesSource(context="nope", kubeconfig=str(path), environment={}).default_namespace()


def test_an_unknown_context_is_said_the_same_way_in_an_actions_record(tmp_path):
    """The actions used to load the kubeconfig on their own, and said the client's words instead."""
    path = _kubeconfig(tmp_path / "kc")
    runner = ActionRunner(context="nope", kubeconfig=str(path), environment={}, timeout=2)
    record = runner.perform({"kind": "scale_deployment", "namespace": "shop", "name": "orders", "replicas": 3})
    assert record["result"] == f"failed: --context nope: no such context in {path} (contexts: prod, staging)"
    assert record["context"] == "nope"


def test_a_named_context_needs_no_current_context(tmp_path):
    """kubectl --context works on a kubeconfig without current-context; so do the reads and the actions."""
    path = _kubeconfig(tmp_path / "kc", current=None)
    assert connect(context="prod", kubeconfig=str(path), env={}, timeout=2).namespace == "shop"
    with pytest.raises(KubeconfigError, match="current-context"):
        connect(context=None, kubeconfig=str(path), env={}, timeout=2)


def test_no_kubeconfig_outside_a_pod(tmp_path):
    env = {"HOME": str(tmp_path)}
    with pytest.raises(SourceError, match=r"no kubeconfig found \(~/.kube/config or \$KUBECONFIG\) and not running"):
        KubernetesSource(environment=env).default_namespace()
    record = ActionRunner(environment=env).perform({"kind": "rollout_restart", "namespace": "shop", "name": "web"})
    assert record["result"] == ("failed: no kubeconfig found (~/.kube/config or $KUBECONFIG) and not running "
                                "in a pod")
