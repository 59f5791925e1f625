"""SIGTERM to a test run stops every server a fixture started. They lead sessions of their own
(outside pytest's process group), and SIGTERM's default action would end pytest with no finalizer:
scripts/test stopped mid-run used to leave a Prometheus running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import need

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.backend

INNER_TEST = '''
import os, time
from pathlib import Path

def test_sleeps_with_servers(prometheus_server, alertmanager_server):
    pids = f"{prometheus_server.pid} {alertmanager_server.pid}"
    Path(os.environ["PIDS_FILE"]).write_text(pids)
    time.sleep(600)
'''

INNER_SCRIPT = '''
import os, sys, time
from pathlib import Path
from testing.backends import alertmanager

server = alertmanager(sys.argv[1])
Path(os.environ["PIDS_FILE"]).write_text(str(server.pid))
time.sleep(600)
'''


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie nobody reaped yet is stopped


def _terminate_and_check(argv: list[str], tmp_path: Path, *, exits: tuple[int, ...]) -> None:
    """Run `argv` in a process group of its own, as scripts/test runs pytest, and stop it as
    scripts/test does: SIGTERM to that group once the servers are up."""
    pids_file = tmp_path / "pids"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRIAGE_", "PYTEST_"))}
    env.update(PIDS_FILE=str(pids_file), PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'tests'}")
    with open(tmp_path / "inner.log", "wb") as log:
        proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    pids: list[int] = []
    try:
        deadline = time.monotonic() + 240
        while not pids_file.exists() or not pids_file.read_text().strip():
            assert proc.poll() is None, (tmp_path / "inner.log").read_text()
            assert time.monotonic() < deadline, "the servers did not start"
            time.sleep(0.2)
        pids = [int(p) for p in pids_file.read_text().split()]
        assert all(_running(p) for p in pids)
        os.killpg(proc.pid, signal.SIGTERM)
        code = proc.wait(timeout=60)
        deadline = time.monotonic() + 15
        while any(_running(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [p for p in pids if _running(p)]
        assert left == [], f"still running after SIGTERM: {left}\n{(tmp_path / 'inner.log').read_text()[-2000:]}"
        assert code in exits, (code, (tmp_path / "inner.log").read_text()[-2000:])
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for pid in pids:  # what this test's own child started, by PID: never left behind
            if _running(pid):
                os.killpg(pid, signal.SIGKILL)


def test_sigterm_to_pytest_stops_the_servers_its_fixtures_started(tmp_path):
    need("prometheus")
    need("prometheus-alertmanager")
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER_TEST))
    argv = [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "-q", "-x",
            "--rootdir", str(tmp_path), "--basetemp", str(tmp_path / "bt"), str(tmp_path / "test_inner.py")]
    _terminate_and_check(argv, tmp_path, exits=(2,))  # pytest's "interrupted", after its finalizers


def test_sigterm_to_a_script_stops_the_servers_it_started(tmp_path):
    need("prometheus-alertmanager")
    (tmp_path / "inner.py").write_text(textwrap.dedent(INNER_SCRIPT))
    _terminate_and_check([sys.executable, str(tmp_path / "inner.py"), str(tmp_path / "work")], tmp_path,
                         exits=(-signal.SIGTERM,))  # then it ends as SIGTERM ended it before
