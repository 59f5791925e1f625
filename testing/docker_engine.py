"""A real Docker Engine for tests and benchmarks: `dockerd` as a child process with its own
data root, exec root, pid file and unix socket, so it never touches a system daemon.

No registry is reachable, so the test image is made from busybox-static: a rootfs with
`/bin/busybox` and its applet links, `docker import`ed from a tar stream. Whatever happens,
containers are removed and dockerd (with the containerd it manages) is stopped and reaped:
on a start-up failure before the exception leaves `start_engine`, otherwise on `stop()`,
on leaving the `with` block, or at interpreter exit at the latest.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
import weakref
from pathlib import Path
from typing import Any

IMAGE = "triage-test/busybox:latest"
_LOG_TAIL = 4000


class EngineError(RuntimeError):
    pass


def _tail(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"<no log: {exc}>"
    return data[-_LOG_TAIL:].decode("utf-8", "replace")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop(proc: subprocess.Popen, workdir: Path, sock: str, keep: bool) -> None:
    """Remove every container (SIGKILL, no 10 s grace for busybox PID 1s), then stop dockerd."""
    if proc.poll() is None:
        try:
            import docker

            client = docker.DockerClient(base_url=f"unix://{sock}", timeout=20)
            for c in client.api.containers(all=True, quiet=True):
                try:
                    client.api.remove_container(c["Id"], force=True)
                except Exception:
                    pass
            client.close()
        except Exception:
            pass
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    # The containerd that dockerd started is its child; if dockerd was killed it may be orphaned.
    for pidfile in workdir.glob("exec/**/containerd.pid"):
        try:
            pid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            continue
        if _pid_alive(pid):
            try:
                os.kill(pid, signal.SIGTERM)
                for _ in range(50):
                    if not _pid_alive(pid):
                        break
                    time.sleep(0.1)
                else:
                    os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    if not keep:
        shutil.rmtree(workdir, ignore_errors=True)


class Engine:
    """A running dockerd: `.host` (for DOCKER_HOST), `.client` (docker SDK), `.stop()`."""

    def __init__(self, proc: subprocess.Popen, workdir: Path, sock: str, log: Path) -> None:
        import docker

        self.proc = proc
        self.workdir = workdir
        self.sock = sock
        self.log = log
        self.host = f"unix://{sock}"
        self.client = docker.DockerClient(base_url=self.host, timeout=30)
        self._finalizer = weakref.finalize(self, _stop, proc, workdir, sock, False)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        try:
            self.client.close()
        finally:
            self._finalizer()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_tail(self) -> str:
        return _tail(self.log)

    # ---- content --------------------------------------------------------------------------
    def import_busybox(self, name: str = IMAGE) -> str:
        """`tar -c rootfs | docker import - NAME` with busybox-static and its applet links."""
        busybox = shutil.which("busybox")
        if busybox is None:
            raise EngineError("busybox is not installed (apt-get install busybox-static)")
        applets = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split()
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for d in ("bin", "tmp", "proc", "sys", "dev", "etc"):
                info = tarfile.TarInfo(d)
                info.type, info.mode = tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755
                tar.addfile(info)
            tar.add(busybox, arcname="bin/busybox")
            for applet in applets:
                if applet == "busybox":
                    continue
                link = tarfile.TarInfo(f"bin/{applet}")
                link.type, link.linkname = tarfile.SYMTYPE, "busybox"
                tar.addfile(link)
            for fname, text in (("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"), ("etc/group", "root:x:0:\n")):
                data = text.encode()
                info = tarfile.TarInfo(fname)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        repo, _, tag = name.partition(":")
        self.client.api.import_image_from_data(buf.getvalue(), repository=repo, tag=tag or "latest")
        return name

    def run(self, name: str, command: str, **kwargs: Any):
        """A detached container of the busybox image with no network (`sh -c COMMAND`)."""
        kwargs.setdefault("network_mode", "none")
        return self.client.containers.run(IMAGE, ["sh", "-c", command], name=name, detach=True, **kwargs)

    def wait_for(self, predicate, what: str, timeout: float = 40.0, interval: float = 0.2) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(interval)
        raise EngineError(f"timed out after {timeout:g}s waiting for {what}\n--- dockerd log ---\n{self.log_tail()}")

    def state(self, name: str) -> dict:
        return self.client.api.inspect_container(name)


def start_engine(workdir: str | os.PathLike | None = None, timeout: float = 60.0) -> Engine:
    """Start dockerd as root with everything private; raise EngineError with its log if it does not come up."""
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise EngineError("dockerd is not installed (apt-get install docker.io)")
    if os.geteuid() != 0:
        raise EngineError("dockerd needs root")
    # Unix socket paths are limited to ~107 bytes: keep the root short, under /tmp.
    root = Path(tempfile.mkdtemp(prefix="tdk-", dir=workdir or "/tmp"))
    if len(str(root)) > 60:
        root = Path(tempfile.mkdtemp(prefix="tdk-", dir="/tmp"))
    sock = str(root / "d.sock")
    log = root / "dockerd.log"
    argv = [
        dockerd,
        "--data-root", str(root / "data"),
        "--exec-root", str(root / "exec"),
        "--pidfile", str(root / "dockerd.pid"),
        "--host", f"unix://{sock}",
        "--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false",
        "--bridge=none",
        "--storage-driver=vfs",
        "--shutdown-timeout", "2",
        "--log-level", "warn",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise EngineError(f"dockerd exited with {proc.returncode}\n--- dockerd log ---\n{_tail(log)}")
            if os.path.exists(sock):
                try:
                    engine = Engine(proc, root, sock, log)
                    engine.client.ping()
                    return engine
                except Exception:
                    pass
            if time.monotonic() > deadline:
                raise EngineError(f"dockerd did not answer on {sock} within {timeout:g}s\n--- dockerd log ---\n"
                                  f"{_tail(log)}")
            time.sleep(0.1)
    except BaseException:
        _stop(proc, root, sock, keep=False)
        raise


# a deadline for Docker to bring the scenario to its states: worker-loop's third restart waits out
# Docker's doubling back-off, and on a loaded machine (three suite processes, each with its engine)
# starts take seconds each
SCENARIO_TIMEOUT = 120.0


def healthcheck(command: str, interval: float = 0.5, retries: int = 1) -> dict:
    """`--health-cmd COMMAND --health-interval 0.5s --health-retries 1` in the SDK's spelling."""
    return {"test": ["CMD-SHELL", command], "interval": int(interval * 1e9), "timeout": int(5e9),
            "retries": retries}


def run_scenario(engine: Engine) -> dict[str, str | None]:
    """The five containers of issue 5, each waited for until Docker reports what the test expects.

    Returns container name → the reason `triage health` must give it (None for healthy).
    """
    engine.import_busybox()
    engine.run("web-healthy", "echo 'listening on :8080'; exec sleep 3600", healthcheck=healthcheck("true"),
               mem_limit="64m")
    engine.run("api-unhealthy", "echo 'INFO started'; echo 'ERROR db: connection refused' >&2; exec sleep 3600",
               healthcheck=healthcheck("echo 'database: unhealthy: connection refused'; exit 1"),
               labels={"com.docker.compose.project": "shop", "com.docker.compose.service": "api"})
    # 64 MB in a shell variable under an 8 MiB limit: the kernel's OOM killer ends it.
    engine.run("cache-oom", "echo 'loading cache'; x=$(head -c 64000000 /dev/zero | tr '\\0' a); echo done",
               mem_limit="8m", memswap_limit="8m")
    engine.run("worker-loop", "echo 'panic: runtime error: index out of range [3] with length 3'; exit 3",
               restart_policy={"Name": "always"})
    engine.run("job-failed", "echo 'Traceback (most recent call last):'; echo 'KeyError: order_id'; exit 2")
    engine.run("job-done", "echo 'migrations applied'; exit 0")

    def ready() -> bool:
        s = {n: engine.state(n) for n in ("web-healthy", "api-unhealthy", "cache-oom", "worker-loop",
                                          "job-failed", "job-done")}
        health = lambda n: ((s[n]["State"].get("Health") or {}).get("Status"))  # noqa: E731
        return (health("web-healthy") == "healthy" and health("api-unhealthy") == "unhealthy"
                and s["cache-oom"]["State"]["Status"] == "exited" and s["cache-oom"]["State"]["OOMKilled"]
                and s["worker-loop"]["RestartCount"] >= 3
                and s["job-failed"]["State"]["Status"] == "exited" and s["job-done"]["State"]["Status"] == "exited")

    engine.wait_for(ready, "the scenario containers to reach their states", timeout=SCENARIO_TIMEOUT)
    return {"web-healthy": None, "api-unhealthy": "Unhealthy", "cache-oom": "OOMKilled",
            "worker-loop": "Restarting", "job-failed": "Exited", "job-done": None}
