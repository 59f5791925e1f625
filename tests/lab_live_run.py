"""One live lab for the whole session: the PostgreSQL scenarios (tests/test_lab_live.py) and the
MariaDB ones (tests/test_lab_live_mysql.py) side by side, so their warm-up, baseline and incident
are waited for once (~5 min, instead of ~5 min for each module).

Each scenario's stack is checked on its raw signals, asked `triage rca` with the lab's own
triage.yaml, and the extra raw values the PostgreSQL tests assert on are read before the lab
stops. A group whose prerequisites are missing is left out (its module skips, or fails under CI,
as before); the group's name maps to the reason.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from lab import cgroups
from lab import mariadb as lab_mariadb
from lab.scenarios import LIVE, LIVE_MYSQL, SCENARIOS
from testing.cli import run_cli

WARMUP, BASELINE, INCIDENT = 30.0, 120.0, 120.0
WINDOW, BASE = "2m", "2m"


def postgres_missing() -> str | None:
    """Why the PostgreSQL scenarios cannot run here (a binary), or None."""
    for binary in ("prometheus", "initdb", "postgres"):
        if binary in ("initdb", "postgres") and any(Path("/usr/lib/postgresql").glob(f"*/bin/{binary}")):
            continue
        if shutil.which(binary) is None:
            return binary
    if not (shutil.which("prometheus-postgres-exporter") or shutil.which("postgres_exporter")):
        return "prometheus-postgres-exporter"
    return None


def mysql_missing() -> str | None:
    if shutil.which("prometheus") is None:
        return "prometheus"
    missing = lab_mariadb.available()
    return f"MariaDB and mysqld_exporter: missing {', '.join(missing)}" if missing else None


def _postgres_values(lab: Any, svc: str, at: float) -> dict[str, Any]:
    q = lab.value
    return {
        "throttled_increase_window": q(
            f'sum(increase(container_cpu_cfs_throttled_periods_total{{namespace="lab",container="{svc}"}}'
            f'[{WINDOW}]))', at),
        "throttled_increase_baseline": q(
            f'sum(increase(container_cpu_cfs_throttled_periods_total{{namespace="lab",container="{svc}"}}[{BASE}]))',
            at - INCIDENT),
        # The requests it served (what triage's rps reads), incident against baseline: the load
        # generator offers ×3, a machine starved by other work may not get that far.
        "served_rate_window": q(f'sum(rate(http_requests_total{{service="{svc}"}}[{WINDOW}]))', at),
        "served_rate_baseline": q(f'sum(rate(http_requests_total{{service="{svc}"}}[{BASE}]))', at - INCIDENT),
        "pool_used_max": q(f'max_over_time(db_connection_pool_used{{service="{svc}"}}[{WINDOW}])', at),
        "pool_size": q(f'max(db_connection_pool_size{{service="{svc}"}})', at),
        "bank_p95": q(f'histogram_quantile(0.95, sum by (le) (increase('
                      f'http_client_request_duration_seconds_bucket{{service="{svc}"}}[{WINDOW}])))', at),
        "bank_p95_baseline": q(f'histogram_quantile(0.95, sum by (le) (increase('
                               f'http_client_request_duration_seconds_bucket{{service="{svc}"}}[{BASE}])))',
                               at - INCIDENT),
    }


def run(workdir: Path) -> dict[str, Any]:
    """Run every scenario group this machine can run in one lab; what each stack showed, by
    scenario name, plus `pids`/`cgroups` (what must be gone afterwards) and `left_out`."""
    from lab.runner import Lab

    out: dict[str, Any] = {"pids": [], "cgroups": [], "left_out": {}}
    why = cgroups.available()
    groups = {"postgres": (LIVE, postgres_missing()), "mysql": (LIVE_MYSQL, mysql_missing())}
    names: list[str] = []
    for group, (scenarios, missing) in groups.items():
        reason = why or missing
        if reason:
            out["left_out"][group] = reason if why is None else f"the live lab needs cgroup v1 as root: {why}"
        else:
            names += scenarios
    if not names:
        return out
    lab = Lab([SCENARIOS[name] for name in names], workdir=workdir, say=lambda m: print(f"[lab] {m}", flush=True))
    with lab:
        out["prometheus"] = lab.prometheus_url
        at = lab.run_phases(WARMUP, BASELINE, INCIDENT)
        out["at"] = at
        config = lab.triage_config(workdir / "triage.yaml")
        for st in lab.stacks:
            name = st.scenario.name
            out["pids"] += [p.pid for p in (st.worker, st.bank) if p is not None]
            if st.mariadb is not None:
                out["pids"] += [st.mariadb.server.pid]
                if st.mariadb.exporter is not None:
                    out["pids"] += [st.mariadb.exporter.pid]
            out["cgroups"] += [str(p) for p in st.cgroup.paths.values()]
            raw: dict[str, Any] = {"checks": lab.check(st, at, WINDOW)}
            if name in LIVE:
                raw.update(_postgres_values(lab, st.service, at))
            result = run_cli(["rca", "--prometheus-url", lab.prometheus_url, "--config", str(config),
                              "--service", st.service, "--at", str(int(at)), "--window", WINDOW, "--baseline", BASE,
                              "-o", "json"])
            raw["rca"] = json.loads(result.stdout) if result.stdout.strip() else {"stderr": result.stderr}
            raw["rca_code"] = result.code
            out[name] = raw
            cands = raw["rca"].get("candidates") or []
            print(f"[lab] {name}: triage {raw['rca'].get('bottleneck')} {raw['rca'].get('confidence')} "
                  f"trigger {raw['rca'].get('trigger')}; candidates "
                  + ", ".join(f"{c.get('bottleneck')}={c.get('score')}" for c in cands[:3])
                  + "; checks " + ", ".join(f"{c['check']}={c['observed']}" for c in raw["checks"]), flush=True)
    return out
