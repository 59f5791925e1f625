"""Every number a plan recommends obeys the invariants of what it configures, for every bottleneck
class and every shipped playbook, rendered from realistic incident documents (the scenario
stories of tests/test_playbooks.py, a small and a large service, and the demo's record):

- a client limit is never below the pool behind it (PgBouncer's max_client_conn ≥ its pools);
- a pool that is exhausted is never made smaller;
- pods × connections per pod (pool + overflow) stay within 80 % of max_connections;
- a fix's success metric measures an outcome (latency, pool wait, errors, restarts...), not a
  setting read back (`kube_..._spec_max_replicas <= 50` is true as soon as the YAML is applied).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.test_playbooks import finding, health_doc, plan, proposed, rca_doc
from triage.models import BOTTLENECKS, HEALTH_REASONS
from triage.playbooks import load_library

ROOT = Path(__file__).resolve().parent.parent
HEADROOM = 0.8
# A metric whose every series is one of these reads configuration back, not what users saw.
_CONFIG_METRIC = re.compile(r"_spec_|^pg_settings_|_metadata_|_info$")
_METRIC = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{|\[)")


def _demo_rca() -> dict[str, Any]:
    record = json.loads((ROOT / "demo" / "incident.json").read_text())
    return record["rca"]


def _small(bottleneck: str) -> dict[str, Any]:
    """The same story on one pod with a pool of 4 and an idle database (the demo's shape)."""
    doc = rca_doc(bottleneck, db_pool_size=(4, 4), replicas=(1, 1), replicas_max=None, db_max_connections=(200, 200),
                  db_time_per_request=(0.002, 0.002), rps=(10, 32))
    doc["capacity"].update(pool_per_pod=4.0, max_pods_for_max_connections=50, db_connections_needed=0.06)
    return doc


def _inputs() -> Iterator[tuple[str, dict[str, Any]]]:
    for b in BOTTLENECKS:
        yield f"{b}", {"rca": rca_doc(b)}
        yield f"{b}-small", {"rca": _small(b)}
        for r in ("HPAAtMax", "OOMKilled", "CrashLoopBackOff"):
            yield f"{b}+{r}", {"rca": rca_doc(b, service="checkout"), "health": health_doc(finding(r))}
    for r in HEALTH_REASONS:
        yield f"health-{r}", {"health": health_doc(finding(r))}
    yield "demo", {"rca": _demo_rca()}


INPUTS = dict(_inputs())


@pytest.fixture(scope="module")
def library():
    return load_library()


def _signal(rca: Mapping[str, Any] | None, name: str) -> float | None:
    sig = ((rca or {}).get("signals") or {}).get(name)
    return sig.get("window") if isinstance(sig, dict) else None


def _ini(command: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r"^(\w+) = (\d+)$", command, re.M)}


def _check_step(step, rca: Mapping[str, Any] | None) -> list[str]:
    bad: list[str] = []
    sid = step.step.full_id
    max_conn = _signal(rca, "db_max_connections")
    budget = HEADROOM * max_conn if max_conn else None
    per_pod = ((rca or {}).get("capacity") or {}).get("pool_per_pod")
    text = "\n".join(step.commands)
    for cmd in step.commands:
        ini = _ini(cmd)
        if "default_pool_size" in ini:
            pools = ini["default_pool_size"] + ini.get("reserve_pool_size", 0)
            if ini.get("max_client_conn", 0) < pools:
                bad.append(f"{sid}: max_client_conn {ini.get('max_client_conn')} < default_pool_size + reserve {pools}")
            if budget is not None and pools > budget:
                bad.append(f"{sid}: PgBouncer's {pools} server connections exceed 80 % of max_connections {max_conn}")
    env = dict(re.findall(r"\b(DB_POOL_SIZE|DB_MAX_OVERFLOW)=(\d+)", text))
    if "DB_POOL_SIZE" in env:
        pool, overflow = int(env["DB_POOL_SIZE"]), int(env.get("DB_MAX_OVERFLOW", 0))
        n = {x["name"]: x["value"] for x in step.numbers}
        replicas, size, usage = (_signal(rca, k) for k in ("replicas", "db_pool_size", "db_pool_usage_ratio"))
        if replicas and size and usage is not None and usage > 0.9 and pool < math.ceil(size / replicas):
            bad.append(f"{sid}: pool {pool} per pod shrinks an exhausted pool of {size / replicas:g} per pod")
        if overflow > pool:
            bad.append(f"{sid}: overflow {overflow} exceeds the pool {pool}: the pool has no cap")
        pods = n.get("pods")
        if budget is not None and pods and pods * (pool + overflow) > budget:
            bad.append(f"{sid}: {pods} pods × ({pool} + {overflow}) > 80 % of max_connections {max_conn}")
    pods_set = [int(x) for x in re.findall(r'"maxReplicas":(\d+)|maxReplicas: (\d+)|--replicas=(\d+)', text)
                for x in x if x]
    if budget is not None and per_pod:
        for pods in pods_set:
            if pods * per_pod > budget:
                bad.append(f"{sid}: {pods} pods × {per_pod:g} connections > 80 % of max_connections {max_conn:g}")
    if step.success_metric:
        metrics = set(_METRIC.findall(step.success_metric)) - {"rate", "sum", "max", "min", "increase", "changes",
                                                              "histogram_quantile", "avg_over_time", "min_over_time",
                                                              "deriv", "count", "by"}
        if metrics and all(_CONFIG_METRIC.search(m) for m in metrics):
            bad.append(f"{sid}: success metric reads configuration, not an outcome: {step.success_metric}")
    return bad


@pytest.mark.parametrize("case", sorted(INPUTS))
def test_every_rendered_configuration_obeys_its_invariants(library, case):
    kwargs = INPUTS[case]
    bad: list[str] = []
    for phase in ("mitigate", "fix"):
        for step in proposed(plan(library, phase=phase, **kwargs)):
            bad += _check_step(step, kwargs.get("rca"))
    assert not bad, "\n".join(bad)


def test_every_shipped_playbook_is_rendered_by_some_case(library):
    seen: set[str] = set()
    for kwargs in INPUTS.values():
        for phase in ("mitigate", "fix"):
            seen |= {s.step.playbook for s in proposed(plan(library, phase=phase, **kwargs))}
    shipped = {p.stem for p in (ROOT / "playbooks").glob("*.yaml")}
    assert shipped <= seen, f"never rendered: {sorted(shipped - seen)}"


def test_the_demo_fix_is_safe_and_consistent(library):
    p = plan(library, rca=_demo_rca(), phase="fix")
    bouncer = proposed(p, "pgbouncer")
    ini = _ini(bouncer.commands[0])
    assert ini["max_client_conn"] >= ini["default_pool_size"] + ini["reserve_pool_size"]
    pool = {n["name"]: n["value"] for n in proposed(p, "size-pool").numbers}
    assert pool["pool_size"] >= 4 and pool["overflow"] <= pool["pool_size"]  # the demo's pool of 4 is exhausted
    hpa = proposed(p, "hpa-on-latency")
    assert "http_request_duration_seconds_bucket" in hpa.success_metric
    assert "maxReplicas: 40" in hpa.commands[0]  # 80 % of 200 connections ÷ 4 per pod
