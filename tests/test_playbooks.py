"""The playbook engine on documents: conditions, sizes, rendering, validation, overrides, and
every shipped playbook rendered for every bottleneck class and every health reason."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from triage.errors import ConfigError
from triage.models import BOTTLENECKS, HEALTH_REASONS
from triage.playbooks import (
    PlanInputs,
    coverage,
    load_library,
    load_playbook,
    make_plan,
    plan_for_record,
    rca_documents,
    validate_paths,
)
from triage.playbooks.expr import Missing, check_expr, evaluate, parse_expr
from triage.playbooks.names import Scope
from triage.playbooks.template import template_names
from triage.render.plan import plan_markdown

WINDOW = {"start": "2026-11-10T19:46:00Z", "end": "2026-11-10T20:01:00Z"}
BASELINE = {"start": "2026-11-10T18:46:00Z", "end": "2026-11-10T19:46:00Z"}
UNITS = {
    "rps": "req/s", "error_ratio": "ratio", "latency_p95": "s", "inflight": "requests", "cpu_usage_ratio": "ratio",
    "cpu_throttle_ratio": "ratio", "memory_usage_ratio": "ratio", "restarts": "restarts", "oom_kills": "containers",
    "db_latency_p95": "s", "db_read_latency_p95": "s", "db_write_latency_p95": "s", "db_connect_share": "ratio",
    "db_pool_usage_ratio": "ratio", "db_pool_wait_p95": "s", "db_connections_ratio": "ratio", "db_lock_waits": "locks",
    "dependency_latency_p95": "s", "dependency_error_ratio": "ratio", "replicas": "pods", "replicas_max": "pods",
    "deploys": "generation", "db_time_per_request": "s", "db_pool_size": "connections",
    "db_max_connections": "connections",
}
HEALTHY = {
    "rps": 50.0, "error_ratio": 0.002, "latency_p95": 0.15, "inflight": 4.0, "cpu_usage_ratio": 0.3,
    "cpu_throttle_ratio": 0.0, "memory_usage_ratio": 0.4, "restarts": 0.0, "oom_kills": 0.0, "db_latency_p95": 0.01,
    "db_read_latency_p95": 0.008, "db_write_latency_p95": 0.012, "db_connect_share": 0.0005,
    "db_pool_usage_ratio": 0.2, "db_pool_wait_p95": 0.005, "db_connections_ratio": 0.1, "db_lock_waits": 3.0,
    "dependency_latency_p95": 0.25, "dependency_error_ratio": 0.001, "replicas": 2.0, "replicas_max": 4.0,
    "deploys": 7.0, "db_time_per_request": 0.013, "db_pool_size": 20.0, "db_max_connections": 200.0,
}
# (baseline, window) per signal, after the scenario library's stories.
STORIES = {
    "cpu_saturation": {"cpu_usage_ratio": (0.42, 1.0), "cpu_throttle_ratio": (0.0, 0.8), "rps": (60, 151.5),
                       "latency_p95": (0.15, 2.25), "inflight": (4, 158), "replicas_max": None},
    "memory_pressure": {"memory_usage_ratio": (0.80, 0.98), "oom_kills": (0, 1), "restarts": (0, 1),
                        "error_ratio": (0.002, 0.03)},
    "db_pool_exhaustion": {"db_pool_usage_ratio": (0.3, 1.0), "db_pool_wait_p95": (0.005, 2.49), "rps": (130.2, 324.1),
                           "db_time_per_request": (0.021, 0.0211), "db_pool_size": (60, 60),
                           "db_max_connections": (100, 100), "replicas": (3, 3), "replicas_max": (10, 10),
                           "db_connections_ratio": (0.56, 0.94), "cpu_usage_ratio": (0.26, 0.46),
                           "db_connect_share": (0.0003, 0.0003), "latency_p95": (0.25, 3.79)},
    "db_latency": {"db_latency_p95": (0.01, 0.978), "db_read_latency_p95": (0.0099, 1.206),
                   "cpu_usage_ratio": (0.2, 0.2),
                   "db_time_per_request": (0.016, 1.506), "db_pool_usage_ratio": (0.3, 0.8)},
    "lock_contention": {"db_lock_waits": (3, 116), "db_write_latency_p95": (0.0119, 1.766), "inflight": (4, 121),
                        "db_latency_p95": (0.009, 0.886), "rps": (50, 119.9)},
    "connection_churn": {"db_connect_share": (0.64, 0.963), "db_time_per_request": (0.036, 0.355), "rps": (40, 90.8)},
    "external_dependency": {"dependency_latency_p95": (0.247, 2.797), "dependency_error_ratio": (0.0008, 0.08),
                            "rps": (40, 40.5), "inflight": (5, 71), "latency_p95": (0.3, 3.22),
                            "error_ratio": (0.002, 0.079)},
    "application_errors": {"error_ratio": (0.002, 0.122), "deploys": (7, 8), "restarts": (0, 1)},
    "none": {},
    "unknown": {"db_pool_usage_ratio": None, "db_lock_waits": None, "latency_p95": (0.15, 2.0)},
}
CAPACITY = {
    "db_pool_exhaustion": {"db_connections_needed": 6.78, "pool_per_pod": 20.0, "max_pods_for_max_connections": 5,
                           "hpa_at_max": False, "mean_latency_s": 2.06},
    "db_latency": {"db_connections_needed": 74.4, "pool_per_pod": 10.0, "max_pods_for_max_connections": 20,
                   "hpa_at_max": False},
    "lock_contention": {"db_connections_needed": 86.0, "pool_per_pod": 10.0, "max_pods_for_max_connections": 20},
    "connection_churn": {"db_connections_needed": 31.6, "pool_per_pod": 10.0, "max_pods_for_max_connections": 20},
}
TRIGGERS = {"application_errors": "deploy", "external_dependency": "dependency_failure",
            "cpu_saturation": "traffic_surge", "db_pool_exhaustion": "traffic_surge"}
STATUS = {"none": "ok", "unknown": "unknown"}


def rca_doc(bottleneck: str, service: str = "orders", namespace: str = "shop", **overrides) -> dict:
    story = {**STORIES[bottleneck], **overrides}
    signals, missing = {}, []
    for name, unit in UNITS.items():
        if name in story and story[name] is None:
            missing.append(name)
            continue
        base, win = story.get(name, (HEALTHY[name], HEALTHY[name]))
        signals[name] = {"baseline": float(base), "window": float(win), "unit": unit,
                         "query": f'{name}{{service="{service}"}}'}
    return {
        "schema": "triage.rca/v1", "service": service, "namespace": namespace, "window": WINDOW,
        "baseline": BASELINE, "bottleneck": bottleneck, "confidence": 0.9,
        "trigger": TRIGGERS.get(bottleneck, "none"), "summary": f"{service} shows {bottleneck}",
        "candidates": [], "signals": signals, "missing_signals": missing,
        "missing_reasons": {m: "no query returned data" for m in missing}, "severity": "P1",
        "status": STATUS.get(bottleneck, "critical"), "notes": [],
        "capacity": {"lines": [f"capacity line for {bottleneck}"], **CAPACITY.get(bottleneck, {})},
        "invariants": [], "alerts": [],
    }


REASON_KIND = {
    "OOMKilled": "pod", "CrashLoopBackOff": "pod", "Restarting": "container", "Unhealthy": "container",
    "Exited": "container", "ImagePullBackOff": "pod", "NotReady": "pod", "Pending": "pod", "Evicted": "pod",
    "Unavailable": "deployment", "RolloutStuck": "deployment", "HPAAtMax": "hpa", "HPAMetricsUnavailable": "hpa",
    "NodeNotReady": "node", "NodePressure": "node", "EndpointDown": "endpoint", "EndpointSlow": "endpoint",
    "DependencyDown": "endpoint", "ErrorLogs": "pod",
}
NAMES = {"pod": "checkout-7d9f8b6c5-2xkqp", "container": "shop-api-1", "deployment": "checkout", "hpa": "checkout",
         "node": "node-a1", "endpoint": "http://checkout.shop:8000/ready"}


def health_doc(*findings: dict) -> dict:
    return {"schema": "triage.health/v1", "status": "critical", "findings": list(findings), "skipped": []}


def finding(reason: str, kind: str | None = None, name: str | None = None, status: str = "critical") -> dict:
    kind = kind or REASON_KIND[reason]
    return {"kind": kind, "name": name or NAMES[kind],
            "namespace": None if kind in ("container", "node", "endpoint") else "shop",
            "check": f"{kind}.check", "status": status, "reason": reason, "detail": f"{reason} seen"}


@pytest.fixture(scope="module")
def library():
    return load_library()


def plan(library, *, rca=None, health=None, phase="mitigate", services=None):
    return make_plan(library, PlanInputs(rcas=tuple(rca_documents(rca)) if rca else (), health=health,
                                         services=services or {}, prometheus_url="http://prom:9090"), phase)


def proposed(p, step_id=None):
    out = [s for s in p.steps if s.status == "proposed"]
    if step_id is not None:
        [one] = [s for s in out if s.step.full_id.endswith("/" + step_id)]
        return one
    return out


def numbers(step) -> dict:
    return {n["name"]: n["value"] for n in step.numbers}


def assert_rendered(step) -> None:
    assert step.commands, step.step.full_id
    names = {n for c in step.step.commands for n, _, _ in template_names(c)}
    for cmd in step.commands:
        left = [n for n in names if "{" + n + "}" in cmd or "{" + n + ":" in cmd]
        assert not left, f"{step.step.full_id}: unrendered placeholder {left} in {cmd!r}"
    assert step.risk and "n/a" not in step.title, (step.step.full_id, step.title)
    assert step.step.seeds, step.step.full_id


# ---- the expression language ---------------------------------------------------------------


def _eval(text: str, **values):
    node = parse_expr(text)
    check_expr(node, Scope(values.pop("_computed", ())))
    return evaluate(node, lambda n: values.get(n, Missing((n,), f"{n} is missing")))


def test_units_precedence_and_functions():
    assert _eval("cpu_usage_ratio > 90%", cpu_usage_ratio=0.95) is True
    assert _eval("db_latency_p95 > 500ms", db_latency_p95=0.4) is False
    assert _eval("ceil(replicas * cpu_usage_ratio / 0.7)", replicas=2.0, cpu_usage_ratio=1.0) == 3
    assert _eval("1 + 2 * 3") == 7
    assert _eval("min(5, coalesce(capacity.max_pods_for_max_connections, 100))") == 5
    assert _eval('reason in ["OOMKilled", "Evicted"]', reason="Evicted") is True
    assert _eval('reason not in ["OOMKilled"]', reason="Evicted") is True
    assert _eval("not has(replicas_max)") is True


def test_missing_values_follow_kleene_logic():
    # A decisive side decides; otherwise the answer is unknown and says what was missing.
    assert _eval('bottleneck == "cpu_saturation" or cpu_usage_ratio > 90%', bottleneck="cpu_saturation") is True
    assert _eval('bottleneck == "memory_pressure" and cpu_usage_ratio > 90%', bottleneck="none") is False
    unknown = _eval('bottleneck == "memory_pressure" or cpu_usage_ratio > 90%', bottleneck="none")
    assert isinstance(unknown, Missing) and unknown.names == ("cpu_usage_ratio",)
    assert isinstance(_eval("rps / replicas", rps=10.0, replicas=0.0), Missing)


@pytest.mark.parametrize("text, message", [
    ('__import__("os")', "unknown function '__import__'"),
    ('cpu_usage_ratio.__class__ > 1', "a signal has .baseline, .window or .change"),
    ('(1).real > 0', "unexpected character '.'"),
    ("cpu_usage > 0.9", "unknown signal or name 'cpu_usage'"),
    ('reason == "OOMKiled"', "unknown reason 'OOMKiled'"),
    ('bottleneck == "cpu"', "unknown bottleneck 'cpu'"),
    ("cpu_usage_ratio >", "unexpected 'end of expression'"),
    ("cpu_usage_ratio > 0.9 > 0.5", "comparisons do not chain"),
    ("rps and cpu_usage_ratio > 1", "'and' joins conditions"),
    ("capacity.pool", "unknown capacity value"),
    ("rps.p99 > 1", "a signal has .baseline, .window or .change"),
    ("open('/etc/passwd')", "unknown function 'open'"),
])
def test_bad_expressions_are_refused(text, message):
    with pytest.raises(Exception) as info:
        node = parse_expr(text)
        check_expr(node, Scope())
    assert message in str(info.value)


# ---- shipped content -----------------------------------------------------------------------


def test_every_shipped_playbook_loads_and_validates(library):
    shipped = sorted(Path(__file__).resolve().parent.parent.joinpath("playbooks").glob("*.yaml"))
    good, errors = validate_paths(shipped)
    assert not errors
    assert {p.name for p in good} == set(library.playbooks)
    for book in good:
        for step in book.steps:
            assert step.seeds, f"{step.full_id}: no seed named"
            assert step.risk and step.commands
            if step.phase == "fixes":
                assert step.effort and step.timeline and step.success_metric


def test_coverage_every_class_and_reason_has_a_mitigation_and_a_fix(library):
    cov = coverage(library)
    assert set(cov) == set(BOTTLENECKS) | set(HEALTH_REASONS)
    for name, phases in cov.items():
        assert phases["mitigations"] and phases["fixes"], name


@pytest.mark.parametrize("bottleneck", BOTTLENECKS)
def test_each_class_renders_mitigations_and_fixes(library, bottleneck):
    rca = rca_doc(bottleneck)
    for phase in ("mitigate", "fix"):
        p = plan(library, rca=rca, phase=phase)
        mine = [s for s in proposed(p) if bottleneck in s.step.covers("bottleneck")]
        assert mine, f"{bottleneck}: no {phase} step proposed"
        for step in proposed(p):
            assert_rendered(step)
            assert step.service == "orders"
        if phase == "fix":
            for step in mine:
                assert step.success_metric and 'service="orders"' in step.success_metric or \
                    'namespace="shop"' in step.success_metric or "database" in step.success_metric \
                    or 'datname="orders"' in step.success_metric
                assert step.verify.startswith("promtool query instant http://prom:9090 '")


@pytest.mark.parametrize("reason", HEALTH_REASONS)
def test_each_health_reason_renders_mitigations_and_fixes(library, reason):
    f = finding(reason)
    for phase in ("mitigate", "fix"):
        p = plan(library, health=health_doc(f), phase=phase)
        mine = [s for s in proposed(p) if reason in s.step.covers("reason")]
        assert mine, f"{reason}: no {phase} step proposed"
        # at least one step names the object (or its deployment) in a command
        assert any(f["name"] in c or "deployment/checkout" in c for s in mine for c in s.commands), reason
        for step in mine:
            assert_rendered(step)
            assert step.target == {"kind": f["kind"], "name": f["name"], "namespace": f["namespace"]}
            assert step.evidence and step.evidence[0]["name"] == "finding"


def test_ok_findings_and_other_reasons_propose_nothing(library):
    healthy = dict(finding("OOMKilled"), status="ok", reason=None)
    p = plan(library, health=health_doc(healthy))
    assert proposed(p) == []
    assert "the health checks found nothing to act on" in p.notes


# ---- numbers, not adjectives ---------------------------------------------------------------


def test_cpu_saturation_scales_out_by_the_measured_ratio(library):
    p = plan(library, rca=rca_doc("cpu_saturation"))
    step = proposed(p, "scale-out")
    assert numbers(step) == {"replicas_needed": 3, "connection_cap": 100, "replicas_target": 3}
    n = {x["name"]: x for x in step.numbers}
    assert n["replicas_needed"]["formula"] == "ceil(replicas × cpu_usage_ratio ÷ 0.7)"
    assert n["replicas_needed"]["with"] == "ceil(2 × 1 ÷ 0.7)"
    assert "kubectl -n shop scale deployment/orders --replicas=3" in step.commands
    assert step.action == {"kind": "scale_deployment", "namespace": "shop", "name": "orders", "replicas": 3}
    assert step.step.safe and "001" in step.step.seeds


def test_cpu_saturation_with_an_hpa_at_max_raises_the_hpa_instead(library):
    rca = rca_doc("cpu_saturation", replicas_max=(2, 2))
    rca["capacity"].update(max_pods_for_max_connections=20, hpa_at_max=True, pool_per_pod=10.0)
    p = plan(library, rca=rca)
    ids = [s.step.id for s in proposed(p)]
    assert "scale-out" not in ids  # the HPA would scale a manual change back
    step = proposed(p, "raise-hpa-max")
    assert numbers(step)["new_max"] == 3
    assert """kubectl -n shop patch hpa orders --type=merge -p '{"spec":{"maxReplicas":3}}'""" in step.commands


def test_db_pool_exhaustion_proposes_pool_and_db_steps_with_numbers(library):
    p = plan(library, rca=rca_doc("db_pool_exhaustion", service="checkout"))
    cap = proposed(p, "cap-pods-at-db-budget")
    assert numbers(cap) == {"max_pods": 4, "connections_at_hpa_max": 200}  # 80 % of max_connections
    assert """'{"spec":{"maxReplicas":4}}'""" in cap.commands[1]
    holders = proposed(p, "find-connection-holders")
    assert numbers(holders)["needed"] == pytest.approx(324.1 * 0.0211, rel=1e-3)
    assert "datname = 'checkout'" in holders.commands[0]
    shed = proposed(p, "shed-load")
    assert numbers(shed)["sustainable_rps"] == 259
    restart = proposed(p, "restart-to-release")
    assert restart.action == {"kind": "rollout_restart", "namespace": "shop", "name": "checkout"}
    fixes = plan(library, rca=rca_doc("db_pool_exhaustion", service="checkout"), phase="fix")
    bouncer = proposed(fixes, "pgbouncer")
    assert numbers(bouncer)["server_pool"] == 14 and numbers(bouncer)["client_conns"] == 400
    assert "default_pool_size = 14" in bouncer.commands[0] and bouncer.step.priority == "P0"
    pool = proposed(fixes, "size-pool")
    assert numbers(pool)["pool_size"] == 20 and numbers(pool)["pods"] == 4  # never below the exhausted 20 per pod


def test_memory_growth_rate_and_time_a_restart_buys(library):
    step = proposed(plan(library, rca=rca_doc("memory_pressure", service="reviews")), "rolling-restart")
    # (98 % - 80 %) over the 37.5 min between the middles of the 60 min baseline and 15 min window
    assert numbers(step)["growth_per_hour"] == pytest.approx(0.18 / 0.625, rel=1e-6)
    assert numbers(step)["hours_bought"] == pytest.approx(0.9 / (0.18 / 0.625), rel=1e-6)
    assert step.action == {"kind": "rollout_restart", "namespace": "shop", "name": "reviews"}


def test_dependency_timeout_from_the_dependency_normal_latency(library):
    step = proposed(plan(library, rca=rca_doc("external_dependency", service="payment")), "fail-fast")
    assert numbers(step) == {"timeout_ms": 800, "waiting_at_timeout": 33}
    assert "HTTP_CLIENT_TIMEOUT_MS=800" in step.commands[-1]


def test_rollback_when_a_deploy_preceded_the_errors(library):
    p = plan(library, rca=rca_doc("application_errors", service="notifications"))
    rollback = proposed(p, "rollback")
    assert "kubectl -n shop rollout undo deployment/notifications" in rollback.commands
    assert "1 > 10%" not in rollback.why and "deploy" in rollback.why


def test_a_missing_signal_skips_the_step_and_says_why(library):
    # An HPA at max with no root-cause analysis: raising it needs the CPU ratio.
    p = plan(library, health=health_doc(finding("HPAAtMax")))
    [skipped] = [s for s in p.steps if s.step.id == "hpa-raise-max"]
    assert skipped.status == "skipped"
    assert "cpu_usage_ratio" in skipped.why and "no root-cause analysis" in skipped.why
    assert proposed(p, "hpa-at-max-look")  # the read-only look still applies
    # and with an rca that lacks the signal, the reason is the rca's own
    rca = rca_doc("unknown", cpu_usage_ratio=None)
    p = plan(library, rca=rca, health=health_doc(finding("HPAAtMax", name="orders")))
    [skipped] = [s for s in p.steps if s.step.id == "hpa-raise-max"]
    assert "cpu_usage_ratio is missing (no query returned data)" in skipped.why


def test_findings_of_one_workload_merge_and_match_their_service(library):
    pods = [finding("CrashLoopBackOff", name=f"orders-5d8f7c9b6-{s}") for s in ("abcde", "fghij")]
    p = plan(library, rca=rca_doc("application_errors"), health=health_doc(*pods))
    rollback = proposed(p, "rollback-crashloop")
    assert rollback.commands[1] == "kubectl -n shop rollout undo deployment/orders"
    assert len(rollback.findings) == 2  # one step for both pods of the deployment
    logs = [s for s in proposed(p) if s.step.id == "crash-logs-pod"]
    assert len(logs) == 2  # one per pod: the commands name the pod


def test_unsafe_names_are_never_pasted_into_commands(library):
    rca = rca_doc("cpu_saturation", service="orders; rm -rf ~")
    p = plan(library, rca=rca)
    assert not [s for s in proposed(p)]
    [skip, *_] = [s for s in p.steps if s.step.id == "scale-out"]
    assert skip.status == "skipped" and "not safe in a command" in skip.why
    text = plan_markdown(p)
    assert "rm -rf ~" not in text.replace("rm \\-rf ~", "")  # markdown escapes what it shows


def test_plan_for_record_feeds_the_postmortem(library):
    class Settings:
        playbooks_dirs = ()
        services = {}
        prometheus = None
        alertmanager = None

    doc = plan_for_record(rca_doc("db_pool_exhaustion", service="checkout"), health_doc(finding("OOMKilled")),
                          Settings())
    assert doc["schema"] == "triage.plan/v1" and doc["mitigations"] and doc["fixes"]
    # what the post-mortem lists as action items: proposed fixes only, fully rendered
    for fix in doc["fixes"]:
        assert fix["status"] == "proposed" and fix["title"] and fix["risk"] and fix["success_metric"]
        assert "n/a" not in fix["title"]
    # the rest is kept, with why: an OOM-killed pod's deployment cannot be told from a bare name
    assert all(s["status"] == "skipped" and s["why"] for s in doc["skipped"])


def test_fleet_documents_plan_for_the_services_with_an_incident(library):
    fleet = {"schema": "triage.fleet/v1", "window": WINDOW,
             "ranking": [{"service": "payment", "bottleneck": "external_dependency", "score": 0.9},
                         {"service": "search", "bottleneck": "none", "score": 0.0}],
             "services": {"payment": rca_doc("external_dependency", service="payment"),
                          "search": rca_doc("none", service="search")}}
    p = plan(library, rca=fleet)
    assert {s.service for s in proposed(p)} == {"payment"}


# ---- validation: file and line -------------------------------------------------------------

GOOD_STEP = """\
  - id: look
    title: Look at {service}
    seed: '001 §5.4'
    when: 'cpu_usage_ratio > 90%'
    commands:
      - kubectl -n {namespace} get pods
    risk: None.
"""


def _broken(tmp_path, text: str, name: str = "mine.yaml") -> ConfigError:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_playbook(path)
    return info.value


@pytest.mark.parametrize("text, line, message", [
    ("title: t\nmitigations:\n" + GOOD_STEP + "    colour: red\n", 10, "unknown key 'mitigations[0].colour'"),
    ("title: t\nmitigations:\n" + GOOD_STEP.replace("cpu_usage_ratio > 90%", "cpu_usage > 0.9"), 6,
     "unknown signal or name 'cpu_usage'"),
    ("title: t\nmitigations:\n" + GOOD_STEP.replace("cpu_usage_ratio > 90%", 'reason == \\"OOMKiled\\"')
     .replace("'reason", '"reason').replace('\\"\'', '\\""'), 6, "unknown reason 'OOMKiled'"),
    ("title: t\nmitigations:\n" + GOOD_STEP.replace("cpu_usage_ratio > 90%", "cpu_usage_ratio >> 2"), 6,
     "unexpected '>'"),
    ("title: t\nmitigations:\n" + GOOD_STEP.replace("get pods", "get pods {podname}"), 8,
     "unknown placeholder '{podname}'"),
    ("title: t\nmitigations:\n" + GOOD_STEP.replace("'001 §5.4'", "'somewhere'"), 5, "must start with the seed"),
    ("title: t\nmitigations:\n" + GOOD_STEP + "    safe: true\n", 10, "safe: true needs an action"),
    ("title: t\nmitigations:\n" + GOOD_STEP + "    safe: true\n    action:\n      kind: delete_namespace\n", 12,
     "expected one of scale_deployment"),
    ("title: t\nmitigations:\n" + GOOD_STEP.replace("get pods", "logs {target}"), 8,
     "names a health finding"),
    ("title: t\nfixes:\n" + GOOD_STEP + "    effort: Low\n    timeline: 1 day\n"
     "    success_metric: \"up{job='x'}\"\n", 12, "use double quotes inside PromQL"),
    ("title: t\nmitigations:\n" + GOOD_STEP + GOOD_STEP, 10, "id 'look' is also used at line 3"),
])
def test_validation_errors_name_file_and_line(tmp_path, text, line, message):
    err = _broken(tmp_path, text)
    assert f"{tmp_path / 'mine.yaml'}:{line}:" in err.message, err.message
    assert message in err.message, err.message


def test_validate_paths_reports_every_broken_file(tmp_path):
    (tmp_path / "a.yaml").write_text("title: t\nmitigations:\n" + GOOD_STEP)
    (tmp_path / "b.yaml").write_text("title: t\nmitigations:\n" + GOOD_STEP.replace("90%", "90 %%"))
    (tmp_path / "c.yaml").write_text("title: [unclosed\n")
    good, errors = validate_paths([tmp_path])
    assert [p.name for p in good] == ["a"]
    assert len(errors) == 2 and errors[0].startswith(f"{tmp_path / 'b.yaml'}:6:")
    assert errors[1].startswith(f"{tmp_path / 'c.yaml'}:")


def test_a_user_directory_overrides_a_built_in_by_name(tmp_path):
    (tmp_path / "cpu_saturation.yaml").write_text(
        "title: Our CPU runbook\nmitigations:\n" + GOOD_STEP.replace("Look at", "Page the owner of")
        + "fixes:\n" + GOOD_STEP.replace("id: look", "id: ours") + "    effort: Low\n    timeline: 1 day\n"
        "    success_metric: 'up{service=\"{service}\"} == 1'\n")
    (tmp_path / "extra.yaml").write_text("title: Extra\nmitigations:\n" + GOOD_STEP.replace("id: look", "id: extra"))
    lib = load_library([tmp_path])
    assert lib.get("cpu_saturation").title == "Our CPU runbook" and not lib.get("cpu_saturation").bundled
    assert "extra" in lib.playbooks and lib.get("memory_pressure").bundled
    p = plan(lib, rca=rca_doc("cpu_saturation"))
    ids = [s.step.full_id for s in proposed(p)]
    assert "cpu_saturation/look" in ids and "extra/extra" in ids
    assert "cpu_saturation/scale-out" not in ids  # the built-in file is replaced as a whole
    assert proposed(p, "look").title == "Page the owner of orders"


def test_templates_keep_jsonpath_go_templates_and_promql_braces(library):
    step = proposed(plan(library, health=health_doc(finding("Unhealthy"))), "container-health")
    assert step.commands[0] == "docker inspect shop-api-1 --format '{{json .State.Health}}'"
    oom = proposed(plan(library, health=health_doc(finding("OOMKilled"))), "oom-pod")
    assert "'{range .status.containerStatuses[*]}{.name} " in oom.commands[0]
    assert oom.commands[0].endswith('{"\\n"}{end}\'')


# ---- PromQL and rule files are real PromQL -------------------------------------------------


def test_rendered_success_metrics_and_rule_files_pass_promtool(library, tmp_path):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed")
    exprs: dict[str, str] = {}
    rule_files: list[Path] = []
    inputs = [dict(rca=rca_doc(b)) for b in BOTTLENECKS] + [dict(health=health_doc(finding(r))) for r in HEALTH_REASONS]
    for kwargs in inputs:
        for phase in ("mitigate", "fix"):
            for step in proposed(plan(library, phase=phase, **kwargs)):
                if step.success_metric:
                    exprs[step.step.full_id + "/" + str(len(exprs))] = step.success_metric
                for cmd in step.commands:
                    m = re.match(r"cat > (\S+\.rules\.yml) <<'EOF'\n(.*)\nEOF$", cmd, re.S)
                    if m:
                        path = tmp_path / f"{len(rule_files)}-{m.group(1)}"
                        path.write_text(m.group(2) + "\n")
                        rule_files.append(path)
    assert len(exprs) > 40 and len(rule_files) >= 3
    metrics = tmp_path / "success-metrics.yml"
    metrics.write_text(yaml.safe_dump({"groups": [{"name": "success", "rules": [
        {"record": f"triage:success_{i}", "expr": e} for i, e in enumerate(exprs.values())]}]}))
    result = subprocess.run([promtool, "check", "rules", str(metrics), *map(str, rule_files)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_number_only_shown_does_not_skip_the_step_but_one_a_command_needs_does(library):
    rca = rca_doc("db_pool_exhaustion", service="checkout", db_max_connections=None)
    p = plan(library, rca=rca, phase="fix")
    bouncer = proposed(p, "pgbouncer")  # server_headroom only appears in the risk
    headroom = {n["name"]: n for n in bouncer.numbers}["server_headroom"]
    assert headroom["value"] is None and "db_max_connections is missing" in headroom["missing"]
    assert "leaves n/a of max_connections n/a free" in bouncer.risk
    [pool] = [s for s in p.steps if s.step.id == "size-pool"]  # its command needs per_pod_cap
    assert pool.status == "skipped" and "cannot compute per_pod_cap = " in pool.why
    assert pool.why.endswith("db_max_connections is missing (no query returned data)")


def test_the_engine_imports_no_cli_or_sdk():
    import subprocess
    import sys

    code = ("import sys, triage.playbooks; bad = [m for m in ('typer', 'rich', 'kubernetes', 'docker', 'requests', "
            "'prometheus_api_client') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.strip() == "[]"
