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
