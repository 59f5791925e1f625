"""`triage health` against the local Kubernetes API-server fixture (testing/k8s): the real
`kubernetes` client, a kubeconfig written here, manifests of the `shop` incident."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from testing.cli import run_cli
from testing.k8s import FakeKubeAPI, kubeconfig, load_logs, load_manifests

TOKEN = "k8s-token-4f9c2a7e0b1d"
ALL = {("*", "*", "*")}

SHOP_NOT_OK = {
    ("deployment", "cart", "deployment.rollout", "critical", "RolloutStuck"),
    ("deployment", "notifier", "deployment.available", "critical", "Unavailable"),
    ("deployment", "report", "deployment.available", "critical", "Unavailable"),
    ("deployment", "worker", "deployment.available", "critical", "Unavailable"),
    ("deployment", "checkout", "deployment.available", "warning", "Unavailable"),
    ("hpa", "checkout", "hpa.max", "critical", "HPAAtMax"),
    ("hpa", "checkout", "hpa.metrics", "warning", "HPAMetricsUnavailable"),
    ("pod", "cart-5b7c9d8f6-k2m4n", "pod.image", "critical", "ImagePullBackOff"),
    ("pod", "checkout-7d9f8b6c5-8fzt4", "pod.probe", "critical", "Unhealthy"),
    ("pod", "checkout-7d9f8b6c5-8fzt4", "pod.logs", "warning", "ErrorLogs"),
    ("pod", "checkout-7d9f8b6c5-q5wl9", "pod.crashloop", "critical", "CrashLoopBackOff"),
    ("pod", "checkout-7d9f8b6c5-q5wl9", "pod.logs", "warning", "ErrorLogs"),
    ("pod", "notifier-84f6b9d7c-t7v2r", "pod.config", "critical", "NotReady"),
    ("pod", "payment-6c8d7f9b4-jx2mt", "pod.oom", "critical", "OOMKilled"),
    ("pod", "payment-6c8d7f9b4-jx2mt", "pod.logs", "warning", "ErrorLogs"),
    ("pod", "report-6b5d8c7f9-w4x6z", "pod.ready", "critical", "NotReady"),
    ("pod", "worker-5d4c3b2a1-zz9xy", "pod.pending", "critical", "Pending"),
    ("pod", "report-6b5d8c7f9-m8n2p", "pod.evicted", "warning", "Evicted"),
    ("pod", "search-9c8b7a6d5-p3q4r", "pod.restarts", "warning", "Restarting"),
    ("pod", "search-9c8b7a6d5-p3q4r", "pod.logs", "warning", "ErrorLogs"),
    ("node", "node-c", "node.ready", "critical", "NodeNotReady"),
    ("node", "node-b", "node.pressure", "warning", "NodePressure"),
}
SHOP_OK = {("deployment", "payment"), ("deployment", "search"), ("hpa", "payment"), ("pod", "cart-7f6d5c4b3-abcde"),
           ("pod", "cart-7f6d5c4b3-fghij"), ("pod", "checkout-7d9f8b6c5-2xkqp"), ("pod", "payment-6c8d7f9b4-wq7nd"),
           ("node", "node-a")}


@pytest.fixture(scope="module")
def shop_api():
    with FakeKubeAPI(load_manifests(), logs=load_logs(), tokens={TOKEN: ALL}) as api:
        yield api


@pytest.fixture
def kubecfg(tmp_path, shop_api) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(kubeconfig(shop_api.url, token=TOKEN, namespace="shop"))
    return path


def health(kubecfg: Path | None, *args: str, env: dict | None = None):
    full_env = {"KUBECONFIG": str(kubecfg)} if kubecfg else {}
    full_env.update(env or {})
    result = run_cli(["health", "--no-docker", *args], env=full_env)
    payload = json.loads(result.stdout) if "-o" in args and "json" in args and result.stdout.strip() else None
    return result, payload


def rows(payload: dict) -> set[tuple]:
    return {(f["kind"], f["name"], f["check"], f["status"], f["reason"]) for f in payload["findings"]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_every_kubernetes_reason_in_the_shop_namespace(kubecfg):
    """Crash loop, OOM, image pull, config error, unschedulable, evicted, probe failures from
    Events, restarts, rollout stuck, HPA at max and blind, node NotReady and pressure, error logs."""
    result, payload = health(kubecfg, "-o", "json")
    assert result.code == 2, result.stderr
    assert payload["schema"] == "triage.health/v1" and payload["status"] == "critical"
    assert {r for r in rows(payload) if r[3] != "ok"} == SHOP_NOT_OK
    assert {(r[0], r[1]) for r in rows(payload) if r[3] == "ok"} == SHOP_OK
    assert payload["skipped"] == [{"source": "docker", "reason": "disabled by --no-docker"}]
    by = {(f["name"], f["check"]): f for f in payload["findings"]}
    pending = by[("worker-5d4c3b2a1-zz9xy", "pod.pending")]["detail"]
    assert "0/3 nodes are available" in pending and "Insufficient memory" in pending
    assert "statuscode: 503" in by[("checkout-7d9f8b6c5-8fzt4", "pod.probe")]["detail"]
    assert "×14" in by[("checkout-7d9f8b6c5-8fzt4", "pod.probe")]["detail"]
    assert "7 restarts" in by[("checkout-7d9f8b6c5-q5wl9", "pod.crashloop")]["detail"]
    assert "exit 137" in by[("payment-6c8d7f9b4-jx2mt", "pod.oom")]["detail"]
    assert 'secret "notifier-smtp" not found' in by[("notifier-84f6b9d7c-t7v2r", "pod.config")]["detail"]
    assert "ProgressDeadlineExceeded" in by[("cart", "deployment.rollout")]["detail"]
    assert "pods.metrics.k8s.io" in by[("checkout", "hpa.metrics")]["detail"]
    assert "3/3 replicas" in by[("checkout", "hpa.max")]["detail"]
    assert "cpu 55% (target 70%)" in by[("checkout", "hpa.max")]["detail"]
    assert "MemoryPressure" in by[("node-b", "node.pressure")]["detail"]
    # Error logs quote the crash (previous instance of the crash-looping container), cleaned.
    logs = by[("checkout-7d9f8b6c5-q5wl9", "pod.logs")]
    assert "previous instance" in logs["detail"]
    assert any("RuntimeError: database not reachable" in e for e in logs["evidence"])
    assert all("\x1b" not in e for f in payload["findings"] for e in f.get("evidence", []))
    assert "QueuePool limit" in by[("checkout-7d9f8b6c5-8fzt4", "pod.logs")]["detail"]
    assert "OutOfMemoryError" in " ".join(by[("payment-6c8d7f9b4-jx2mt", "pod.logs")]["evidence"])
    assert by[("search-9c8b7a6d5-p3q4r", "pod.logs")]["evidence"][0].startswith("panic: runtime error")
    assert TOKEN not in result.stdout + result.stderr


def test_service_scope_lists_each_kind_once_with_the_deployment_selector(kubecfg, shop_api, tmp_path):
    """--service: the deployment's matchLabels go to the server as labelSelector; one list per kind,
    never a GET per pod; logs only for the failing pods."""
    (tmp_path / "triage.yaml").write_text("services:\n  checkout: {namespace: shop}\n")
    shop_api.reset_requests()
    result, payload = health(kubecfg, "--service", "checkout", "--config", str(tmp_path / "triage.yaml"),
                             "-o", "json")
    assert result.code == 2, result.stderr
    names = {f["name"] for f in payload["findings"]}
    assert names == {"checkout", "checkout-7d9f8b6c5-2xkqp", "checkout-7d9f8b6c5-8fzt4", "checkout-7d9f8b6c5-q5wl9",
                     "node-a", "node-b"}
    reqs = [(p, q) for p, q, _ in shop_api.requests]
    lists = [p for p, _ in reqs if not p.endswith("/log")]
    assert sorted(lists) == sorted(["/apis/apps/v1/namespaces/shop/deployments", "/api/v1/namespaces/shop/pods",
                                    "/api/v1/namespaces/shop/events", "/api/v1/nodes",
                                    "/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers"])
    pods_query = next(q for p, q in reqs if p == "/api/v1/namespaces/shop/pods")
    assert pods_query["labelSelector"] == ["app.kubernetes.io/name=checkout"]
    events_query = next(q for p, q in reqs if p == "/api/v1/namespaces/shop/events")
    assert events_query["fieldSelector"] == ["type=Warning"]
    assert all(q.get("limit") == ["500"] for p, q in reqs if not p.endswith("/log"))
    logs = sorted((p.split("/")[-2], q.get("previous", ["false"])[0]) for p, q in reqs if p.endswith("/log"))
    assert logs == [("checkout-7d9f8b6c5-8fzt4", "false"), ("checkout-7d9f8b6c5-q5wl9", "true")]


def test_pagination_follows_continue_tokens(shop_api, kubecfg):
    """A page size of 2 walks every page with `continue`; nothing lost, nothing twice."""
    from triage.sources.kubernetes import KubernetesSource

    source = KubernetesSource(kubeconfig=str(kubecfg), page_size=2, timeout=5)
    shop_api.reset_requests()
    snap = source.snapshot(["shop"])
    source.close()
    pod_calls = [q for p, q, _ in shop_api.requests if p == "/api/v1/namespaces/shop/pods"]
    assert len(snap.pods) == 13 and len({p.name for p in snap.pods}) == 13
    assert len(pod_calls) == 7
    assert "continue" not in pod_calls[0] and all("continue" in q for q in pod_calls[1:])


def test_logs_are_bounded_in_number_and_concurrency(tmp_path):
    """40 crash-looping pods: logs of 20 of them, at most 8 requests in flight, lists still one per kind."""
    from testing.k8s.fleet import fleet

    objects, logs = fleet(200, crash_every=5)
    with FakeKubeAPI(objects, logs=logs, log_delay=0.05) as api:
        path = tmp_path / "kubeconfig"
        path.write_text(kubeconfig(api.url, namespace="bench"))
        result, payload = health(path, "-o", "json")
        paths = api.paths()
    assert result.code == 2
    assert sum(1 for f in payload["findings"] if f["reason"] == "CrashLoopBackOff") == 40
    assert sum(1 for f in payload["findings"] if f["reason"] == "ErrorLogs") == 20
    assert sum(1 for p in paths if p.endswith("/log")) == 20
    assert 1 < api.max_logs_in_flight <= 8
    assert sum(1 for p in paths if p == "/api/v1/namespaces/bench/pods") == 1


def test_all_namespaces_and_every_node(kubecfg, shop_api):
    shop_api.reset_requests()
    result, payload = health(kubecfg, "-A", "-o", "json")
    assert result.code == 2
    ok = {(f["kind"], f["namespace"], f["name"]) for f in payload["findings"] if f["status"] == "ok"}
    assert ("pod", "kube-system", "coredns-5d78c9869d-hx7kq") in ok
    assert ("deployment", "kube-system", "coredns") in ok
    assert "/api/v1/pods" in shop_api.paths() and "/apis/apps/v1/deployments" in shop_api.paths()


def test_window_decides_what_is_recent(kubecfg):
    """--window 1m: the restart 6 minutes ago and the OOM kill 4 minutes ago are history, not findings."""
    _, payload = health(kubecfg, "--window", "1m", "-o", "json")
    found = {(f["name"], f["reason"]) for f in payload["findings"]}
    assert ("search-9c8b7a6d5-p3q4r", "Restarting") not in found
    assert ("payment-6c8d7f9b4-jx2mt", "OOMKilled") not in found
    assert ("checkout-7d9f8b6c5-q5wl9", "CrashLoopBackOff") in found  # a state now, whatever the window


def test_context_flag_picks_the_cluster(tmp_path, shop_api):
    dead = f"http://127.0.0.1:{free_port()}"
    path = tmp_path / "kubeconfig"
    path.write_text(kubeconfig(dead, token=TOKEN, context="prod", namespace="shop",
                               extra_contexts={"staging": shop_api.url}))
    result, payload = health(path, "-o", "json")
    assert result.code == 3  # nothing could be checked
    assert payload["skipped"][1]["source"] == "kubernetes"
    assert "unreachable: connection refused" in payload["skipped"][1]["reason"]
    result, payload = health(path, "--context", "staging", "-n", "shop", "-o", "json")
    assert result.code == 2 and len(payload["findings"]) > 20
    result, _ = health(path, "--context", "nope")
    assert result.code == 3
    assert "--context nope: no such context" in result.stderr and "prod, staging" in result.stderr


def test_forbidden_names_the_missing_permission_and_the_rest_runs(tmp_path):
    rules = {("list", r, "shop") for r in ("pods", "events", "deployments", "horizontalpodautoscalers")}
    rules.add(("get", "pods/log", "shop"))
    with FakeKubeAPI(load_manifests(), logs=load_logs(), tokens={TOKEN: rules}) as api:
        path = tmp_path / "kubeconfig"
        path.write_text(kubeconfig(api.url, token=TOKEN, namespace="shop"))
        result, payload = health(path, "-o", "json")
        assert result.code == 2
        assert {"source": "kubernetes", "reason": "forbidden (403): missing permission to list nodes "
                "(cluster-scoped) for system:serviceaccount:ops:triage"} in payload["skipped"]
        assert not any(f["kind"] == "node" for f in payload["findings"])
        assert any(f["reason"] == "CrashLoopBackOff" for f in payload["findings"])
        result, payload = health(path, "-n", "payments", "-o", "json")
        reasons = [s["reason"] for s in payload["skipped"]]
        assert "forbidden (403): missing permission to list pods in namespace payments for " \
               "system:serviceaccount:ops:triage" in reasons
        assert TOKEN not in result.stdout + result.stderr


def test_unauthorized_is_skipped_without_the_token(tmp_path, shop_api):
    path = tmp_path / "kubeconfig"
    path.write_text(kubeconfig(shop_api.url, token="expired-" + TOKEN, namespace="shop"))
    result, payload = health(path, "-o", "json", env={"TRIAGE_DEBUG": "1"})
    assert result.code == 3
    assert "401 Unauthorized" in payload["skipped"][1]["reason"]
    assert TOKEN not in result.stdout + result.stderr


def test_timeout_is_skipped_not_hung(tmp_path):
    with FakeKubeAPI(load_manifests(), delay=2.0) as api:
        path = tmp_path / "kubeconfig"
        path.write_text(kubeconfig(api.url, namespace="shop"))
        result, payload = health(path, "--timeout", "0.3", "-o", "json")
    assert result.code == 3
    assert payload["skipped"][1] == {"source": "kubernetes",
                                     "reason": f"the Kubernetes API at {api.url} did not answer within 0.3s"}


def test_no_kubeconfig_skips_and_the_other_sources_still_run(monkeypatch):
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    dead = f"http://127.0.0.1:{free_port()}/health"
    result, payload = health(None, "--url", dead, "-o", "json")
    assert result.code == 2
    assert {"source": "kubernetes", "reason": "no kubeconfig found (~/.kube/config or $KUBECONFIG) and not "
            "running in a pod"} in payload["skipped"]
    assert payload["findings"][0]["reason"] == "EndpointDown"


def test_an_unreadable_object_is_reported_not_fatal(tmp_path):
    objects = load_manifests()
    broken = next(o for o in objects if o["metadata"]["name"] == "payment-6c8d7f9b4-wq7nd")
    broken["status"]["containerStatuses"][0]["restartCount"] = "many"
    with FakeKubeAPI(objects, logs=load_logs()) as api:
        path = tmp_path / "kubeconfig"
        path.write_text(kubeconfig(api.url, namespace="shop"))
        result, payload = health(path, "-o", "json")
    assert result.code == 2
    assert any(s["reason"].startswith("1 pods could not be read and were left out: payment-6c8d7f9b4-wq7nd "
                                      "(ValueError") for s in payload["skipped"])
    assert any(f["reason"] == "CrashLoopBackOff" for f in payload["findings"])


def test_in_cluster_config_over_tls(tmp_path):
    """Inside a pod: KUBERNETES_SERVICE_HOST/PORT, the service-account token, CA and namespace."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=kubernetes", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    (sa / "token").write_text(TOKEN)
    (sa / "namespace").write_text("shop")
    shutil.copy(cert, sa / "ca.crt")
    from triage.sources.kubernetes import KubernetesSource

    with FakeKubeAPI(load_manifests(), tokens={TOKEN: ALL}, tls=(str(cert), str(key))) as api:
        source = KubernetesSource(environment={"KUBERNETES_SERVICE_HOST": "127.0.0.1",
                                               "KUBERNETES_SERVICE_PORT": str(api.port), "HOME": str(tmp_path)},
                                  service_account_dir=str(sa), timeout=5)
        assert source.default_namespace() == "shop"
        snap = source.snapshot(["shop"])
        source.close()
    assert len(snap.pods) == 13 and snap.problems == ()
    headers = {k.lower(): v for k, v in api.requests[0][2].items()}
    assert headers["authorization"].lower() == f"bearer {TOKEN}"


def test_markdown_escapes_everything_from_outside(kubecfg):
    result, _ = health(kubecfg, "-o", "markdown")
    assert result.code == 2
    out = result.stdout
    assert out.startswith("# Quick health checks\n")
    assert "## Critical (" in out and "## Warning (" in out and "## Skipped" in out
    assert "\x1b" not in out
    # The hostile log line quoted from the crash-looping pod stays inert.
    quoted = [line for line in out.splitlines() if "FATAL" in line]
    assert len(quoted) == 2  # in the table's detail and as quoted evidence
    assert "[click me](http" not in quoted[0] and "<b>" not in quoted[0]
    assert quoted[1] == "- ``WARN FATAL | `$(rm -rf /)` [click me](http://evil.example) <b>bold</b> **not bold**``"
    assert "| pod | shop/checkout-7d9f8b6c5-q5wl9 | pod.logs | ErrorLogs |" in out.replace("\\", "")


def test_table_groups_by_severity(kubecfg):
    result, _ = health(kubecfg)
    assert result.code == 2
    out = result.stdout
    assert out.index("CRITICAL (") < out.index("WARNING (") < out.index("OK: ")
    assert "skipped docker: disabled by --no-docker" in out
    assert "status: CRITICAL" in out
    assert "\x1b" not in out


def test_collect_health_is_the_phase_triage_run_records(kubecfg, monkeypatch, tmp_path):
    """`triage run` calls `collect_health` with the target's services: same checks as `--service`."""
    from triage.cli.health import collect_health
    from triage.config import load_settings

    monkeypatch.setenv("KUBECONFIG", str(kubecfg))
    settings = load_settings(env={}, cwd=tmp_path)
    report = collect_health(settings, [settings.service("payment", "shop")], window_seconds=900, no_docker=True)
    payload = report.to_json()
    assert payload["status"] == "critical"
    assert {(f["name"], f["reason"]) for f in payload["findings"] if f["reason"]} == {
        ("payment-6c8d7f9b4-jx2mt", "OOMKilled"), ("payment-6c8d7f9b4-jx2mt", "ErrorLogs")}
    assert payload["skipped"] == [{"source": "docker", "reason": "disabled by --no-docker"}]


def test_the_checks_run_with_the_collector_off_and_it_is_back_after(kubecfg, monkeypatch):
    """Issue 17: no cyclic collection walks thousands of pods' values while they are built and printed."""
    import gc

    import triage.health.run as run
    import triage.render.json as render_json

    seen: dict[str, bool] = {}
    check_pods, write = run.check_pods, render_json.write_inert_json

    def spy_check(*args, **kwargs):
        seen["checks"] = gc.isenabled()
        return check_pods(*args, **kwargs)

    def spy_write(*args, **kwargs):
        seen["print"] = gc.isenabled()
        return write(*args, **kwargs)

    monkeypatch.setattr(run, "check_pods", spy_check)
    monkeypatch.setattr(render_json, "write_inert_json", spy_write)
    gc.enable()
    result, payload = health(kubecfg, "-o", "json")
    assert result.code == 2 and payload["status"] == "critical"
    assert seen == {"checks": False, "print": False}
    assert gc.isenabled()


def test_a_kubernetes_pass_imports_no_other_sources_checks_and_no_apply(kubecfg, tmp_path):
    """Issue 17: `health --no-docker` over a cluster imports neither the Docker, HTTP-endpoint and
    kube-state-metrics checks nor the PATCHes of `mitigate --apply`; they still resolve when asked."""
    import os
    import sys

    listing = tmp_path / "modules"
    code = ("import sys\nfrom triage.cli import main\ntry:\n    main(['health', '--no-docker', '-o', 'json'])\n"
            "except SystemExit as exc:\n    code = exc.code\n"
            f"open({str(listing)!r}, 'w').write(str(code) + ' ' + ' '.join(sys.modules))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    proc = subprocess.run([sys.executable, "-c", code], env={**env, "KUBECONFIG": str(kubecfg)},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    code_seen, *modules = listing.read_text().split()
    assert code_seen == "2" and "triage.health.pod" in modules
    assert not {"triage.health.container", "triage.health.endpoint", "triage.health.kube_state",
                "triage.sources.kubernetes.apply"} & set(modules)
    from triage.sources import kubernetes
    from triage.sources.kubernetes.apply import KubeActions

    assert kubernetes.KubeActions is KubeActions
