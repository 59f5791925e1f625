"""A real server process for tests and benches: started on a free loopback port, waited for
until it answers, and always stopped and reaped.

Whatever happens, the process is stopped and reaped: on start-up failure before the
exception leaves `start` (whose message carries the tail of the process log), otherwise on
``stop()``, on leaving the ``with`` block, at interpreter exit at the latest — or when this
process gets SIGTERM. Each backend leads a session of its own (a Ctrl-C or a signal to our
process group must not reach it before we stop it ourselves), so nothing else would stop it
then: SIGTERM's default action ends us with no atexit hook and no finalizer. The first
``start`` in the main thread therefore installs a SIGTERM hook that stops every process
group this process started, by PID, then does what SIGTERM did before (the previous
handler, else the default: exit by the signal). ``sigterm_as_interrupt()`` (tests/conftest.py)
makes pytest end on SIGTERM as on Ctrl-C, so fixture finalizers run too. The factories for
each backend (`prometheus`, `alertmanager`) build on it.

Only 127.0.0.1 is ever contacted.  Standard library plus ``requests``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
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
    try:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)
    finally:
        _STARTED.pop(proc.pid, None)


# The session leaders this process started and has not reaped, by PID (= their process group).
_STARTED: dict[int, subprocess.Popen] = {}
_HOOK: dict[str, Any] = {"previous": None, "stopping": False}


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    # Only while the leader is unreaped: its PID, hence its group's id, cannot be anyone else's.
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def stop_started(grace: float = 5.0) -> None:
    """Stop every process group this process started and still runs: SIGTERM to each group,
    then SIGKILL to what is left after `grace` seconds; each leader reaped."""
    procs = list(_STARTED.values())
    for proc in procs:
        _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait(timeout=grace)
        _STARTED.pop(proc.pid, None)


def _on_sigterm(signum: int, frame: Any) -> None:
    if _HOOK["stopping"]:
        return  # a second SIGTERM while the first stops them: the first goes on to the previous handler
    _HOOK["stopping"] = True
    try:
        stop_started()
    finally:
        _HOOK["stopping"] = False
    previous = _HOOK["previous"]
    if callable(previous):
        previous(signum, frame)
    elif previous != signal.SIG_IGN:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def _install_sigterm_hook() -> None:
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers are the main thread's; atexit still stops them
    current = signal.getsignal(signal.SIGTERM)
    if current is not _on_sigterm:
        _HOOK["previous"] = current
        signal.signal(signal.SIGTERM, _on_sigterm)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def sigterm_as_interrupt() -> None:
    """SIGTERM raises KeyboardInterrupt in the main thread, as Ctrl-C does: pytest stops, runs
    the fixtures' finalizers and exits (scripts/test, a CI timeout). Left alone if SIGTERM
    already has a handler; only from the main thread."""
    if threading.current_thread() is threading.main_thread() and \
            signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _interrupt)


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
        _STARTED[proc.pid] = proc
        _install_sigterm_hook()
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
