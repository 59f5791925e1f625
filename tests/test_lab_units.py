"""The lab's parts: labels, the exposition of cgroup counters, the recording format, the
loopback guard, and that a lab stops everything it started when it fails or is interrupted."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab import agent, record
from lab.app import operation_of
from tests.conftest import need

ROOT = Path(__file__).resolve().parent.parent


def test_operation_label_is_the_statement_verb_and_locking_reads_count_as_writes():
    assert operation_of("SELECT id FROM events WHERE id = %s") == "select"
    assert operation_of("  update events SET x = 1") == "update"
    assert operation_of("INSERT INTO bookings VALUES (1)") == "insert"
    assert operation_of("SELECT tickets_remaining FROM events WHERE id = %s FOR UPDATE") == "update"
    assert operation_of("SELECT 1 FROM t FOR NO KEY UPDATE") == "update"
    assert operation_of("VACUUM") == "other"


def _fake_cgroup(root: Path) -> dict[str, str]:
    cpu, acct, mem = root / "cpu", root / "cpuacct", root / "memory"
    for d in (cpu, acct, mem):
        d.mkdir(parents=True)
    (cpu / "cpu.stat").write_text("nr_periods 1000\nnr_throttled 640\nthrottled_time 52000000000\n")
    (cpu / "cpu.cfs_quota_us").write_text("50000\n")
    (cpu / "cpu.cfs_period_us").write_text("100000\n")
    (acct / "cpuacct.usage").write_text("123500000000\n")
    (mem / "memory.usage_in_bytes").write_text(str(200 << 20))
    (mem / "memory.stat").write_text(f"total_inactive_file {20 << 20}\ntotal_rss {170 << 20}\n")
    (mem / "memory.limit_in_bytes").write_text(str(256 << 20))
    (mem / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    return {"cpu": str(cpu), "cpuacct": str(acct), "memory": str(mem)}


def test_agent_speaks_cadvisor_and_kube_state_metrics(tmp_path):
    containers = [{"namespace": "lab", "pod": "booking-abc-xyz", "container": "booking", "deployment": "booking",
                   "id": "/triage-lab-1-booking", "cgroup": _fake_cgroup(tmp_path), "restarts": 2,
                   "last_terminated_reason": "OOMKilled", "generation": 3, "cpu_limit": 0.5,
                   "memory_limit": 256 << 20}]
    text = agent.cadvisor(containers)
    values = {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\w+)\{[^}]*\} (\S+)$", text, re.M)}
    assert values["container_cpu_usage_seconds_total"] == 123.5
    assert values["container_spec_cpu_quota"] == 50000
    assert values["container_spec_cpu_period"] == 100000
    assert values["container_cpu_cfs_periods_total"] == 1000
    assert values["container_cpu_cfs_throttled_periods_total"] == 640
    assert values["container_memory_working_set_bytes"] == 180 << 20     # usage minus inactive file
    assert values["container_spec_memory_limit_bytes"] == 256 << 20
    assert values["container_oom_events_total"] == 2
    assert 'namespace="lab"' in text and 'pod="booking-abc-xyz"' in text and 'container="booking"' in text
    ksm = agent.kube_state(containers)
    assert re.search(r'^kube_pod_container_status_restarts_total\{[^}]*container="booking"[^}]*\} 2$', ksm, re.M)
    assert re.search(r'^kube_pod_container_status_last_terminated_reason\{[^}]*reason="OOMKilled"[^}]*\} 1$', ksm,
                     re.M)
    assert re.search(r'^kube_deployment_metadata_generation\{namespace="lab",deployment="booking"\} 3$', ksm, re.M)


def _series(name: str, labels: dict, values: list[tuple[float, float]]) -> dict:
    return {"metric": {"__name__": name, **labels}, "values": [[t, str(v)] for t, v in values]}


def test_recording_format_backfills_and_answers_queries(tmp_path):
    need("prometheus")
    need("promtool")
    from testing.backends import prometheus_from_openmetrics

    t0 = 1_790_000_000
    ts = [t0 + 5 * i for i in range(40)]
    lab_ = {"service": "booking", "namespace": "lab", "pod": "booking-1", "instance": "127.0.0.1:1", "job": "booking"}
    series = [_series("http_requests_total", {**lab_, "handler": "/book", "method": "POST", "status": "201"},
                      [(t, 10.0 * i) for i, t in enumerate(ts)]),
              _series("db_connection_pool_used", lab_, [(t, 4.0) for t in ts]),
              _series("db_connection_pool_size", lab_, [(t, 4.0) for t in ts])]
    for le, share in (("0.1", 0.5), ("0.5", 0.9), ("+Inf", 1.0)):
        series.append(_series("http_request_duration_seconds_bucket",
                              {**lab_, "handler": "/book", "method": "POST", "le": le},
                              [(t, 10.0 * i * share) for i, t in enumerate(ts)]))
    series.append(_series("http_request_duration_seconds_count", {**lab_, "handler": "/book", "method": "POST"},
                          [(t, 10.0 * i) for i, t in enumerate(ts)]))
    series.append(_series("http_request_duration_seconds_sum", {**lab_, "handler": "/book", "method": "POST"},
                          [(t, 1.5 * i) for i, t in enumerate(ts)]))
    text = record.openmetrics(series)
    assert text.endswith("# EOF\n")
    assert "# TYPE http_requests counter" in text and "# TYPE http_request_duration_seconds histogram" in text
    rec = tmp_path / "rec"
    record.write(rec, text, {"service": "booking", "bottleneck": "none", "at": "2026-09-21T14:16:35Z",
                             "window": "1m", "baseline": "1m"})
    assert record.load(rec)[0] == text
    with prometheus_from_openmetrics(text, tmp_path / "prom") as backend:
        at = ts[-1]
        rate = backend.query('sum(rate(http_requests_total{service="booking"}[1m]))', at)
        assert abs(float(rate[0]["value"][1]) - 2.0) < 1e-6
        p50 = backend.query('histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket[1m])))',
                            at)
        assert abs(float(p50[0]["value"][1]) - 0.1) < 1e-6
        ratio = backend.query('max(db_connection_pool_used / db_connection_pool_size)', at)
        assert float(ratio[0]["value"][1]) == 1.0


def test_load_generator_refuses_anything_but_loopback():
    r = subprocess.run([sys.executable, "-m", "lab.load", "--url", "http://10.1.2.3:8000", "--rate", "1",
                        "--duration", "1"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode != 0 and "loopback" in r.stderr


def _lab_ready() -> None:
    from lab import cgroups

    need("prometheus")
    need("prometheus-postgres-exporter")
    if not any(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        need("initdb")
    why = cgroups.available()
    if why:
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_a_failing_lab_stops_everything_it_started(tmp_path, monkeypatch):
    _lab_ready()
    from lab.procs import LabError
    from lab.runner import Lab
    from lab.scenarios import SCENARIOS

    started: dict = {}

    def boom(self, *args):
        started["pids"] = [p.pid for st in self.stacks for p in (st.worker, st.bank)] + [self.pg.proc.pid]
        started["cgroups"] = [p for st in self.stacks for p in st.cgroup.paths.values()]
        raise LabError("prometheus failed to start (on purpose)")

    monkeypatch.setattr(Lab, "_start_prometheus", boom)
    with pytest.raises(LabError, match="on purpose"):
        with Lab([SCENARIOS["none"]], workdir=tmp_path / "lab", say=lambda m: None):
            pass
    assert started["pids"]
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in started["pids"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in started["pids"] if _alive(p)]
    assert not [p for p in started["cgroups"] if p.exists()]


def test_ctrl_c_stops_everything(tmp_path):
    _lab_ready()
    # Started the way a script's background job is (``cmd &`` without job control): SIGINT
    # ignored. Ctrl-C must still stop the lab (CI ran into exactly this).
    proc = subprocess.Popen([sys.executable, "-m", "lab", "up", "none", "--minutes", "2"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        lines = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl-C stops everything" in line:
                break
        assert any("Ctrl-C" in x for x in lines), "".join(lines) + proc.stderr.read() if proc.poll() else lines
        url = next(x.split()[1] for x in lines if x.startswith("prometheus"))
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            # SIGTERM runs the lab's own cleanup; SIGKILL only if that hangs.
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    assert proc.returncode == 130, err
    workdir = re.search(r"workdir (\S+)", err).group(1)
    assert not Path(workdir).exists()
    leftovers = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if workdir in text:
            leftovers.append(text)
    assert not leftovers
    pg_port = int(re.search(r"postgres 15 on 127\.0\.0\.1:(\d+)", err).group(1))
    prom_port = int(url.rsplit(":", 1)[1])
    for port in (pg_port, prom_port):
        with socket.socket() as s, pytest.raises(OSError):
            s.settimeout(2)
            s.connect(("127.0.0.1", port))


def test_a_worker_whose_port_was_taken_is_started_again_on_new_ports(monkeypatch):
    """Ports are free when chosen; a test run beside this one may bind one before the worker does."""
    from lab import runner
    from lab.procs import LabError

    ports = iter(range(40000, 40010))
    monkeypatch.setattr(runner, "free_port", lambda: next(ports))
    tried = []

    def spawn(self, st):
        tried.append((st.port, st.metrics_port))
        if len(tried) == 1:
            raise LabError("worker[booking]: exited with code 1\nOSError: [Errno 98] Address already in use")
        return "worker"

    monkeypatch.setattr(runner.Lab, "_spawn_worker", spawn)
    st = type("St", (), {})()
    lab = object.__new__(runner.Lab)          # no stacks started: only the port loop is under test
    assert lab._spawn_on_free_ports(st) == "worker"
    assert tried == [(40000, 40001), (40002, 40003)]

    def other_failure(self, st):
        raise LabError("worker[booking]: exited with code 1 (a bad DSN)")

    monkeypatch.setattr(runner.Lab, "_spawn_worker", other_failure)
    with pytest.raises(LabError, match="bad DSN"):
        lab._spawn_on_free_ports(st)
