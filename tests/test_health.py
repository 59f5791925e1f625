"""The parts of `health` that need no backend: the error-log scan, readiness-body parsing,
scoping rules, exit status, and the promise that `--help` never imports an SDK."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from triage.config import load_settings
from triage.errors import UsageError
from triage.health.endpoint import failing_dependencies
from triage.health.logs import classify, clean_line, scan
from triage.health.run import docker_selector, exit_status, plan_health
from triage.models import Finding, HealthReport, Skipped, Status

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("line,kind", [
    ("Traceback (most recent call last):", "traceback"),
    ("panic: runtime error: invalid memory address or nil pointer dereference", "panic"),
    ("fatal error: concurrent map writes", "panic"),
    ("java.lang.OutOfMemoryError: Java heap space", "oom"),
    ("FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory", "oom"),
    ("Exception in thread \"main\" java.lang.IllegalStateException: boom", "traceback"),
    ("sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) could not connect", "exception"),
    ("2026-11-10 19:55:40 ERROR checkout.api request failed", "error"),
    ('{"level":"error","msg":"upstream timeout","upstream":"bank-api"}', "error"),
    ("time=2026-11-10T19:55:40Z level=fatal msg=\"cannot bind\"", "fatal"),
    ("E1110 19:55:40.123456       1 reflector.go:138] failed to list", "error"),
    ("Error: listen tcp :8080: bind: address already in use", "error"),
    ("\x1b[31mFATAL\x1b[0m pool exhausted", "fatal"),
])
def test_error_lines_are_recognised(line, kind):
    assert classify(line) == kind


@pytest.mark.parametrize("line", [
    "INFO: GET /errors 200",
    "metrics: errors_total=0 retries=0",
    "the critical path is fine",
    "INFO:     10.0.0.1:5123 - \"GET /health HTTP/1.1\" 200 OK",
    "debug: no error found",
])
def test_ordinary_lines_are_not(line):
    assert classify(line) is None


def test_quoted_lines_are_cleaned_and_bounded():
    found = scan(["ok", "ERROR \x1b]0;pwned\x07 \x07bell " + "x" * 500, "ERROR two", "ERROR three", "ERROR four"])
    assert found.matched == 4 and len(found.quoted) == 3
    assert found.quoted[0].startswith("ERROR") and "pwned" not in found.quoted[0] and len(found.quoted[0]) == 200
    assert all(ch >= " " for q in found.quoted for ch in q)
    assert clean_line("\tpanic:\x1b[2J boom ") == "panic: boom"


def test_readiness_bodies_name_the_failing_dependency():
    assert failing_dependencies({"status": "unhealthy", "checks": {"database": "unhealthy: connection refused",
                                                                   "redis": "healthy"}}) == \
        [("database", "unhealthy: connection refused")]
    assert failing_dependencies({"status": False, "checks": {"database": "healthy", "redis": "down"}}) == \
        [("redis", "down")]
    assert failing_dependencies({"status": "DOWN", "components": {"db": {"status": "DOWN", "details": {"e": 1}}}}) \
        == [("db", "DOWN: {'e': 1}")]
    assert failing_dependencies({"status": "fail", "checks": {"cpu": [{"status": "pass"}],
                                                              "db:conn": [{"status": "fail", "output": "x"}]}}) == \
        [("db:conn", "fail: x")]
    assert failing_dependencies({"status": "healthy"}) == []
    assert failing_dependencies(["not", "a", "dict"]) == []


def test_plan_scopes(tmp_path):
    (tmp_path / "triage.yaml").write_text(textwrap.dedent("""\
        services:
          checkout: {namespace: shop, health_urls: ["http://checkout.shop:8000/ready"]}
          payment: {namespace: pay, health_urls: ["http://payment.pay:8000/ready"]}
    """))
    settings = load_settings(env={}, cwd=tmp_path)
    one = plan_health(settings, service="checkout", urls=["http://extra:1/health"])
    assert one.namespaces == ("shop",) and one.urls == ("http://extra:1/health", "http://checkout.shop:8000/ready")
    fleet = plan_health(settings, all_services=True)
    assert fleet.namespaces == ("pay", "shop") and len(fleet.urls) == 2 and not fleet.all_namespaces
    plain = plan_health(settings)
    assert plain.namespaces == () and plain.urls == ()
    assert plan_health(settings, all_namespaces=True).all_namespaces
    with pytest.raises(UsageError):
        plan_health(settings, namespace="a", all_namespaces=True)
    with pytest.raises(UsageError):
        plan_health(settings, all_services=True, namespace="elsewhere")


def test_docker_names_of_a_service():
    select = docker_selector([load_settings(env={}, cwd=Path("/nonexistent")).service("checkout")])
    assert select("checkout", {}) and select("shop-checkout-1", {}) and select("shop_checkout_2", {})
    assert select("web", {"com.docker.compose.service": "checkout"})
    assert not select("checkout-db", {}) and not select("precheckout", {})


def test_exit_status():
    ok = Finding("pod", "a", "ns", "pod.status", Status.OK, None, "Running")
    warn = Finding("pod", "b", "ns", "pod.restarts", Status.WARNING, "Restarting", "1 restart")
    assert exit_status(HealthReport((ok,))) is Status.OK
    assert exit_status(HealthReport((ok, warn), (Skipped("docker", "no socket"),))) is Status.WARNING
    assert exit_status(HealthReport((), (Skipped("docker", "no socket"),))).exit_code == 3


def test_help_never_imports_an_sdk():
    code = textwrap.dedent("""
        import sys
        from triage.cli import main
        for argv in (["--help"], ["health", "--help"]):
            try:
                main(argv)
            except SystemExit:
                pass
        heavy = sorted(m for m in ("kubernetes", "docker", "requests") if m in sys.modules)
        print("IMPORTED", heavy)
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "--no-kubernetes" in proc.stdout and "--url" in proc.stdout and "--context" in proc.stdout
    assert "IMPORTED ['requests']" in proc.stdout or "IMPORTED []" in proc.stdout


class FakeBrokenDocker:
    """A source with a bug: the run reports it as skipped and the other sources still count."""

    def containers(self, select=None):
        raise RuntimeError("unexpected answer")

    def logs(self, requests):
        return []


class FakeProber:
    def probe(self, urls):
        from triage.models.health import EndpointProbe

        return [EndpointProbe(url=u, status_code=200, latency=0.01) for u in urls]


def test_a_failing_source_never_hides_the_others():
    from triage.health.run import HealthPlan, run_health

    plan = HealthPlan(kubernetes=False, urls=("http://checkout:8000/health",))
    report = run_health(plan, docker=FakeBrokenDocker(), http=FakeProber())
    assert [f.status for f in report.findings] == [Status.OK]
    assert report.skipped == (Skipped("docker", "internal error: RuntimeError: unexpected answer"),)


@pytest.mark.parametrize(("containers", "spec", "detail"), [
    # init containers count for restarts, not for ready/regular; the first container that restarted and
    # said why gives the note
    ([("init", True, False, 2, "Completed", 100.0), ("app", False, True, 3, "Error", 400.0),
      ("side", False, True, 1, "OOMKilled", 500.0)], (),
     "Running, 2/2 ready, 6 restarts, last restart 10m ago (Completed)"),
    ([("app", False, False, 0, "", None), ("side", False, True, 5, "", None)], (),
     "Running, 1/2 ready, 5 restarts"),
    ([("init", True, True, 0, "", None)], ("app", "side"), "Running, 0/1 ready, 0 restarts"),
    ([], ("app", "side"), "Running, 0/2 ready, 0 restarts"),
])
def test_the_ok_line_of_a_pod(containers, spec, detail):
    from triage.health.pod import check_pods
    from triage.models.health import KubeContainer, Pod

    built = tuple(KubeContainer(name=n, ready=ready, restarts=r, state="running", init=init, last_reason=why,
                                last_finished_at=at) for n, init, ready, r, why, at in containers)
    pod = Pod(namespace="shop", name="web-0", phase="Running", containers=built, spec_containers=spec)
    result = check_pods([pod], [], now=700.0, window=60.0)
    assert [(f.check, f.status, f.detail) for f in result.findings] == [("pod.status", Status.OK, detail)]
