"""Start the lab, drive a baseline and an incident, ask triage, record, stop everything.

``Lab`` is a context manager: whatever happens inside (an exception, Ctrl-C, SIGTERM),
leaving it stops every process it started (process groups, newest first), removes the
cgroups it made and, unless asked to keep it, its temp dir. ``procs`` also stops them
at interpreter exit.

One lab holds one or more scenario stacks on shared infrastructure: one PostgreSQL 15
server (a database per stack), one postgres_exporter, one node agent (cAdvisor- and
kube-state-metrics-style metrics of the workers' cgroups) and one Prometheus scraping
everything every second. A stack is the booking worker (in its own cgroup, restarted
like a kubelet would when it dies) and its bank stub.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

from lab import cgroups, control, postgres, procs
from lab import mariadb as lab_mariadb
from lab.judge import free_port, rfc3339, run_checks, triage_rca
from lab.procs import LabError
from lab.scenarios import CPU_LIMIT_CORES, MEMORY_LIMIT_BYTES, NAMESPACE, Load, Scenario

# A worker whose port was taken between choosing it and binding it is started again on new ones.
PORT_ATTEMPTS = 3

ROOT = Path(__file__).resolve().parent.parent
EXPORTER_BINS = ("prometheus-postgres-exporter", "postgres_exporter")

# Seed 000's pages: "DB Connections at 90%" and "p95 > 3 s", plus seed 004's error-rate page.
# Evaluated every second by the lab's Prometheus; their ALERTS series go into recordings.
ALERT_RULES = {"groups": [{"name": "lab", "rules": [
    {"alert": "DBConnectionsHigh",
     "expr": "max by (service) (db_connection_pool_used / db_connection_pool_size) >= 0.9",
     "for": "15s", "labels": {"severity": "warning"},
     "annotations": {"summary": "{{ $labels.service }}: DB connection pool at {{ $value | humanizePercentage }}"}},
    {"alert": "HighLatencyP95",
     "expr": 'histogram_quantile(0.95, sum by (service, le) (rate(http_request_duration_seconds_bucket'
             '{job="booking"}[1m]))) > 3',
     "for": "30s", "labels": {"severity": "critical"},
     "annotations": {"summary": "{{ $labels.service }}: p95 latency {{ $value | humanizeDuration }}"}},
    {"alert": "HighErrorRate",
     "expr": 'sum by (service) (rate(http_requests_total{job="booking",status=~"5.."}[1m])) '
             '/ sum by (service) (rate(http_requests_total{job="booking"}[1m])) > 0.05',
     "for": "30s", "labels": {"severity": "critical"},
     "annotations": {"summary": "{{ $labels.service }}: {{ $value | humanizePercentage }} of requests fail"}},
]}]}


def _http() -> requests.Session:
    s = requests.Session()
    s.trust_env = False     # loopback only: never through a proxy
    return s


def _pod_name(service: str) -> str:
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    rs = "".join(secrets.choice(alphabet) for _ in range(9))
    suffix = "".join(secrets.choice(alphabet) for _ in range(5))
    return f"{service}-{rs}-{suffix}"


@dataclass
class Stack:
    """One scenario's service: worker + bank stub + database + cgroup."""

    scenario: Scenario
    service: str
    workdir: Path
    pod: str = ""
    bank_pod: str = ""
    port: int = 0
    metrics_port: int = 0
    bank_port: int = 0
    control_path: Path = Path()
    bank_control_path: Path = Path()
    cgroup: cgroups.Cgroup | None = None
    worker: procs.Proc | None = None
    bank: procs.Proc | None = None
    restarts: int = 0
    last_reason: str | None = None
    generation: int = 1
    ready: bool = True
    oom_seen: int = 0
    events: list[str] = field(default_factory=list)
    mariadb: lab_mariadb.MariaDB | None = None      # a MySQL stack's own server and exporter
    filler: ConnectionFiller | None = None

    @property
    def mysql(self) -> bool:
        return self.scenario.database_engine == "mysql"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Lab:
    def __init__(self, scenarios: Sequence[Scenario], *, workdir: Path | None = None, keep: bool = False,
                 say: Callable[[str], None] | None = None) -> None:
        if not scenarios:
            raise LabError("no scenario given")
        self.scenarios = list(scenarios)
        self.keep = keep
        self.say = say or (lambda msg: print(f"[lab] {msg}", file=sys.stderr, flush=True))
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="triage-lab-"))
        self.run_id = secrets.token_hex(3)
        self.stacks: list[Stack] = []
        self.pg: postgres.Postgres | None = None
        self.prometheus_url = ""
        self.agent_state = self.workdir / "agent-state.json"
        self._lock = threading.RLock()
        self._closing = threading.Event()
        self._watchers: list[threading.Thread] = []
        self.http = _http()
        names = [s.service for s in self.scenarios]
        for sc in self.scenarios:
            name = sc.service if names.count(sc.service) == 1 else f"{sc.service}-{sc.name}"
            self.stacks.append(Stack(sc, name, self.workdir / name))

    # ---- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> Lab:
        procs.install_handlers()
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        t0 = time.monotonic()
        need_cgroups = cgroups.available()
        if need_cgroups:
            raise LabError(f"the lab's workers run in a cgroup with a CPU quota and a memory limit: {need_cgroups}")
        self.say(f"workdir {self.workdir}")
        for st in self.stacks:
            st.workdir.mkdir(parents=True, exist_ok=True)
        exporter_port = None
        if any(not st.mysql for st in self.stacks):
            self.pg = postgres.start(self.workdir, free_port())
            self.say(f"postgres 15 on 127.0.0.1:{self.pg.port}")
            for st in self.stacks:
                if not st.mysql:
                    self.pg.create_database(st.service)
            exporter_port = self._start_exporter()
        for st in self.stacks:
            if st.mysql:
                st.mariadb = lab_mariadb.start(st.workdir, **st.scenario.database_settings)
                st.mariadb.create_database(st.service)
                self.say(f"{st.service}: mariadb on 127.0.0.1:{st.mariadb.port}, "
                         f"mysqld_exporter {st.mariadb.exporter_target}")
        agent_port = free_port()
        self._write_agent_state()
        agent = procs.start("agent", [sys.executable, "-m", "lab.agent", "--port", str(agent_port),
                                      "--state", str(self.agent_state)],
                            log_path=self.workdir / "agent.log", env=self._env(), cwd=ROOT)
        self._wait_http(f"http://127.0.0.1:{agent_port}/health", "node agent", agent)
        for st in self.stacks:
            self._start_stack(st)
        self._write_agent_state()
        self._start_prometheus(exporter_port, agent_port)
        self.say(f"ready in {time.monotonic() - t0:.0f}s: prometheus {self.prometheus_url}")

    def close(self) -> None:
        self._closing.set()
        for st in self.stacks:
            if st.filler is not None:
                st.filler.stop()
        procs.stop_all()
        if self.pg is not None:
            self.pg.stop()      # removes its data directory too
        for st in self.stacks:
            if st.mariadb is not None:
                st.mariadb.stop()
        for st in self.stacks:
            if st.cgroup is not None:
                st.cgroup.destroy()
        self.http.close()
        if self._own_workdir and not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
        elif self.keep:
            self.say(f"kept {self.workdir}")

    # ---- pieces ---------------------------------------------------------------------------
    def _env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        env["NO_PROXY"] = "127.0.0.1,localhost"
        env.update(extra)
        return env

    def _wait_http(self, url: str, what: str, proc: procs.Proc | None, timeout: float = 60) -> None:
        def ok() -> bool:
            return self.http.get(url, timeout=2).status_code == 200

        procs.wait_until(what, ok, timeout=timeout, proc=proc, interval=0.2)

    def _start_exporter(self) -> int:
        binary = next((b for b in EXPORTER_BINS if shutil.which(b)), None)
        if binary is None:
            raise LabError("postgres_exporter not found: apt-get install prometheus-postgres-exporter")
        assert self.pg is not None
        port = free_port()
        env = self._env(DATA_SOURCE_NAME=self.pg.url("postgres"))
        proc = procs.start("postgres_exporter", [binary, f"--web.listen-address=127.0.0.1:{port}",
                                                 "--log.level=warn"],
                           log_path=self.workdir / "postgres_exporter.log", env=env, cwd=self.workdir)
        self._wait_http(f"http://127.0.0.1:{port}/metrics", "postgres_exporter", proc)
        return port

    def _start_stack(self, st: Stack) -> None:
        sc = st.scenario
        st.pod, st.bank_pod = _pod_name(st.service), _pod_name("bank-api")
        st.control_path = st.workdir / "service.control.json"
        st.bank_control_path = st.workdir / "bank.control.json"
        control.write(st.control_path, {**control.SERVICE_DEFAULTS, **sc.service_settings})
        control.write(st.bank_control_path, {**control.BANK_DEFAULTS, **sc.bank_settings})
        st.bank_port = free_port()
        st.bank = procs.start(f"bank-api[{st.service}]",
                              [sys.executable, "-m", "lab.bank", "--port", str(st.bank_port)],
                              log_path=st.workdir / "bank.log", env=self._env(LAB_CONTROL=str(st.bank_control_path)),
                              cwd=ROOT)
        self._wait_http(f"http://127.0.0.1:{st.bank_port}/health", f"bank stub of {st.service}", st.bank)
        st.cgroup = cgroups.create(f"triage-lab-{self.run_id}-{st.service}", CPU_LIMIT_CORES, MEMORY_LIMIT_BYTES)
        worker = self._spawn_on_free_ports(st)
        watcher = threading.Thread(target=self._watch, args=(st,), name=f"watch-{st.service}", daemon=True)
        watcher.start()
        self._watchers.append(watcher)
        self.say(f"{st.service}: worker {st.url} (pid {worker.pid}, cgroup {CPU_LIMIT_CORES} CPU, "
                 f"{MEMORY_LIMIT_BYTES >> 20} MiB), bank stub :{st.bank_port}")

    def _spawn_on_free_ports(self, st: Stack) -> procs.Proc:
        """The worker on two ports free a moment ago: another process (a test run beside this one)
        may take one in between; then it exits with EADDRINUSE and is started again on new ones."""
        for attempt in range(PORT_ATTEMPTS):
            st.port, st.metrics_port = free_port(), free_port()
            try:
                return self._spawn_worker(st)
            except LabError as exc:
                if attempt + 1 == PORT_ATTEMPTS or "Address already in use" not in str(exc):
                    raise
        raise AssertionError("unreachable")

    def _spawn_worker(self, st: Stack) -> procs.Proc:
        assert st.cgroup is not None
        if st.mariadb is not None:
            dsn, app = st.mariadb.dsn(st.service), "lab.app_mysql"
        else:
            assert self.pg is not None
            dsn, app = self.pg.dsn(st.service, user=postgres.APP_USER), "lab.app"
        env = self._env(LAB_SERVICE=st.service, LAB_CONTROL=str(st.control_path), LAB_DATABASE_DSN=dsn,
                        LAB_BANK_URL=f"http://127.0.0.1:{st.bank_port}")
        argv = [sys.executable, "-m", "lab.cgexec", *st.cgroup.procs_files(), "--",
                sys.executable, "-m", app, "--port", str(st.port), "--metrics-port", str(st.metrics_port)]
        st.worker = procs.start(f"worker[{st.service}]", argv, log_path=st.workdir / "worker.log", env=env, cwd=ROOT)
        self._wait_http(st.url + "/ready", f"worker of {st.service}", st.worker)
        st.oom_seen = st.cgroup.usage().oom_kills
        return st.worker

    def _watch(self, st: Stack) -> None:
        """The kubelet's part: notice the worker died, say why (OOMKilled when the cgroup's
        oom_kill count rose), count the restart, start it again after a back-off."""
        while not self._closing.is_set():
            proc = st.worker
            if proc is None:
                return
            rc = proc.popen.wait()
            if self._closing.is_set() or proc.stopping:
                return
            oom = st.cgroup.usage().oom_kills if st.cgroup else 0
            reason = "OOMKilled" if oom > st.oom_seen else ("Error" if rc != 0 else "Completed")
            with self._lock:
                st.restarts += 1
                st.last_reason = reason
                st.ready = False
                st.oom_seen = oom
                self._write_agent_state()
            st.events.append(f"{rfc3339(time.time())} worker exited ({rc}): {reason}; restart #{st.restarts}")
            self.say(f"{st.service}: worker exited with {rc} ({reason}); restarting")
            procs.forget(proc)
            time.sleep(1.0)
            if self._closing.is_set():
                return
            try:
                if st.cgroup:
                    st.cgroup.kill_all()
                self._spawn_worker(st)
            except LabError as e:
                self.say(f"{st.service}: restart failed: {e}")
                time.sleep(2.0)
                continue
            with self._lock:
                st.ready = True
                self._write_agent_state()

    def _write_agent_state(self) -> None:
        containers = []
        for st in self.stacks:
            if st.cgroup is None:
                continue
            containers.append({
                "namespace": NAMESPACE, "pod": st.pod, "container": st.service, "deployment": st.service,
                "image": f"triage-lab/booking:{st.generation}", "id": st.cgroup.id,
                "cgroup": {k: str(v) for k, v in st.cgroup.paths.items()},
                "restarts": st.restarts, "last_terminated_reason": st.last_reason, "ready": st.ready,
                "generation": st.generation, "cpu_limit": CPU_LIMIT_CORES, "memory_limit": MEMORY_LIMIT_BYTES,
            })
        control.write(self.agent_state, {"containers": containers})

    def _start_prometheus(self, exporter_port: int | None, agent_port: int) -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            raise LabError("prometheus not found: apt-get install prometheus")
        wd = self.workdir / "prometheus"
        wd.mkdir(exist_ok=True)
        services, banks = [], []
        for st in self.stacks:
            services.append({"targets": [f"127.0.0.1:{st.metrics_port}"],
                             "labels": {"service": st.service, "namespace": NAMESPACE, "pod": st.pod}})
            banks.append({"targets": [f"127.0.0.1:{st.bank_port}"],
                          "labels": {"service": "bank-api", "namespace": NAMESPACE, "pod": st.bank_pod}})
        mysqld = [{"targets": [st.mariadb.exporter_target], "labels": {"namespace": NAMESPACE, "stack": st.service}}
                  for st in self.stacks if st.mariadb is not None]
        databases: list[dict[str, Any]] = []
        if exporter_port is not None:
            databases.append({"job_name": "postgres", "static_configs": [{"targets": [f"127.0.0.1:{exporter_port}"],
                                                                          "labels": {"namespace": NAMESPACE}}]})
        if mysqld:
            databases.append({"job_name": "mysqld", "static_configs": mysqld})
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [
                {"job_name": "booking", "static_configs": services},
                {"job_name": "bank-api", "static_configs": banks},
                *databases,
                {"job_name": "cadvisor", "metrics_path": "/metrics/cadvisor", "honor_labels": True,
                 "static_configs": [{"targets": [f"127.0.0.1:{agent_port}"]}]},
                {"job_name": "kube-state-metrics", "metrics_path": "/metrics/kube-state-metrics", "honor_labels": True,
                 "static_configs": [{"targets": [f"127.0.0.1:{agent_port}"]}]},
            ],
        }
        (wd / "rules.yml").write_text(yaml.safe_dump(ALERT_RULES, sort_keys=False))
        config["rule_files"] = [str(wd / "rules.yml")]
        (wd / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
        port = free_port()
        proc = procs.start("prometheus", [binary, f"--config.file={wd / 'prometheus.yml'}",
                                          f"--storage.tsdb.path={wd / 'data'}", "--storage.tsdb.retention.time=1d",
                                          f"--web.listen-address=127.0.0.1:{port}"],
                           log_path=wd / "prometheus.log", cwd=wd)
        self.prometheus_url = f"http://127.0.0.1:{port}"
        self._wait_http(self.prometheus_url + "/-/ready", "prometheus", proc)
        expected = len(self.stacks) * 2 + 2 + (exporter_port is not None) + len(mysqld)

        def all_up() -> bool:
            res = self.query("up")
            return len(res) == expected and all(float(r["value"][1]) == 1 for r in res)

        procs.wait_until(f"prometheus scraping all {expected} targets", all_up, timeout=60, proc=proc, interval=0.5)

    # ---- queries ----------------------------------------------------------------------------
    def query(self, promql: str, at: float | None = None) -> list[dict]:
        params: dict[str, Any] = {"query": promql}
        if at is not None:
            params["time"] = at
        r = self.http.get(self.prometheus_url + "/api/v1/query", params=params, timeout=30)
        body = r.json()
        if body.get("status") != "success":
            raise LabError(f"query failed: {promql}: {body.get('error')}")
        return body["data"]["result"]

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[dict]:
        r = self.http.get(self.prometheus_url + "/api/v1/query_range",
                          params={"query": promql, "start": str(start), "end": str(end), "step": str(step)}, timeout=60)
        body = r.json()
        if body.get("status") != "success":
            raise LabError(f"range query failed: {promql}: {body.get('error')}")
        return body["data"]["result"]

    def value(self, promql: str, at: float | None = None) -> float | None:
        res = self.query(promql, at)
        return float(res[0]["value"][1]) if res else None

    # ---- the incident -----------------------------------------------------------------------
    def start_load(self, st: Stack, load: Load, seconds: float, phase: str) -> procs.Proc:
        argv = [sys.executable, "-m", "lab.load", "--url", st.url, "--rate", str(load.rate),
                "--duration", str(seconds), "--book-share", str(load.book_share), "--hot-share", str(load.hot_share)]
        return procs.start(f"load[{st.service}:{phase}]", argv, log_path=st.workdir / f"load-{phase}.log",
                           env=self._env(), cwd=ROOT)

    def inject(self, st: Stack) -> None:
        """Switch the scenario's faults on, in the running processes."""
        sc = st.scenario
        if sc.fill_connections and st.mariadb is not None:
            st.filler = ConnectionFiller(st.mariadb.server.port, st.mariadb.app_password, st.service)
            st.filler.start()
        if sc.restock:
            import psycopg

            assert self.pg is not None
            with psycopg.connect(self.pg.dsn(st.service, user=postgres.APP_USER), autocommit=True) as conn:
                for event_id, tickets in sc.restock.items():
                    conn.execute("UPDATE events SET tickets_remaining = %s WHERE id = %s", (tickets, event_id))
        if sc.incident_bank:
            control.update(st.bank_control_path, **sc.incident_bank)
        if sc.incident_settings:
            control.update(st.control_path, **sc.incident_settings)
        if sc.deploy:
            with self._lock:
                st.generation += 1
                self._write_agent_state()
        st.events.append(f"{rfc3339(time.time())} incident: {sc.name}")

    def run_phases(self, warmup: float, baseline: float, incident: float) -> float:
        """Warm-up and baseline at the baseline load, then faults + the incident load.
        Returns ``at``: the end of the incident window (unix seconds, whole)."""
        loads = [self.start_load(st, st.scenario.baseline, warmup + baseline, "baseline") for st in self.stacks]
        self.say(f"baseline: {warmup + baseline:.0f}s ({warmup:.0f}s warm-up) at "
                 + ", ".join(f"{st.service} {st.scenario.baseline.rate:g} req/s" for st in self.stacks))
        self._sleep(warmup + baseline)
        for st in self.stacks:
            self.inject(st)
        incident_start = time.time()
        self.say(f"incident: {incident:.0f}s: "
                 + ", ".join(f"{st.service} → {st.scenario.name} at {st.scenario.incident.rate:g} req/s"
                             for st in self.stacks))
        loads += [self.start_load(st, st.scenario.incident, incident, "incident") for st in self.stacks]
        self._sleep(incident)
        at = float(int(incident_start + incident))
        # The last scrapes of the window land before anything is read.
        self._sleep(max(0.0, at + 3 - time.time()))
        for p in loads:
            p.stop(timeout=15)
        for st in self.stacks:
            if st.filler is not None:
                st.filler.stop()
        return at

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 1.0))

    # ---- what happened ------------------------------------------------------------------------
    def check(self, st: Stack, at: float, window: str) -> list[dict]:
        return run_checks(self.value, st.scenario.checks, st.service, at, window)

    def triage_config(self, path: Path) -> Path:
        services = {}
        for st in self.stacks:
            svc: dict[str, Any] = {"namespace": NAMESPACE, "database": st.service, "tier": 1,
                                   "depends_on": ["bank-api"]}
            if st.scenario.invariants:
                svc["invariants"] = [dict(i) for i in st.scenario.invariants]
            services[st.service] = svc
        path.write_text(yaml.safe_dump({"services": services}, sort_keys=False))
        return path

    def rca(self, st: Stack, at: float, window: str, baseline: str) -> dict | None:
        config = self.triage_config(self.workdir / "triage.yaml")
        return triage_rca(self.prometheus_url, st.service, at, window, baseline, config, self.workdir)




class ConnectionFiller:
    """Another client of a MySQL stack's server (a reporting job) that opens idle sessions
    until the server refuses them ("Too many connections") and keeps every slot it gets,
    trying again every 0.1 s; ``stop()`` closes them all."""

    def __init__(self, port: int, password: str, database: str, limit: int = 1000) -> None:
        self.port, self.password, self.database, self.limit = port, password, database, limit
        self.conns: list[Any] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"filler-{database}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        import pymysql

        while not self._stop.is_set() and len(self.conns) < self.limit:
            try:
                self.conns.append(pymysql.connect(host="127.0.0.1", port=self.port, user=lab_mariadb.APP_USER,
                                                  password=self.password, database=self.database,
                                                  connect_timeout=3))
            except pymysql.MySQLError:
                self._stop.wait(0.1)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for conn in self.conns:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing a session the server may have dropped
                pass
        self.conns.clear()
