"""Every process the lab starts, and the guarantee that it stops them.

Each child runs in its own session (its own process group), so stopping it takes its
children too (Postgres backends, uvicorn's reloader-less worker, a shell wrapper).
Stopping happens in reverse start order from a ``finally`` block, from ``atexit`` and
from SIGTERM/SIGHUP handlers, whichever comes first; it is idempotent.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_LIVE: list[Proc] = []
_LOCK = threading.RLock()


class LabError(RuntimeError):
    """The lab could not do what it was asked; the message says what and where to look."""


def tail(path: Path, limit: int = 3000) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - limit))
            return f.read().decode("utf-8", "replace")
    except OSError as e:
        return f"<no log: {e}>"


@dataclass
class Proc:
    name: str
    argv: Sequence[str]
    log_path: Path
    popen: subprocess.Popen
    stop_signal: int = signal.SIGTERM
    stopping: bool = field(default=False)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """Signal the leader, SIGKILL the group if it lingers, then the group's stragglers.

        A leader that already exited and was reaped is left alone: its group id may belong
        to someone else by now.
        """
        self.stopping = True
        if self.popen.poll() is None:
            try:
                os.kill(self.popen.pid, self.stop_signal)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _killpg(self.popen.pid, signal.SIGKILL)
                try:
                    self.popen.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    pass
            # Children left in the group (a backend, a grandchild) go too.
            _killpg(self.popen.pid, signal.SIGKILL)
        with _LOCK:
            if self in _LIVE:
                _LIVE.remove(self)

    def fail(self, message: str) -> LabError:
        return LabError(f"{self.name} (pid {self.pid}): {message}\n--- last lines of {self.log_path} ---\n"
                        f"{tail(self.log_path)}")


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def start(name: str, argv: Sequence[str], *, log_path: Path, env: Mapping[str, str] | None = None,
          cwd: Path | None = None, user: str | None = None, stop_signal: int = signal.SIGTERM) -> Proc:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as logf:
        logf.write(f"\n$ {' '.join(argv)}\n".encode())
        logf.flush()
        kwargs: dict = {}
        if user is not None:
            kwargs.update(user=user, group=user, extra_groups=[])
        try:
            popen = subprocess.Popen(list(argv), stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=cwd, env=dict(env) if env is not None else None,
                                     start_new_session=True, **kwargs)
        except OSError as e:
            raise LabError(f"{name}: cannot run {argv[0]}: {e}") from e
    proc = Proc(name, list(argv), log_path, popen, stop_signal)
    with _LOCK:
        _LIVE.append(proc)
    return proc


def forget(proc: Proc) -> None:
    """A child that exited and was reaped: nothing to stop any more."""
    with _LOCK:
        if proc in _LIVE:
            _LIVE.remove(proc)


def stop_all() -> None:
    """Stop everything still running, newest first. Safe to call any number of times."""
    with _LOCK:
        procs = list(reversed(_LIVE))
    for p in procs:
        try:
            p.stop(timeout=8.0)
        except Exception:  # noqa: BLE001 - stopping must go on for the others
            pass


def run(argv: Sequence[str], *, log_path: Path, user: str | None = None, timeout: float = 120,
        env: Mapping[str, str] | None = None, input_text: str | None = None) -> None:
    """A short-lived command (initdb, psql); its output goes to the log, failure raises."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict = {}
    if user is not None:
        kwargs.update(user=user, group=user, extra_groups=[])
    with open(log_path, "ab") as logf:
        logf.write(f"\n$ {' '.join(argv)}\n".encode())
        logf.flush()
        try:
            rc = subprocess.run(list(argv), stdout=logf, stderr=subprocess.STDOUT,
                                input=input_text.encode() if input_text is not None else None,
                                stdin=None if input_text is not None else subprocess.DEVNULL,
                                timeout=timeout, env=dict(env) if env is not None else None,
                                start_new_session=True, **kwargs).returncode
        except (OSError, subprocess.TimeoutExpired) as e:
            raise LabError(f"{argv[0]}: {e}\n{tail(log_path)}") from e
    if rc != 0:
        raise LabError(f"{' '.join(argv[:3])} exited {rc}\n--- last lines of {log_path} ---\n{tail(log_path)}")


def wait_until(what: str, check, timeout: float, proc: Proc | None = None, interval: float = 0.1):
    """Poll ``check()`` until it returns a truthy value; fail naming ``what`` (and the log)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if proc is not None and not proc.running():
            raise proc.fail(f"exited with code {proc.popen.returncode} while waiting for {what}")
        try:
            value = check()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 - reported when the wait gives up
            last = e
        time.sleep(interval)
    msg = f"{what}: not ready after {timeout:.0f}s" + (f" ({type(last).__name__}: {last})" if last else "")
    if proc is not None:
        raise proc.fail(msg)
    raise LabError(msg)


def _on_signal(signum, frame):  # noqa: ARG001
    # Turn SIGTERM/SIGHUP into an exception so `finally` blocks run, like Ctrl-C does.
    raise KeyboardInterrupt(f"signal {signum}")


def install_handlers() -> None:
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _on_signal)
        # A process started in the background by a non-interactive shell (``cmd &`` in a
        # script, as CI does) inherits SIGINT ignored, and Python leaves it ignored: Ctrl-C
        # (or ``kill -INT``) would then do nothing. The lab promises Ctrl-C stops everything.
        signal.signal(signal.SIGINT, signal.default_int_handler)


atexit.register(stop_all)
