"""The incident lab on MariaDB, live: row-lock contention and the server's connection limit.

One lab runs the two MySQL scenario stacks side by side (beside the PostgreSQL scenarios of
tests/test_lab_live.py: one lab for the session, tests/lab_live_run.py), each booking worker
(``lab.app_mysql``, PyMySQL) on a MariaDB server of its own with its own mysqld_exporter,
in its own cgroup, one Prometheus scraping everything every second: 30 s warm-up, 2 min
baseline, 2 min incident. Each incident is checked on its raw signals first (InnoDB
row-lock waits really appear; the server's sessions really reach max_connections and
requests really wait for a connection), then `triage rca` must name it and plan with the
MySQL twins. Afterwards nothing the lab started may be left running. Skips only when
MariaDB, mysqld_exporter or the rest of the lab (Prometheus, cgroup v1 as root) is absent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lab import cgroups
from lab.scenarios import LIVE_MYSQL
from tests.conftest import need

pytestmark = pytest.mark.lab_live


def _need_lab() -> None:
    from tests.lab_live_run import mysql_missing

    need("prometheus")
    missing = mysql_missing()
    if missing:
        pytest.skip(f"the MySQL lab needs {missing}")
    why = cgroups.available()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"the live lab needs cgroup v1 as root: {why}")
        pytest.skip(f"the live lab needs cgroup v1 as root: {why}")


@pytest.fixture(scope="module")
def live(live_lab):
    """The MariaDB scenarios of the session's one lab (the PostgreSQL ones ran beside them)."""
    _need_lab()
    assert all(name in live_lab for name in LIVE_MYSQL), live_lab.get("left_out")
    return live_lab


def _verdict(live, name: str, expected: str) -> dict:
    checks = live[name]["checks"]
    assert checks and all(c["ok"] for c in checks), json.dumps(checks, indent=1)
    payload = live[name]["rca"]
    assert payload.get("bottleneck") == expected, json.dumps(payload, indent=1)[:4000]
    return payload


def _plan_speaks_mysql(doc: dict, steps: tuple[str, ...]) -> None:
    from test_playbooks import plan, proposed

    from triage.playbooks import load_library
    from triage.playbooks.context import database_engine

    assert database_engine(doc) == "mysql"
    chosen = proposed(plan(load_library(), rca=doc))
    ids = {s.step.full_id.rsplit("/", 1)[-1] for s in chosen}
    assert set(steps) <= ids, ids
    assert not any(c.startswith("psql") for s in chosen for c in s.commands)


def test_mysql_lock_contention(live):
    doc = _verdict(live, "mysql-lock-contention", "lock_contention")
    _plan_speaks_mysql(doc, ("blocking-tree-mysql", "end-blockers-mysql"))


def test_mysql_connection_limit(live):
    doc = _verdict(live, "mysql-connection-limit", "db_pool_exhaustion")
    _plan_speaks_mysql(doc, ("find-connection-holders-mysql",))


def test_everything_the_lab_started_is_gone(live):
    for pid in live["pids"]:
        assert not Path(f"/proc/{pid}").exists() or _zombie(pid), pid
    for path in live["cgroups"]:
        assert not Path(path).exists(), path


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True
