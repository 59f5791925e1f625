"""The incident lab on MariaDB, live: row-lock contention and the server's connection limit.

One lab runs the two MySQL scenario stacks side by side, each booking worker
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
from lab import mariadb as lab_mariadb
from lab.scenarios import LIVE_MYSQL, SCENARIOS
from testing.cli import run_cli
from tests.conftest import need

pytestmark = pytest.mark.lab_live

WARMUP, BASELINE, INCIDENT = 30.0, 120.0, 120.0
WINDOW, BASE = "2m", "2m"


def _need_lab() -> None:
    need("prometheus")
    missing = lab_mariadb.available()
    if missing:
        pytest.skip(f"the MySQL lab needs MariaDB and mysqld_exporter: missing {', '.join(missing)}")
    why = cgroups.available()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"the live lab needs cgroup v1 as root: {why}")
        pytest.skip(f"the live lab needs cgroup v1 as root: {why}")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    _need_lab()
    from lab.runner import Lab

    workdir = tmp_path_factory.mktemp("lab-live-mysql")
    lab = Lab([SCENARIOS[name] for name in LIVE_MYSQL], workdir=workdir,
              say=lambda m: print(f"[lab] {m}", flush=True))
    out: dict = {"pids": [], "cgroups": []}
    with lab:
        at = lab.run_phases(WARMUP, BASELINE, INCIDENT)
        config = lab.triage_config(workdir / "triage.yaml")
        for st in lab.stacks:
            assert st.mariadb is not None and st.mariadb.exporter is not None
            out["pids"] += [p.pid for p in (st.worker, st.bank) if p is not None]
            out["pids"] += [st.mariadb.server.pid, st.mariadb.exporter.pid]
            out["cgroups"] += [str(p) for p in st.cgroup.paths.values()]
            raw: dict = {"checks": lab.check(st, at, WINDOW)}
            result = run_cli(["rca", "--prometheus-url", lab.prometheus_url, "--config", str(config),
                              "--service", st.service, "--at", str(int(at)), "--window", WINDOW,
                              "--baseline", BASE, "-o", "json"])
            raw["rca"] = json.loads(result.stdout) if result.stdout.strip() else {"stderr": result.stderr}
            out[st.scenario.name] = raw
            cands = raw["rca"].get("candidates") or []
            print(f"[lab] {st.scenario.name}: triage {raw['rca'].get('bottleneck')} "
                  f"{raw['rca'].get('confidence')}; candidates "
                  + ", ".join(f"{c.get('bottleneck')}={c.get('score')}" for c in cands[:3])
                  + "; checks " + ", ".join(f"{c['check']}={c['observed']}" for c in raw["checks"]), flush=True)
    return out


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
