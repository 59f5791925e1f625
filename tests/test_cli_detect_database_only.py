"""`triage detect` on a Prometheus that holds database exporters only (mysqld_exporter's families,
no HTTP server metrics): it reports and judges the database signals it has per service, says the
user-facing signals are missing by name, and exits by what it found (0/1/2), not 3 — an answer
with no series is not a failure. A database query that fails there still calls nobody ok (exit 3)."""

from __future__ import annotations

import json

import pytest
import yaml

from testing.backends import prometheus_from_openmetrics
from testing.cli import run_cli
from testing.servers.fault_proxy import FaultProxy, Reply
from tests.conftest import need

pytestmark = pytest.mark.backend
END = 1_794_340_800          # 2026-11-10T20:00:00Z
AT = "2026-11-10T20:00:00Z"
STEP = 15
MAX_CONNECTIONS = 200


def _connected(job: str, t: int) -> float:
    # orders' connections climb to 97 % of max_connections in the last 10 minutes; billing stays at 10 %
    if job == "orders" and t > END - 600:
        return 0.97 * MAX_CONNECTIONS
    return 0.10 * MAX_CONNECTIONS + (t // STEP) % 3


def openmetrics() -> str:
    times = range(END - 90 * 60, END + 1, STEP)
    jobs = ("orders", "billing")
    families = {
        "mysql_up": lambda job, t: 1,
        "mysql_global_status_threads_connected": _connected,
        "mysql_global_variables_max_connections": lambda job, t: MAX_CONNECTIONS,
        "mysql_global_status_innodb_row_lock_current_waits": lambda job, t: 0,
        "mysql_global_status_threads_running": lambda job, t: 3,
    }
    out = []
    for name, value in families.items():
        out.append(f"# TYPE {name} gauge")
        for job in jobs:
            for t in times:
                out.append(f'{name}{{job="{job}",instance="{job}-db:9104"}} {value(job, t)} {t}')
    out.append("# EOF")
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def dbonly(tmp_path_factory):
    need("prometheus")
    need("promtool")
    with prometheus_from_openmetrics(openmetrics(), tmp_path_factory.mktemp("dbonly")) as prom:
        yield prom


def _config(tmp_path, url: str):
    path = tmp_path / "triage.yaml"
    path.write_text(yaml.safe_dump({"prometheus": {"url": url, "timeout": "5s"}, "services": {
        "orders": {"namespace": "shop", "database": "orders", "tier": 1},
        "billing": {"namespace": "shop", "database": "billing", "tier": 2}}}))
    return path


def _detect(cfg, service: str, *extra: str):
    return run_cli(["detect", "--config", str(cfg), "--service", service, "--at", AT, *extra])


def test_database_signals_decide_and_the_missing_user_signals_are_named(dbonly, tmp_path):
    cfg = _config(tmp_path, dbonly.url)
    r = _detect(cfg, "orders", "-o", "json")
    assert r.code == 2, (r.code, r.stderr)
    [svc] = json.loads(r.stdout)["services"]
    signals = svc["signals"]
    assert svc["status"] == "critical" and svc["severity"] in ("P0", "P1")
    assert signals["db_connections_ratio"]["status"] == "critical"
    assert signals["db_connections_ratio"]["window"] == pytest.approx(0.97, abs=0.01)
    assert "mysql_global_status_threads_connected" in signals["db_connections_ratio"]["query"]
    assert {"latency_p95", "error_ratio"} <= set(svc["missing_signals"])
    assert "user impact unknown" in svc["affected"] and "latency_p95" in svc["affected"]

    healthy = _detect(cfg, "billing", "-o", "json")
    assert healthy.code == 0, (healthy.code, healthy.stderr)
    [svc] = json.loads(healthy.stdout)["services"]
    assert svc["status"] == "ok" and "db_connections_ratio" in svc["signals"]
    assert "error_ratio" in svc["affected"]

    table = _detect(cfg, "orders")
    assert table.code == 2 and "db_connections_ratio" in table.stdout and "user impact unknown" in table.stdout


def test_a_failed_database_query_there_is_never_ok(dbonly, tmp_path):
    def fault(r):
        if "mysql_global_status_threads_connected" in r.query:
            return Reply(500, {"status": "error", "errorType": "timeout", "error": "query timed out"})
        return None

    with FaultProxy(dbonly.url, fault) as proxy:
        r = _detect(_config(tmp_path, proxy.url), "billing", "-o", "json")
    assert r.code == 3, (r.code, r.stdout[:300], r.stderr)
    assert "db_connections_ratio query failed" in r.stderr, r.stderr
