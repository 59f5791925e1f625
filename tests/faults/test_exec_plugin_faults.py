"""kubeconfig `exec` credential plugins (issue 13, item 5): a plugin runs under the deadline of
`--timeout`, and whatever it does — never returns, is killed, fails, prints garbage or an endless
stream, leaves a child holding its output open — `health` reports kubernetes as skipped with the
reason and `mitigate --apply` records the action as failed; never a hang, never the client's raw
`ERROR:root:exec: …` log line on stderr.

These run `python -m triage` as a process (its own session, killed as a group past the limit):
the client logs through the root logger, which only shows in a real process's stderr, and a
plugin that hangs must not be left behind in the test run either.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from testing.cli import Result
from testing.k8s import load_logs, load_manifests
from tests.faults.conftest import check
from tests.faults.test_health_faults import ALL, FaultKubeAPI

REPO = Path(__file__).resolve().parents[2]
TOKEN = "exec-plugin-token-4a9e2c"
LIMIT = 20.0  # --timeout 2: a run still going after 20 s is hung (start-up under load is a few seconds)
CREDENTIAL = json.dumps({"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential",
                         "status": {"token": TOKEN}})

PLUGINS = {
    # name → (script body, what the skipped reason says)
    "never returns": ("exec sleep 3600", "did not answer within 2s"),
    "killed by SIGKILL": ("kill -9 $$", "killed by signal 9"),
    "exits 1 with a message": ("echo 'error: SSO session expired, run: sso login' >&2; exit 1",
                               "SSO session expired"),
    "prints something that is not JSON": ("echo 'not json at all'", "not an ExecCredential"),
    "prints JSON without a token": ("echo '{\"apiVersion\": \"client.authentication.k8s.io/v1beta1\", "
                                    "\"kind\": \"ExecCredential\", \"status\": {}}'", "no token"),
    "prints an endless stream": ("exec yes", "more than"),
    "leaves a child holding stdout, no answer": ("sleep 3600 & exec sleep 3600", "did not answer within 2s"),
    "command not found": (None, "not found"),
}


def plugin_kubeconfig(tmp_path: Path, server: str, body: str | None) -> Path:
    script = tmp_path / "plugin.sh"
    if body is None:
        command = str(tmp_path / "no-such-plugin")
    else:
        script.write_text(f"#!/bin/sh\necho $$ >> {tmp_path}/plugin.pids\n{body}\n")
        script.chmod(0o755)
        command = str(script)
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": server}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake", "namespace": "shop"}}],
        "users": [{"name": "fake", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": command, "interactiveMode": "Never"}}}],
    }))
    return path


def _limit_memory() -> None:
    # an endless plugin stream read whole would take the machine with it: 2 GiB of address space at most
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def run_process(args: list[str], env: dict[str, str], cwd: Path, limit: float = LIMIT) -> Result:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("TRIAGE_", "KUBECONFIG", "DOCKER_"))}
    full.update(env, PYTHONPATH=str(REPO), MALLOC_ARENA_MAX="2")
    out, err = cwd / ".stdout", cwd / ".stderr"
    with open(out, "wb") as o, open(err, "wb") as e:
        proc = subprocess.Popen([sys.executable, "-m", "triage", *args], stdin=subprocess.DEVNULL, stdout=o,
                                stderr=e, cwd=cwd, env=full, start_new_session=True, preexec_fn=_limit_memory)
        try:
            code = proc.wait(limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise AssertionError(f"`triage {' '.join(args)}` did not return within {limit:g}s:\n"
                                 f"{err.read_text(errors='replace')[-2000:]}") from None
    result = Result(code=code, stdout=out.read_text(errors="replace"), stderr=err.read_text(errors="replace"))
    out.unlink()
    err.unlink()
    return result


@pytest.fixture
def leftovers(tmp_path):
    """Every plugin process a cell started is gone by the end of the cell (and killed if not, by PID)."""
    yield
    pids = tmp_path / "plugin.pids"
    alive = []
    for pid in (int(p) for p in pids.read_text().split()) if pids.exists() else ():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        alive.append(pid)
        os.kill(pid, signal.SIGKILL)
    assert not alive, f"plugin processes left running: {alive}"


def _api():
    return FaultKubeAPI(load_manifests(), logs=load_logs(), tokens={TOKEN: ALL})


@pytest.mark.parametrize("case", list(PLUGINS))
def test_health_with_a_failing_exec_plugin(tmp_path, leftovers, case):
    body, phrase = PLUGINS[case]
    with _api() as api:
        kubeconfig = plugin_kubeconfig(tmp_path, api.url, body)
        result = run_process(["health", "--no-docker", "--timeout", "2", "-o", "json"],
                             {"KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path)}, tmp_path)
        lists = [p for p in api.paths() if p.endswith(("/pods", "/events"))]
    check(result, {3}, secrets=[TOKEN])
    assert "ERROR:root" not in result.stderr and "exec:" not in result.stderr, result.stderr
    payload = json.loads(result.stdout)
    [skip] = [s for s in payload["skipped"] if s["source"] == "kubernetes"]
    assert "exec plugin" in skip["reason"] and phrase in skip["reason"], skip
    assert lists == [], "listed the cluster without credentials"


def test_health_with_a_working_exec_plugin(tmp_path, leftovers):
    with _api() as api:
        kubeconfig = plugin_kubeconfig(tmp_path, api.url, f"echo '{CREDENTIAL}'")
        result = run_process(["health", "--no-docker", "--timeout", "2", "-o", "json"],
                             {"KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path)}, tmp_path)
    check(result, {2}, secrets=[TOKEN])
    payload = json.loads(result.stdout)
    assert any(f["reason"] == "CrashLoopBackOff" for f in payload["findings"])
    assert not [s for s in payload["skipped"] if s["source"] == "kubernetes"], payload["skipped"]


@pytest.mark.parametrize("case", ["never returns", "killed by SIGKILL"])
def test_apply_with_a_failing_exec_plugin(tmp_path, leftovers, case):
    """`mitigate --apply`: the action fails with the plugin's reason, within the deadline, recorded."""
    from tests.faults.test_apply_faults import record_for

    body, phrase = PLUGINS[case]
    rec = record_for(tmp_path, "scale")
    with _api() as api:
        kubeconfig = plugin_kubeconfig(tmp_path, api.url, body)
        result = run_process(["mitigate", "--from", str(rec), "--apply", "--yes", "--timeout", "2", "-o", "json"],
                             {"KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path)}, tmp_path)
    check(result, {2}, secrets=[TOKEN])
    assert "ERROR:root" not in result.stderr, result.stderr
    [action] = json.loads(result.stdout)["actions"]
    assert action["result"].startswith("failed: kubeconfig") and "exec plugin" in action["result"], action
    assert phrase in action["result"], action
    assert json.loads(rec.read_text())["actions"][-1]["result"] == action["result"]
