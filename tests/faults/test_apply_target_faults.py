"""A record cannot choose what `--apply` changes (issue 13, item 6).

Records travel through tickets and CI artefacts, health documents through pipelines, user
playbooks through shared directories: any of them can be edited. An action may target only what
the current config names for a service (its namespace, deployment, container) or what the user
names on the command line (`--service`, `--namespace`, `--context`); anything else is refused with
one line and exit 3 before any request, the record untouched. The prompt and the record's action
entries say the full target: context, namespace, kind and name.

The cluster is the apply fake of testing/k8s/apply.py holding, besides shop/orders and
shop/reviews, the deployments an edited record would like to reach: kube-system/coredns,
kube-system/orders and shop/payments (in no config).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from testing.k8s.apply import TOKEN, deployment
from tests.faults.conftest import check
from tests.faults.test_apply_faults import (
    PROMPT,
    FaultKube,
    PtyRun,
    assert_record,
    env_for,
    run_piped,
    snapshot,
)
from tests.test_cli_playbooks import write_record
from tests.test_playbooks import finding, health_doc, rca_doc

CONFIG = "services:\n  orders:\n    namespace: shop\n  reviews:\n    namespace: shop\n  web:\n    namespace: shop\n"
SCALE_PATH = "/apis/apps/v1/namespaces/shop/deployments/orders/scale"


@pytest.fixture
def cluster(tmp_path):
    with FaultKube([deployment("orders", "shop", 2), deployment("reviews", "shop", 2),
                    deployment("payments", "shop", 2), deployment("coredns", "kube-system", 2),
                    deployment("orders", "kube-system", 2)]) as fake:
        fake.kubeconfig_path = fake.kubeconfig(tmp_path / "kubeconfig")
        yield fake


def _record(tmp_path: Path, *, service: str = "orders", namespace: str = "shop", services: Any = None,
            health: dict | None = None, bottleneck: str = "cpu_saturation") -> Path:
    rec_dir = tmp_path / "inc"
    rec_dir.mkdir(exist_ok=True)
    rec = write_record(rec_dir / "incident.json", rca=rca_doc(bottleneck, service=service, namespace=namespace),
                       health=health)
    if services is not None:
        data = json.loads(rec.read_text())
        data["services"] = services
        rec.write_text(json.dumps(data, indent=1))
    return rec


PINNED_BOOK = """title: pinned
mitigations:
  - id: scale-elsewhere
    title: Scale it
    seed: '001'
    when: 'bottleneck == "cpu_saturation"'
    commands:
      - kubectl scale
    risk: low
    safe: true
    action:
      kind: scale_deployment
      replicas: '3'
      namespace: kube-system
      name: coredns
"""

# case → (record kwargs, config text or None, extra command-line flags, user playbook text or None)
REDIRECTS: dict[str, tuple[dict, str | None, list[str], str | None]] = {
    "record edited to kube-system/coredns (config names orders, reviews)": (
        {"service": "coredns", "namespace": "kube-system",
         "services": [{"name": "coredns", "namespace": "kube-system"}]}, CONFIG, [], None),
    "record edited to kube-system/coredns, no config at all": (
        {"service": "coredns", "namespace": "kube-system",
         "services": [{"name": "coredns", "namespace": "kube-system"}]}, None, [], None),
    "record's namespace edited (orders in kube-system)": (
        {"namespace": "kube-system", "services": [{"name": "orders", "namespace": "kube-system"}]}, CONFIG, [], None),
    "record's service entry names another deployment (shop/payments)": (
        {"services": [{"name": "orders", "namespace": "shop", "deployment": "payments"}]}, CONFIG, [], None),
    "record's service entry names another deployment, no config": (
        {"services": [{"name": "orders", "namespace": "shop", "deployment": "payments"}]}, None, [], None),
    "no config: the record alone names shop/orders": ({}, None, [], None),
    "--namespace shop alone does not name the deployment": ({}, None, ["--namespace", "shop"], None),
    "--service orders, but the record's namespace is not the one named": ({}, None, ["--service", "orders"], None),
    "--service orders --namespace prod, record says shop": (
        {}, None, ["--service", "orders", "--namespace", "prod"], None),
    "user playbook pins kube-system/coredns": ({}, CONFIG, [], PINNED_BOOK),
}


@pytest.mark.parametrize("case", list(REDIRECTS))
def test_a_record_cannot_redirect_apply(cluster, tmp_path, case):
    rec_kwargs, config, flags, book = REDIRECTS[case]
    rec = _record(tmp_path, **rec_kwargs)
    env = env_for(cluster, tmp_path)
    if config is not None:
        (tmp_path / "triage.yaml").write_text(config)
    if book is not None:
        books = tmp_path / "books"
        books.mkdir()
        (books / "cpu_saturation.yaml").write_text(book)
        env["TRIAGE_PLAYBOOKS_DIR"] = str(books)
    before = snapshot(rec.parent)
    result = run_piped(["mitigate", "--from", str(rec), *flags, "--apply", "--yes", "-o", "json"], env, tmp_path)
    check(result, {3}, secrets=[TOKEN])
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert "refusing to --apply" in line and "deployment" in line, line
    assert cluster.requests == [], f"asked the cluster before refusing: {cluster.requests}"
    assert_record(rec, before)


def test_a_health_finding_cannot_name_any_docker_container(tmp_path):
    """A record's container finding names a container of no configured service: never restarted."""
    (tmp_path / "triage.yaml").write_text(CONFIG)
    rec = _record(tmp_path, bottleneck="none",
                  health=health_doc(finding("Unhealthy", kind="container", name="vault-1")))
    before = snapshot(rec.parent)
    result = run_piped(["mitigate", "--from", str(rec), "--apply", "--yes", "-o", "json"],
                       {"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock", "HOME": str(tmp_path)}, tmp_path)
    check(result, {3})
    assert "Docker at" not in result.stderr + result.stdout, "tried to restart a container no config names"
    [line] = result.stderr.strip().splitlines()
    assert "refusing to --apply" in line and "vault-1" in line, line
    assert_record(rec, before)


def test_a_health_document_cannot_name_any_docker_container(tmp_path):
    (tmp_path / "triage.yaml").write_text(CONFIG)
    health = tmp_path / "health.json"
    health.write_text(json.dumps(health_doc(finding("Unhealthy", kind="container", name="vault-1"))))
    result = run_piped(["mitigate", "--health-from", str(health), "--apply", "--yes", "-o", "json"],
                       {"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock", "HOME": str(tmp_path)}, tmp_path)
    check(result, {3})
    assert "Docker at" not in result.stderr + result.stdout
    assert "refusing to --apply" in result.stderr and "vault-1" in result.stderr


def test_a_container_of_a_configured_service_is_acted_on(tmp_path):
    (tmp_path / "triage.yaml").write_text(CONFIG)
    health = tmp_path / "health.json"
    health.write_text(json.dumps(health_doc(finding("Unhealthy", kind="container", name="shop-web-1"))))
    sock = f"unix://{tmp_path}/no-docker.sock"
    result = run_piped(["mitigate", "--health-from", str(health), "--apply", "--yes", "-o", "json"],
                       {"DOCKER_HOST": sock, "HOME": str(tmp_path)}, tmp_path)
    check(result, {2})
    [action] = json.loads(result.stdout)["actions"]
    assert action["result"].startswith("failed: Docker at unix://")  # allowed, attempted; no engine there
    assert action["kind"] == "container" and action["name"] == "shop-web-1" and action["context"] == sock


# ---- allowed targets: the action goes through, and says its full target -------------------------


def _full_target(action: dict, context: str, namespace: str, name: str) -> None:
    assert (action["context"], action["namespace"], action["kind"], action["name"]) == (
        context, namespace, "deployment", name), action


@pytest.mark.parametrize("how", ["the config names orders in shop", "--service orders --namespace shop"])
def test_allowed_target_is_applied_with_its_full_target(cluster, tmp_path, how):
    rec = _record(tmp_path)
    flags: list[str] = []
    if how.startswith("the config"):
        (tmp_path / "triage.yaml").write_text(CONFIG)
    else:
        flags = ["--service", "orders", "--namespace", "shop"]
    before = snapshot(rec.parent)
    result = run_piped(["mitigate", "--from", str(rec), *flags, "--apply", "--yes", "-o", "json"],
                       env_for(cluster, tmp_path), tmp_path)
    check(result, {2}, secrets=[TOKEN])
    [patch] = cluster.patches()
    assert patch["path"] == SCALE_PATH
    [added] = assert_record(rec, before, ("ok",))
    _full_target(added, "fake", "shop", "orders")
    assert json.loads(result.stdout)["actions"] == [added]
    assert "of deployment shop/orders in context fake" in result.stderr, result.stderr


def test_context_named_on_the_command_line_is_used_and_recorded(cluster, tmp_path):
    """`--context other`: the action goes to that context's API server, and the record says which."""
    other = FaultKube([deployment("orders", "shop", 2)])
    with other:
        cfg = yaml.safe_load(cluster.kubeconfig_path.read_text())
        cfg["clusters"].append({"name": "other", "cluster": {"server": other.url}})
        cfg["users"].append({"name": "other", "user": {"token": TOKEN}})
        cfg["contexts"].append({"name": "other", "context": {"cluster": "other", "user": "other"}})
        cluster.kubeconfig_path.write_text(yaml.safe_dump(cfg))
        (tmp_path / "triage.yaml").write_text(CONFIG)
        rec = _record(tmp_path)
        before = snapshot(rec.parent)
        result = run_piped(["mitigate", "--from", str(rec), "--context", "other", "--apply", "--yes", "-o", "json"],
                           env_for(cluster, tmp_path), tmp_path)
        check(result, {2}, secrets=[TOKEN])
        assert cluster.requests == [] and len(other.patches()) == 1
        [added] = assert_record(rec, before, ("ok",))
        _full_target(added, "other", "shop", "orders")


def test_the_prompt_shows_the_full_target(cluster, tmp_path):
    (tmp_path / "triage.yaml").write_text(CONFIG)
    rec = _record(tmp_path)
    run = PtyRun(["mitigate", "--from", str(rec), "--apply", "-o", "json"], env_for(cluster, tmp_path), tmp_path)
    run.wait_for(PROMPT)
    run.type(b"n\n")
    result = run.finish()
    for f in (run.out, run.err):
        f.unlink()
    check(result, {2}, secrets=[TOKEN])
    assert ("apply step cpu_saturation/scale-out: scale to 3 replicas of deployment shop/orders in context fake?"
            in result.stderr), result.stderr
    assert cluster.patches() == []


# ---- the documents a plan is made from: read bounded, one line when unusable ----------------------

@pytest.mark.parametrize("case", ["nested 100,000 deep", "/dev/zero", "NaN in a finding"])
@pytest.mark.parametrize("flag", ["--health-from", "--from"])
def test_unusable_document_is_one_line(tmp_path, case, flag):
    if case == "/dev/zero":
        path = Path("/dev/zero")
    else:
        path = tmp_path / "doc.json"
        if case.startswith("nested"):
            path.write_text("[" * 100_000 + "]" * 100_000)
        else:
            doc = health_doc(finding("Unhealthy", kind="container", name="shop-web-1"))
            text = json.dumps(doc).replace('"detail": "Unhealthy seen"', '"detail": NaN')
            if flag == "--from":
                rec = json.loads(_record(tmp_path).read_text())
                text = json.dumps(rec)[:-1] + ', "extra": NaN}'
            path.write_text(text)
    from tests.faults.test_exec_plugin_faults import run_process  # a process: a FIFO read would block a thread

    result = run_process(["mitigate", flag, str(path), "--apply", "--yes", "-o", "json"],
                         {"HOME": str(tmp_path), "DOCKER_HOST": f"unix://{tmp_path}/no.sock"}, tmp_path, limit=30)
    check(result, {3})
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert str(path) in line, line
