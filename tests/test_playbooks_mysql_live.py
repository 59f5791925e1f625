"""Every MySQL command the plans print, run against a real MariaDB (and every PromQL they print
against a Prometheus scraping a real mysqld_exporter): the SQL parses and names tables, views
and variables that exist; the metric names are ones mysqld_exporter really exports."""

from __future__ import annotations

import re
import subprocess
import time

import pytest
import requests
from test_playbooks import plan, proposed
from test_playbooks_mysql import FIX_TWINS, TWINS, _fix_rca, _mysql

from testing.backends import mariadb
from triage.playbooks import load_library

pytestmark = pytest.mark.skipif(bool(mariadb.available()),
                                reason=f"missing {', '.join(mariadb.available())} (scripts/test installs them)")

JOB = "orders"   # the plans' {database} for the service `orders`


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    wd = tmp_path_factory.mktemp("mysqlplans")
    started: list = []
    try:
        server = mariadb.start_mariadb(wd)
        started.append(server)
        server.sql("CREATE DATABASE orders;"
                   "CREATE TABLE orders.events (id INT PRIMARY KEY, available INT NOT NULL,"
                   " version INT NOT NULL DEFAULT 0) ENGINE=InnoDB;"
                   "INSERT INTO orders.events (id, available) VALUES (1, 10), (2, 0);"
                   "SELECT * FROM orders.events WHERE available > 0;")
        exporter = mariadb.start_exporter(server, wd, collectors=["collect.info_schema.tables"])
        started.append(exporter)
        prom = mariadb.start_scraping_prometheus({JOB: exporter.url.removeprefix("http://")}, wd)
        started.append(prom)
        deadline_scrapes(prom)
        yield server, prom
    finally:
        for backend in reversed(started):
            backend.stop()


def deadline_scrapes(prom, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = requests.get(f"{prom.url}/api/v1/query", params={"query": "mysql_up"}, timeout=5).json()
        if r["data"]["result"]:
            return
        time.sleep(0.5)
    raise AssertionError("mysqld_exporter never scraped")


def _mysql_plans():
    library = load_library()
    health = {"schema": "triage.health/v1", "status": "critical", "skipped": [], "findings": [
        {"kind": "endpoint", "name": "http://orders-db.shop:9104/metrics", "namespace": None,
         "check": "endpoint.check", "status": "critical", "reason": "DependencyDown", "detail": "down"}]}
    out = []
    for bottleneck in sorted(set(TWINS) | set(FIX_TWINS) | {"external_dependency"}):
        for phase in ("mitigate", "fix"):
            out.extend(proposed(plan(library, rca=_mysql(_fix_rca(bottleneck)), health=health, phase=phase)))
    return {s.step.full_id: s for s in out}.values()


def _sql_of(command: str) -> str | None:
    """The SQL of a `mysql ... -e "..."` command line; None for the ProxySQL admin (not a MariaDB)."""
    if not command.startswith("mysql ") or "-P 6032" in command:
        return None
    m = re.search(r'-e "(.*)"', command, re.S)
    assert m, command
    return m.group(1).replace("\\G", ";")


def _promql(text: str) -> list[str]:
    return re.findall(r"promtool query instant \S+ '(.*)'", text)


def test_every_mysql_command_of_the_plans_runs_on_mariadb(lab):
    server, _ = lab
    ran = 0
    for step in _mysql_plans():
        for command in step.commands:
            sql = _sql_of(command)
            if sql is None:
                continue
            # KILL lines are produced by the first query and piped into a second client: run the producer
            try:
                server.sql(sql, database="orders")
            except Exception as e:  # noqa: BLE001 - the message names the statement
                pytest.fail(f"{step.step.full_id}: {command}\n{e}")
            ran += 1
    assert ran >= 15, ran


def test_the_online_index_and_analyze_forms_named_in_the_fix_run_on_mariadb(lab):
    server, _ = lab
    [step] = [s for s in _mysql_plans() if s.step.full_id.endswith("/index-hot-queries-mysql")]
    assert any("ALGORITHM=INPLACE, LOCK=NONE" in c and "ANALYZE FORMAT=JSON" in c for c in step.commands)
    out = server.sql("ANALYZE FORMAT=JSON SELECT * FROM events WHERE available > 0;"
                     "ALTER TABLE events ADD INDEX events_available (available), ALGORITHM=INPLACE, LOCK=NONE;"
                     "SHOW INDEX FROM events;", database="orders")
    assert '"r_rows"' in out and "events_available" in out


def test_every_promql_of_the_mysql_plans_is_valid_and_names_exported_families(lab):
    _, prom = lab
    checked = 0
    for step in _mysql_plans():
        metrics = [step.success_metric] if step.success_metric else []
        for query in [q for c in step.commands for q in _promql(c)] + metrics:
            r = requests.get(f"{prom.url}/api/v1/query", params={"query": query}, timeout=10).json()
            assert r["status"] == "success", (step.step.full_id, query, r)
            if "mysql_" in query:
                assert r["data"]["result"], (step.step.full_id, query)   # the family is exported
                checked += 1
    assert checked >= 4, checked


def test_the_client_is_the_real_one():
    assert subprocess.run([mariadb.CLIENT_BIN, "--version"], capture_output=True).returncode == 0
