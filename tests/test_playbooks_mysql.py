"""MySQL/MariaDB commands in the plans: chosen when the rca's database signals were answered by
mysqld_exporter's families (`database_engine == "mysql"`), Postgres' otherwise, never both."""

from __future__ import annotations

import pytest
from test_playbooks import assert_rendered, plan, proposed, rca_doc

from triage.playbooks import load_library
from triage.playbooks.context import database_engine

MYSQL_QUERY = ('max by (database) (label_join(max by (job) (mysql_global_status_threads_connected{job=~"orders"} '
               '/ mysql_global_variables_max_connections{job=~"orders"}), "database", "", "job"))')
# bottleneck → the steps that have a MySQL twin
TWINS = {
    "lock_contention": ("blocking-tree", "end-blockers"),
    "db_latency": ("slow-queries", "cancel-long-queries", "no-scale-out"),
    "db_pool_exhaustion": ("find-connection-holders", "end-idle-transactions"),
    "connection_churn": ("confirm-churn",),
}


@pytest.fixture(scope="module")
def library():
    return load_library()


def _mysql(doc: dict) -> dict:
    doc["signals"]["db_connections_ratio"]["query"] = MYSQL_QUERY
    return doc


def _ids(p) -> set[str]:
    return {s.step.full_id.rsplit("/", 1)[-1] for s in proposed(p)}


def test_the_engine_is_read_from_the_family_that_answered():
    assert database_engine(rca_doc("lock_contention")) == "postgres"
    assert database_engine(_mysql(rca_doc("lock_contention"))) == "mysql"
    assert database_engine({}) == "postgres"
    assert database_engine({"signals": {"db_lock_waits": {"query": None}}}) == "postgres"


@pytest.mark.parametrize("bottleneck", sorted(TWINS))
def test_mysql_services_get_mysql_commands_and_no_psql(library, bottleneck):
    p = plan(library, rca=_mysql(rca_doc(bottleneck)))
    ids = _ids(p)
    for step in TWINS[bottleneck]:
        assert f"{step}-mysql" in ids and step not in ids, ids
    for step in proposed(p):
        assert_rendered(step)
        assert not any("psql" in c or "pg_" in c for c in step.commands), (step.step.full_id, step.commands)
    assert any("mysql -" in c for s in proposed(p) for c in s.commands)


@pytest.mark.parametrize("bottleneck", sorted(TWINS))
def test_postgres_services_keep_their_psql_commands(library, bottleneck):
    p = plan(library, rca=rca_doc(bottleneck))
    ids = _ids(p)
    for step in TWINS[bottleneck]:
        assert step in ids and f"{step}-mysql" not in ids, ids
    assert not any(c.startswith("mysql ") for s in proposed(p) for c in s.commands)


# ---- phase 4 (`triage fix`): the permanent fixes have MySQL twins too ----------------------

# bottleneck → the fix steps that have a MySQL twin
FIX_TWINS = {
    "lock_contention": ("atomic-update", "optimistic-locking"),
    "db_latency": ("index-hot-queries", "read-replica"),
    "db_pool_exhaustion": ("pgbouncer", "hold-connections-for-queries-only"),
    "connection_churn": ("pgbouncer",),
}
# what only a Postgres server (or its tools) understands
POSTGRES_ONLY = ("psql", "pg_", "pgbouncer", "patroni", "CONCURRENTLY", "EXPLAIN (ANALYZE", "ALTER SYSTEM",
                 "idle_in_transaction_session_timeout", "lock_timeout =", "::regclass", "datname")


def _postgres_only(step) -> list[str]:
    texts = (*step.commands, step.success_metric)
    return [w for w in POSTGRES_ONLY for t in texts if w.lower() in t.lower() and "innodb" not in w]


def _fix_rca(bottleneck: str) -> dict:
    # a read-heavy, slow database, so the replica step applies as well
    if bottleneck != "db_latency":
        return rca_doc(bottleneck)
    return rca_doc(bottleneck, db_read_latency_p95=(0.03, 0.9), db_write_latency_p95=(0.02, 0.1))


@pytest.mark.parametrize("bottleneck", sorted(FIX_TWINS))
def test_mysql_fix_plans_name_no_postgres_command(library, bottleneck):
    p = plan(library, rca=_mysql(_fix_rca(bottleneck)), phase="fix")
    ids = _ids(p)
    for step in FIX_TWINS[bottleneck]:
        twin = "proxysql-mysql" if step == "pgbouncer" else f"{step}-mysql"
        assert twin in ids and step not in ids, ids
    for step in proposed(p):
        assert_rendered(step)
        assert not _postgres_only(step), (step.step.full_id, _postgres_only(step), step.commands, step.success_metric)
    assert any(c.startswith("mysql ") for s in proposed(p) for c in s.commands)


@pytest.mark.parametrize("bottleneck", sorted(FIX_TWINS))
def test_postgres_fix_plans_are_unchanged(library, bottleneck):
    p = plan(library, rca=_fix_rca(bottleneck), phase="fix")
    ids = _ids(p)
    for step in FIX_TWINS[bottleneck]:
        twin = "proxysql-mysql" if step == "pgbouncer" else f"{step}-mysql"
        assert step in ids and twin not in ids, ids
    assert not any(c.startswith("mysql ") or "mysql_global_" in c for s in proposed(p) for c in s.commands)
    assert any("psql" in c for s in proposed(p) for c in s.commands)


def test_a_dead_mysql_dependency_gets_the_mysql_ha_fix(library):
    health = {"schema": "triage.health/v1", "status": "critical", "skipped": [], "findings": [
        {"kind": "endpoint", "name": "http://orders-db.shop:9104/metrics", "namespace": None, "check": "endpoint.check",
         "status": "critical", "reason": "DependencyDown", "detail": "DependencyDown seen"}]}
    mysql = _ids(plan(library, rca=_mysql(rca_doc("external_dependency")), health=health, phase="fix"))
    postgres = _ids(plan(library, rca=rca_doc("external_dependency"), health=health, phase="fix"))
    assert "database-ha-mysql" in mysql and "database-ha" not in mysql
    assert "database-ha" in postgres and "database-ha-mysql" not in postgres
