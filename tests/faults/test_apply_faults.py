"""`--apply` (issue 8): nothing changes without a confirmation, an unattended `--apply` without
`--yes` is refused, only steps marked safe ever run, and every outcome — applied, declined,
failed, refused, interrupted — is what the incident record says afterwards.

The target is the Kubernetes API fake of testing/k8s/apply.py (the real `kubernetes` client
talks to it through a real kubeconfig; every request is kept), here with faults injected per
method. The prompt cells run the real program as a subprocess on a pseudo-terminal (`pty`), so
the answer, Ctrl-D and Ctrl-C reach it the way a terminal delivers them.
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from testing.cli import Result
from testing.k8s.apply import TOKEN, FakeKubeApply, _status, deployment
from tests.faults.conftest import check, free_port, run_bounded
from tests.test_cli_playbooks import write_record
from tests.test_playbooks import finding, health_doc, rca_doc

REPO = Path(__file__).resolve().parents[2]
AT = "2026-11-10T20:01:00Z"
SCALE_PATH = "/apis/apps/v1/namespaces/shop/deployments/orders/scale"
RESTART_PATH = "/apis/apps/v1/namespaces/shop/deployments/reviews"
PTY_LIMIT = 60.0   # a prompt cell that has not ended by then is hung (start-up under `nice` is ~1-2 s)
PROMPT = "[y/N]"


# ---- the target: the apply fake with faults ---------------------------------------------------


class FaultKube(FakeKubeApply):
    """`fault = (method, what)`: method "GET", "PATCH" or "*"; what an HTTP status to answer,
    "hang" (answer nothing until the test ends), "ignore" (a PATCH answered 200 with the
    object unchanged: an API server that dropped the change), or a callable returning
    (headers, chunks) to answer with. Requests are kept either way."""

    fault: tuple[str, Any] | None = None
    echo_token = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.released = threading.Event()
        # the base server polls for shutdown every 0.5 s; a cell should not wait that long to end
        self._thread = threading.Thread(target=lambda: self.server.serve_forever(poll_interval=0.05),
                                        name="fault-kube-apply", daemon=True)

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        super().__exit__(*exc)

    def patches(self) -> list[dict[str, Any]]:
        return [r for r in self.writes() if r["method"] == "PATCH"]

    def _handle(self, h, method: str) -> None:
        fault = self.fault
        if fault is None or fault[0] not in (method, "*"):
            return super()._handle(h, method)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        path = h.path.split("?", 1)[0]
        with self._lock:
            self.requests.append({"method": method, "path": path, "content_type": h.headers.get("Content-Type"),
                                  "body": json.loads(raw) if raw else None})
        what = fault[1]
        if callable(what):  # (headers, chunks): an answer of the cell's own (a bomb, an endless body)
            headers, chunks = what()
            h.send_response(200)
            for k, v in headers.items():
                h.send_header(k, v)
            h.end_headers()
            try:
                for chunk in chunks:
                    h.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            h.close_connection = True
            return
        if what == "hang":
            self.released.wait(30)
            return
        if what == "ignore":
            key = tuple(path.split("/")[5:8:2])  # (namespace, name)
            with self._lock:
                obj = json.loads(json.dumps(self.objects[key]))
            return self._send(h, 200, self._scale(obj) if path.endswith("/scale") else obj)
        reasons = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict", 500: "InternalError"}
        message = f"{method.lower()} is forbidden for this user"
        if self.echo_token:  # a proxy that quotes the request back: the token must not reach any output
            message += f" (request had Authorization: {h.headers.get('Authorization')})"
        self._send(h, what, _status(what, reasons.get(what, "Error"), message))


@pytest.fixture
def cluster(tmp_path):
    with FaultKube([deployment("orders", "shop", 2), deployment("reviews", "shop", 2)]) as fake:
        fake.kubeconfig_path = fake.kubeconfig(tmp_path / "kubeconfig")
        yield fake


def env_for(cluster: FaultKube, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"KUBECONFIG": str(cluster.kubeconfig_path), "HOME": str(tmp_path),
            "XDG_CONFIG_HOME": str(tmp_path / "xdg"), "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock", **extra}


# ---- records and what is around them --------------------------------------------------------


CONFIG = "services:\n  orders:\n    namespace: shop\n  reviews:\n    namespace: shop\n  web:\n    namespace: shop\n"


def record_for(tmp_path: Path, kind: str, **overrides: Any) -> Path:
    """An incident record whose one safe step is a scale of shop/orders or a rollout restart of shop/reviews,
    and the ./triage.yaml that names both services (what `--apply` may change is what the config names)."""
    (tmp_path / "triage.yaml").write_text(CONFIG)
    rec_dir = tmp_path / "inc"
    rec_dir.mkdir(exist_ok=True)
    if kind == "scale":
        rca = rca_doc("cpu_saturation", service="orders", **overrides)
    elif kind == "restart":
        rca = rca_doc("memory_pressure", service="reviews", **overrides)
    elif kind == "both":  # two safe steps: scale orders, then restart reviews
        a, b = rca_doc("cpu_saturation", service="orders"), rca_doc("memory_pressure", service="reviews")
        rca = {"schema": "triage.fleet/v1", "window": a["window"],
               "ranking": [{"service": "orders", "bottleneck": "cpu_saturation", "score": 0.9},
                           {"service": "reviews", "bottleneck": "memory_pressure", "score": 0.8}],
               "services": {"orders": a, "reviews": b}}
    else:
        rca = rca_doc(kind, service="orders", **overrides)
    return write_record(rec_dir / "incident.json", rca=rca)


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def assert_record(rec: Path, before: dict[str, bytes], appended: Sequence[str] = ()) -> list[dict[str, Any]]:
    """No file of the record's directory lost, added (no temp file left) or changed, except the
    record's `actions`, which gained exactly `appended` (result prefixes), in order."""
    after = snapshot(rec.parent)
    assert sorted(after) == sorted(before), f"files changed: {sorted(before)} -> {sorted(after)}"
    for name, data in before.items():
        if name != rec.name:
            assert after[name] == data, f"{name} was changed"
    if not appended:
        assert after[rec.name] == before[rec.name], "the record changed though nothing was done"
        return []
    old, new = json.loads(before[rec.name]), json.loads(after[rec.name])
    assert {k: v for k, v in new.items() if k != "actions"} == {k: v for k, v in old.items() if k != "actions"}
    added = new["actions"][len(old["actions"]):]
    assert new["actions"][:len(old["actions"])] == old["actions"]
    assert [a["result"].split(":")[0] for a in added] == list(appended), added
    for a in added:
        assert a["by"] == "triage --apply" and a["phase"] == "mitigate" and a["time"].endswith("Z")
    return added


class _Stdin:
    """What the in-process cells give the program as stdin: a pipe or a file, never a terminal."""

    def isatty(self) -> bool:
        return False

    def readline(self, *args: Any) -> str:
        raise AssertionError("the program read stdin: it asked a question no one can answer")

    read = readline

    def fileno(self) -> int:
        raise OSError("not a real file")


def run_piped(args: Sequence[str], env: dict[str, str], cwd: Path) -> Result:
    saved = sys.stdin
    sys.stdin = _Stdin()  # type: ignore[assignment]
    try:
        return run_bounded(list(args), env=env, cwd=cwd, limit=30)
    finally:
        sys.stdin = saved


# ---- the program on a pseudo-terminal ---------------------------------------------------------


class PtyRun:
    """`python -m triage ARGS` with stdin on a pty (its controlling terminal), stdout and stderr in
    files so they can be judged apart. `type` writes to the terminal as a keyboard does: b"\\x03"
    is Ctrl-C (the line discipline sends SIGINT), b"\\x04" at the start of a line is Ctrl-D (EOF)."""

    def __init__(self, args: Sequence[str], env: dict[str, str], cwd: Path) -> None:
        self.out, self.err = cwd / ".pty-stdout", cwd / ".pty-stderr"
        for f in (self.out, self.err):
            f.unlink(missing_ok=True)
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
        full_env.update(env)
        full_env["PYTHONPATH"] = str(REPO)
        argv = [sys.executable, "-m", "triage", *args]
        out, err = os.fsencode(self.out), os.fsencode(self.err)
        self.pid, self.master = pty.fork()
        if self.pid == 0:  # the child: only system calls until exec
            try:
                os.dup2(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
                os.dup2(os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 2)
                os.chdir(cwd)
                # A shell gives a foreground command default signal handling; pytest may have
                # inherited SIGINT ignored (CI runs it as a background job of a script), and an
                # ignored signal stays ignored across exec, so Ctrl-C on the pty would do nothing.
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                os.execve(sys.executable, argv, full_env)
            finally:
                os._exit(127)
        self.code: int | None = None
        self.echo = b""

    def stderr(self) -> str:
        try:
            return self.err.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for(self, text: str, count: int = 1, limit: float = PTY_LIMIT) -> None:
        deadline = time.monotonic() + limit
        while self.stderr().count(text) < count:
            self._drain(0.05)
            if self._reap():
                raise AssertionError(f"exited {self.code} before {text!r} #{count}:\n{self.stderr()}")
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"no {text!r} #{count} within {limit:g}s:\n{self.stderr()}")

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def finish(self, limit: float = PTY_LIMIT) -> Result:
        deadline = time.monotonic() + limit
        while not self._reap():
            self._drain(0.05)
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"did not exit within {limit:g}s:\n{self.stderr()}")
        self._drain(0)
        os.close(self.master)
        return Result(code=int(self.code), stdout=self.out.read_text(errors="replace"), stderr=self.stderr())

    def kill(self) -> None:
        if self.code is None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.code = -9
            os.close(self.master)

    def _drain(self, wait: float) -> None:
        ready, _, _ = select.select([self.master], [], [], wait)
        if ready:
            try:
                self.echo += os.read(self.master, 4096)
            except OSError:  # EIO: the child is gone
                pass

    def _reap(self) -> bool:
        if self.code is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.code = os.waitstatus_to_exitcode(status)
        return self.code is not None


# ---- stdin is not a terminal, or --yes: mitigate × (scale, rollout restart) × situation ---------

# situation → (exit codes, the record's new action results, PATCHes that change the object, a phrase on stderr)
SITUATIONS: dict[str, tuple[set, tuple, int, str]] = {
    "not a TTY, no --yes": ({3}, (), 0, "refusing to --apply: stdin is not a terminal"),
    "--yes": ({2}, ("ok",), 1, ": ok"),
    "--yes without --apply": ({2}, (), 0, "nothing was changed"),
    "API unreachable": ({2}, ("failed",), 0, "is unreachable or did not answer within 2s"),
    "API slower than --timeout": ({2}, ("failed",), 0, "did not answer within 0.5s"),
    "401 (token rejected)": ({2}, ("failed",), 0, "HTTP 401 Unauthorized"),
    "403 on the PATCH (RBAC: get, no patch)": ({2}, ("failed",), 0, "HTTP 403 Forbidden"),
    "403 quoting the Authorization header": ({2}, ("failed",), 0, "HTTP 403 Forbidden"),
    "404 (no such deployment)": ({2}, ("failed",), 0, "HTTP 404 Not Found"),
    "500 on the PATCH": ({2}, ("failed",), 0, "HTTP 500"),
    "PATCH answered, change dropped": ({2}, ("failed",), 0, "failed: "),
    "no kubeconfig": ({2}, ("failed",), 0, "failed: kubeconfig"),
    "record dir not writable (as nobody)": ({3}, (), 0, "is not writable"),
}


def _situation(situation: str, kind: str, cluster: FaultKube, tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    env = env_for(cluster, tmp_path)
    flags = ["--apply", "--yes", "--timeout", "2"]
    if situation == "not a TTY, no --yes":
        flags = ["--apply"]
    elif situation == "--yes without --apply":
        flags = ["--yes"]
    elif situation == "API unreachable":
        env["KUBECONFIG"] = str(dead_kubeconfig(tmp_path / "dead-kubeconfig"))
    elif situation == "API slower than --timeout":
        cluster.fault = ("*", "hang")
        flags = ["--apply", "--yes", "--timeout", "0.5"]
    elif situation == "401 (token rejected)":
        env["KUBECONFIG"] = str(cluster.kubeconfig(tmp_path / "wrong-kubeconfig", token="not-the-token"))
    elif situation.startswith("403"):
        cluster.fault = ("PATCH", 403)
        cluster.echo_token = "Authorization" in situation
    elif situation == "404 (no such deployment)":
        cluster.objects.clear()
    elif situation == "500 on the PATCH":
        cluster.fault = ("PATCH", 500)
    elif situation == "PATCH answered, change dropped":
        cluster.fault = ("PATCH", "ignore")
    elif situation == "no kubeconfig":
        env["KUBECONFIG"] = str(tmp_path / "no-such-kubeconfig")
    return flags, env


def dead_kubeconfig(path: Path) -> Path:
    """A kubeconfig whose API server port nothing listens on (same token, so only the network fails)."""
    import yaml

    url = f"http://127.0.0.1:{free_port()}"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "dead",
        "clusters": [{"name": "dead", "cluster": {"server": url}}],
        "users": [{"name": "dead", "user": {"token": TOKEN}}],
        "contexts": [{"name": "dead", "context": {"cluster": "dead", "user": "dead"}}]}))
    return path


def _as_nobody(tmp_path: Path, rec: Path, cluster: FaultKube) -> None:
    os.chmod(tmp_path, 0o755)
    for parent in tmp_path.parents:
        if str(parent) in ("/", "/tmp"):
            break
        os.chmod(parent, os.stat(parent).st_mode | 0o005)
    os.chmod(cluster.kubeconfig_path, 0o644)
    os.chmod(rec, 0o644)
    os.chmod(rec.parent, 0o555)


@pytest.mark.parametrize("kind", ["scale", "restart"])
@pytest.mark.parametrize("situation", list(SITUATIONS))
def test_mitigate_apply(cluster, tmp_path, situation, kind):
    codes, appended, changes, phrase = SITUATIONS[situation]
    rec = record_for(tmp_path, kind)
    flags, env = _situation(situation, kind, cluster, tmp_path)
    args = ["mitigate", "--from", str(rec), *flags, "-o", "json"]
    before = snapshot(rec.parent)
    if situation.endswith("(as nobody)"):
        if os.geteuid() != 0:
            pytest.skip("needs root to switch to nobody")
        # Warm up as root on a copy (the stdlib of this interpreter is not readable by nobody, so a module
        # first imported as nobody would fail to load): same command, a dead API server, another directory.
        warm = tmp_path / "warm"
        warm.mkdir()
        (warm / "incident.json").write_bytes(rec.read_bytes())
        run_piped(["mitigate", "--from", str(warm / "incident.json"), *flags, "-o", "json"],
                  {**env, "KUBECONFIG": str(dead_kubeconfig(warm / "kubeconfig"))}, warm)
        _as_nobody(tmp_path, rec, cluster)
        os.setegid(65534)
        os.seteuid(65534)
        try:
            result = run_piped(args, env, tmp_path)
        finally:
            os.seteuid(0)
            os.setegid(0)
    else:
        result = run_piped(args, env, tmp_path)
    check(result, codes, secrets=[TOKEN])
    assert phrase in result.stderr, result.stderr
    added = assert_record(rec, before, appended)
    patched = cluster.patches()
    if changes:
        [patch] = patched
        assert patch["path"] == (SCALE_PATH if kind == "scale" else RESTART_PATH)
        key = ("shop", "orders") if kind == "scale" else ("shop", "reviews")
        assert cluster.objects[key]["metadata"]["generation"] == 2
        assert all(o["metadata"]["generation"] == 1 for k, o in cluster.objects.items() if k != key)
    else:
        assert all(o["metadata"]["generation"] == 1 for o in cluster.objects.values()), "the cluster changed"
        assert len(patched) <= 1  # a PATCH the server refused or dropped, never a second attempt
    if result.code == 3:
        assert result.stdout == ""
        assert cluster.requests == [], "asked the cluster before refusing"
    else:
        payload = json.loads(result.stdout)
        assert [a["result"].split(":")[0] for a in payload["actions"]] == list(appended)
        assert payload["actions"] == added
        for a in added:
            assert a["step"] in ("cpu_saturation/scale-out", "memory_pressure/rolling-restart")
            assert TOKEN not in json.dumps(a)


@pytest.mark.parametrize("situation", ["not a TTY, no --yes", "--yes"])
def test_fix_has_no_apply(cluster, tmp_path, situation):
    """Phase 4's permanent fixes are changes a human makes: `fix --apply` is a usage error, whatever stdin is."""
    rec = record_for(tmp_path, "scale")
    before = snapshot(rec.parent)
    flags = ["--apply"] if situation == "not a TTY, no --yes" else ["--apply", "--yes"]
    result = run_piped(["fix", "--from", str(rec), *flags], env_for(cluster, tmp_path), tmp_path)
    check(result, {3})
    assert "No such option: --apply" in result.stderr and result.stdout == ""
    assert_record(rec, before)
    assert cluster.requests == []


# ---- only safe steps, whatever --yes says -----------------------------------------------------

UNSAFE_BOOK = """title: unsafe
mitigations:
  - id: delete-it
    title: Delete {{deployment}}
    seed: '001'
    when: 'bottleneck == "cpu_saturation"'
    commands:
      - kubectl -n {{namespace}} delete deployment {{deployment}}
    risk: total
{extra}
"""
UNSAFE = {
    # case → (record kind + overrides, user playbook extra lines or None, codes, appended, stderr phrase)
    "no step marked safe (lock_contention)": (("lock_contention", {}), None, {2}, (), "no step marked safe applies"),
    "scale more than x4 in one step": (("scale", {"replicas": (10, 10)}), None, {2}, ("refused",),
                                       "more than ×4 in one step"),
    "scale down (deployment already larger)": (("scale", {}), None, {2}, ("unchanged",), "only scales out"),
    "user playbook: action without safe": (("scale", {}), "    action: {kind: rollout_restart}", {3}, (),
                                          "an action is only run for steps marked safe: true"),
    "user playbook: safe: false with an action": (("scale", {}), "    safe: false\n    action: {kind: rollout_restart}",
                                                 {3}, (), "an action is only run for steps marked safe: true"),
    "user playbook: an action kind triage does not have": (
        ("scale", {}), "    safe: true\n    action: {kind: delete_deployment}", {3}, (), "delete_deployment"),
}


@pytest.mark.parametrize("case", list(UNSAFE))
def test_unsafe_steps_are_never_applied_even_with_yes(cluster, tmp_path, case):
    (kind, overrides), extra, codes, appended, phrase = UNSAFE[case]
    rec = record_for(tmp_path, kind, **overrides)
    env = env_for(cluster, tmp_path)
    if case.startswith("scale down"):
        cluster.objects[("shop", "orders")]["spec"]["replicas"] = 10
    if extra is not None:
        books = tmp_path / "books"
        books.mkdir()
        (books / "cpu_saturation.yaml").write_text(UNSAFE_BOOK.format(extra=extra))
        env["TRIAGE_PLAYBOOKS_DIR"] = str(books)
    before = snapshot(rec.parent)
    result = run_piped(["mitigate", "--from", str(rec), "--apply", "--yes", "-o", "json"], env, tmp_path)
    check(result, codes, secrets=[TOKEN])
    assert phrase in result.stderr, result.stderr
    assert_record(rec, before, appended)
    assert cluster.writes() == [], "an unsafe change reached the cluster"
    if extra is not None:
        assert cluster.requests == [] and str(books / "cpu_saturation.yaml") in result.stderr


def test_unsafe_name_from_a_finding_never_reaches_docker(tmp_path):
    """A container name with shell metacharacters (from a health finding) is never acted on."""
    health = tmp_path / "health.json"
    health.write_text(json.dumps(health_doc(finding("Unhealthy", kind="container", name="web-1;reboot"))))
    sock = tmp_path / "docker.sock"  # nothing listens: a call would fail with "Docker at ..."
    result = run_piped(["mitigate", "--health-from", str(health), "--apply", "--yes", "-o", "json"],
                       {"DOCKER_HOST": f"unix://{sock}", "HOME": str(tmp_path)}, tmp_path)
    check(result, {2})
    assert "Docker at" not in result.stderr + result.stdout
    assert "no step marked safe applies" in result.stderr
    payload = json.loads(result.stdout)
    assert payload["actions"] == []
    skipped = [s for s in payload["skipped"] if s["id"] == "probes/restart-unhealthy-container"]
    assert skipped[0]["status"] == "skipped" and "not safe in a command" in skipped[0]["why"]


# ---- --apply without --from -------------------------------------------------------------------


def test_apply_without_from_prometheus_unreachable(cluster, tmp_path):
    result = run_piped(["mitigate", "--service", "orders", "--prometheus-url", f"http://127.0.0.1:{free_port()}",
                        "--at", AT, "--no-health", "--apply", "--yes"], env_for(cluster, tmp_path), tmp_path)
    check(result, {3})
    assert "unreachable" in result.stderr and result.stdout == ""
    assert cluster.requests == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kubeconfig"]


def test_apply_without_from_health_only_says_nothing_is_recorded(tmp_path):
    (tmp_path / "triage.yaml").write_text(CONFIG)
    health = tmp_path / "health.json"
    health.write_text(json.dumps(health_doc(finding("Unhealthy", kind="container", name="shop-web-1"))))
    result = run_piped(["mitigate", "--health-from", str(health), "--apply", "--yes", "-o", "json"],
                       {"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock", "HOME": str(tmp_path)}, tmp_path)
    check(result, {2})
    [action] = json.loads(result.stdout)["actions"]
    assert action["result"].startswith("failed: Docker at unix://")
    assert "not recorded" in result.stderr and "--from" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["health.json", "triage.yaml"]


def test_apply_live_without_from(prometheus_server, cluster, tmp_path):
    """Live rca (real Prometheus, the scenario fleet: reviews leaks memory) → the restart is applied; no record."""
    import yaml

    from testing.scenarios.library import bottleneck_fleet, default_fleet, triage_config

    config = tmp_path / "triage.yaml"
    config.write_text(yaml.safe_dump(triage_config(default_fleet() + bottleneck_fleet())))
    result = run_piped(["mitigate", "--service", "reviews", "--prometheus-url", prometheus_server.url,
                        "--config", str(config), "--at", AT, "--no-health", "--apply", "--yes", "-o", "json"],
                       env_for(cluster, tmp_path), tmp_path)
    check(result, {2}, secrets=[TOKEN])
    [patch] = cluster.patches()
    assert patch["path"] == RESTART_PATH
    assert [a["result"] for a in json.loads(result.stdout)["actions"]] == ["ok"]
    assert "not recorded" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kubeconfig", "triage.yaml"]


# ---- a real terminal ---------------------------------------------------------------------------

# answer → (keys after each prompt, exit codes, the record's new action results, PATCHes, a phrase on stderr)
PTY = {
    "n": ([b"n\n"], {2}, ("declined",), 0, "declined"),
    "empty (Enter)": ([b"\n"], {2}, ("declined",), 0, "declined"),
    "EOF (Ctrl-D)": ([b"\x04"], {130}, (), 0, "no answer"),
    "garbage, three times": ([b"maybe\n", b"sure?\n", b"42\n"], {2}, ("declined",), 0, "declined"),
    "garbage, then y": ([b"maybe\n", b"y\n"], {2}, ("ok",), 1, ": ok"),
    "Ctrl-C": ([b"\x03"], {130}, (), 0, "interrupted"),
    "y": ([b"y\n"], {2}, ("ok",), 1, ": ok"),
}


def _pty_cell(cluster: FaultKube, tmp_path: Path, args: Sequence[str], keys: Sequence[bytes],
              extra_env: dict | None = None) -> PtyRun:
    run = PtyRun(args, {**env_for(cluster, tmp_path), **(extra_env or {})}, tmp_path)
    for i, k in enumerate(keys, 1):
        run.wait_for(PROMPT, i)
        run.type(k)
    return run


@pytest.mark.parametrize("answer,output", [(a, "json") for a in PTY] + [(a, "markdown") for a in ("n", "Ctrl-C", "y")])
def test_mitigate_prompt_on_a_terminal(cluster, tmp_path, answer, output):
    keys, codes, appended, changes, phrase = PTY[answer]
    rec = record_for(tmp_path, "scale")
    before = snapshot(rec.parent)
    run = _pty_cell(cluster, tmp_path, ["mitigate", "--from", str(rec), "--apply", "-o", output], keys)
    result = run.finish()
    for f in (run.out, run.err):
        f.unlink()
    check(result, codes, secrets=[TOKEN])
    assert phrase in result.stderr, result.stderr
    assert ("apply step cpu_saturation/scale-out: scale to 3 replicas of deployment shop/orders in context fake?"
            in result.stderr), result.stderr
    assert_record(rec, before, appended)
    assert len(cluster.patches()) == changes
    assert cluster.objects[("shop", "orders")]["spec"]["replicas"] == (3 if changes else 2)
    if result.code == 130:
        assert len(result.stderr.strip().splitlines()) <= 2, result.stderr
        assert cluster.requests == []
    # stdout is the result only: the prompt (and click's readline work-around space) never lands there
    if output == "json" and result.stdout:
        assert result.stdout.startswith("{") and json.loads(result.stdout)["schema"] == "triage.plan/v1"
    if output == "markdown" and result.stdout:
        assert result.stdout.startswith("# ")


def test_ctrl_c_at_the_second_prompt_keeps_the_first_action_in_the_record(cluster, tmp_path):
    rec = record_for(tmp_path, "both")
    before = snapshot(rec.parent)
    run = _pty_cell(cluster, tmp_path, ["mitigate", "--from", str(rec), "--apply", "-o", "json"], [b"y\n", b"\x03"])
    result = run.finish()
    for f in (run.out, run.err):
        f.unlink()
    check(result, {130}, secrets=[TOKEN])
    [added] = assert_record(rec, before, ("ok",))
    assert added["step"] == "cpu_saturation/scale-out"
    [patch] = cluster.patches()
    assert patch["path"] == SCALE_PATH
    assert cluster.objects[("shop", "reviews")]["metadata"]["generation"] == 1
    assert "interrupted" in result.stderr and "recorded 1 action(s)" in result.stderr


def test_n_then_y_applies_only_the_confirmed_step(cluster, tmp_path):
    rec = record_for(tmp_path, "both")
    before = snapshot(rec.parent)
    run = _pty_cell(cluster, tmp_path, ["mitigate", "--from", str(rec), "--apply", "-o", "json"], [b"n\n", b"y\n"])
    result = run.finish()
    for f in (run.out, run.err):
        f.unlink()
    check(result, {2}, secrets=[TOKEN])
    declined, done = assert_record(rec, before, ("declined", "ok"))
    assert declined["step"] == "cpu_saturation/scale-out" and done["step"] == "memory_pressure/rolling-restart"
    [patch] = cluster.patches()
    assert patch["path"] == RESTART_PATH
    assert cluster.objects[("shop", "orders")]["spec"]["replicas"] == 2


def test_ctrl_c_while_the_patch_is_in_flight_is_recorded(cluster, tmp_path):
    """The PATCH was sent, the answer never came: the record says so instead of forgetting it."""
    rec = record_for(tmp_path, "scale")
    before = snapshot(rec.parent)
    cluster.fault = ("PATCH", "hang")
    run = _pty_cell(cluster, tmp_path, ["mitigate", "--from", str(rec), "--apply", "--timeout", "20", "-o", "json"],
                    [b"y\n"])
    run.wait_for("applying cpu_saturation/scale-out")
    deadline = time.monotonic() + 20
    while not cluster.patches() and time.monotonic() < deadline:
        time.sleep(0.05)
    run.type(b"\x03")
    result = run.finish()
    for f in (run.out, run.err):
        f.unlink()
    check(result, {130}, secrets=[TOKEN])
    [added] = assert_record(rec, before, ("interrupted",))
    assert "check" in added["result"]
    assert len(cluster.patches()) == 1


def test_yes_on_a_terminal_does_not_ask(cluster, tmp_path):
    rec = record_for(tmp_path, "restart")
    before = snapshot(rec.parent)
    run = PtyRun(["mitigate", "--from", str(rec), "--apply", "--yes", "-o", "json"], env_for(cluster, tmp_path),
                 tmp_path)
    result = run.finish()
    for f in (run.out, run.err):
        f.unlink()
    check(result, {2}, secrets=[TOKEN])
    assert PROMPT not in result.stderr
    assert_record(rec, before, ("ok",))
    [patch] = cluster.patches()
    assert patch["path"] == RESTART_PATH


@pytest.mark.parametrize("flags", [["--apply"], []], ids=["fix --apply", "fix"])
def test_fix_on_a_terminal_never_asks(cluster, tmp_path, flags):
    rec = record_for(tmp_path, "scale")
    before = snapshot(rec.parent)
    run = PtyRun(["fix", "--from", str(rec), *flags], env_for(cluster, tmp_path), tmp_path)
    result = run.finish()
    for f in (run.out, run.err):
        f.unlink()
    check(result, {3} if flags else {2})
    assert PROMPT not in result.stderr
    assert_record(rec, before)
    assert cluster.requests == []
