"""A real server process for tests and benches: started on a free loopback port, waited for
until it answers, and always stopped and reaped.

Whatever happens, the process is stopped and reaped: on start-up failure before the
exception leaves `start` (whose message carries the tail of the process log), otherwise on
``stop()``, on leaving the ``with`` block, or at interpreter exit at the latest. The
factories for each backend (`prometheus`, `alertmanager`) build on it.

Only 127.0.0.1 is ever contacted.  Standard library plus ``requests``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import weakref
from pathlib import Path
from typing import Any, Union

import requests

PathLike = Union[str, "os.PathLike[str]"]

PROMETHEUS_BIN = os.environ.get("TRIAGE_TEST_PROMETHEUS", "prometheus")
PROMTOOL_BIN = os.environ.get("TRIAGE_TEST_PROMTOOL", "promtool")
VICTORIA_METRICS_BIN = os.environ.get("TRIAGE_TEST_VICTORIA_METRICS", "victoria-metrics")
ALERTMANAGER_BIN = os.environ.get("TRIAGE_TEST_ALERTMANAGER", "prometheus-alertmanager")

_LOG_TAIL_BYTES = 4000


class BackendError(RuntimeError):
    """A backend could not be started or did not become ready."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binary_available(name: str) -> bool:
    return shutil.which(name) is not None


def _session() -> requests.Session:
    s = requests.Session()
    s.trust_env = False          # never route loopback traffic through an HTTP(S)_PROXY
    return s


def _tail(path: Path, limit: int = _LOG_TAIL_BYTES) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - limit))
            return f.read().decode("utf-8", "replace")
    except OSError as e:
        return f"<no log: {e}>"


def _reap(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


class Backend:
    """A running server process: ``.url``, ``.pid``, ``.stop()``; a context manager."""

    def __init__(self, kind: str, proc: subprocess.Popen, url: str, workdir: Path,
                 log_path: Path) -> None:
        self.kind = kind
        self.proc = proc
        self.url = url
        self.workdir = workdir
        self.log_path = log_path
        self.http = _session()
        self._finalizer = weakref.finalize(self, _reap, proc)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        """Terminate (then kill) and reap the process; safe to call twice."""
        try:
            self.http.close()
        finally:
            self._finalizer()

    def log_tail(self, limit: int = _LOG_TAIL_BYTES) -> str:
        return _tail(self.log_path, limit)

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else f"exited {self.proc.returncode}"
        return f"<Backend {self.kind} {self.url} pid={self.pid} {state}>"

    # ---- small conveniences for tests ---------------------------------------------------
    def get(self, path: str, **params: Any) -> Any:
        r = self.http.get(self.url + path, params=params, timeout=30)
        r.raise_for_status()
        return r.json()

    def query(self, promql: str, at: float | None = None) -> list[dict]:
        """Instant query (Prometheus HTTP API, also VictoriaMetrics); returns ``data.result``."""
        params: dict[str, Any] = {"query": promql}
        if at is not None:
            params["time"] = at
        body = self.get("/api/v1/query", **params)
        if body.get("status") != "success":
            raise BackendError(f"{self.kind}: query failed: {body}")
        return body["data"]["result"]

    def fail(self, message: str) -> BackendError:
        return BackendError(f"{self.kind} at {self.url} (pid {self.pid}): {message}\n"
                            f"--- last lines of {self.log_path} ---\n{self.log_tail()}")


def _subdir(workdir: PathLike, prefix: str) -> Path:
    base = Path(workdir)
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix + "-", dir=base))


def start(kind: str, argv_for_port, workdir: Path, ready_path: str, ready_timeout: float,
           attempts: int = 3) -> Backend:
    """Start the process on a free port and wait for ``ready_path`` to answer 200.

    The port is picked before the process binds it, so another process may take it
    in between: when the log says so, try again on a fresh port.
    """
    log_path = workdir / f"{kind}.log"
    last_error = ""
    for _ in range(attempts):
        port = free_port()
        argv = argv_for_port(port)
        logf = open(log_path, "ab")
        try:
            logf.write(f"\n$ {' '.join(argv)}\n".encode())
            logf.flush()
            proc = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=workdir, start_new_session=True)
        except OSError as e:
            logf.close()
            raise BackendError(f"{kind}: cannot run {argv[0]}: {e}") from e
        logf.close()       # the child has its own descriptor
        backend = Backend(kind, proc, f"http://127.0.0.1:{port}", workdir, log_path)
        try:
            _wait_http(backend, ready_path, ready_timeout)
            return backend
        except BackendError as e:
            backend.stop()
            last_error = str(e)
            if "address already in use" not in backend.log_tail().lower():
                raise
        except BaseException:
            backend.stop()
            raise
    raise BackendError(f"{kind}: no free port after {attempts} attempts\n{last_error}")


def _wait_http(backend: Backend, path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        if not backend.running:
            raise backend.fail(f"exited with code {backend.proc.returncode} before it was ready")
        try:
            r = backend.http.get(backend.url + path, timeout=2)
            if r.status_code == 200:
                return
            last = f"HTTP {r.status_code}: {r.text[:200]}"
        except requests.RequestException as e:
            last = f"{type(e).__name__}"
        time.sleep(0.1)
    raise backend.fail(f"not ready on {path} after {timeout:.0f}s ({last})")


def _last_sample_time(text: str, millis: bool) -> float | None:
    """Timestamp of the last sample line (any sample of the data will do as a probe)."""
    end = len(text)
    while end > 0:
        start = text.rfind("\n", 0, end - 1) + 1
        line = text[start:end].strip()
        end = start
        if not line or line.startswith("#"):
            continue
        try:
            ts = float(line.rsplit(" ", 1)[1])
        except (IndexError, ValueError):
            return None
        return ts / 1000.0 if millis else ts
    return None


def wait_for_data(backend: Backend, at: float, query: str = 'count({__name__=~".+"})',
                  timeout: float = 30.0, poke=None) -> float:
    """Poll an instant query at ``at`` until it returns a non-empty, non-zero result."""
    deadline = time.monotonic() + timeout
    last = "empty result"
    while time.monotonic() < deadline:
        if not backend.running:
            raise backend.fail(f"exited with code {backend.proc.returncode} while loading data")
        if poke is not None:
            poke()
        try:
            result = backend.query(query, at)
            if result:
                value = float(result[0]["value"][1])
                if value > 0:
                    return value
                last = f"value {value}"
        except (requests.RequestException, BackendError, KeyError, ValueError) as e:
            last = f"{type(e).__name__}: {e}"
        time.sleep(0.2)
    raise backend.fail(f"no data for {query!r} at {at} after {timeout:.0f}s ({last})")
