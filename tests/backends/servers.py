"""Real Prometheus, VictoriaMetrics and Alertmanager processes for tests.

Each factory starts the Debian-packaged binary on a free loopback port, waits
until it answers *and* serves the data it was given, and returns a
:class:`Backend` (a context manager).  Whatever happens, the process is stopped
and reaped: on start-up failure before the exception leaves the factory (whose
message carries the tail of the process log), otherwise on ``stop()``, on
leaving the ``with`` block, or at interpreter exit at the latest.

Only 127.0.0.1 is ever contacted.  Standard library plus ``requests`` and ``yaml``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import weakref
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import requests
import yaml

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

    def __enter__(self) -> "Backend":
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

    def query(self, promql: str, at: Optional[float] = None) -> list[dict]:
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


def _start(kind: str, argv_for_port, workdir: Path, ready_path: str, ready_timeout: float,
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


def _last_sample_time(text: str, millis: bool) -> Optional[float]:
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


# ---------------------------------------------------------------------------------------
# Prometheus
# ---------------------------------------------------------------------------------------

def always_firing_rules(alerts: Iterable[Mapping[str, str]], interval: str = "1s") -> str:
    """A rules file whose alerts are always firing (``vector(1)``, ``for: 0s``).

    Each alert is a mapping with ``alertname`` and any labels (``service``, ``severity``...);
    an optional ``summary`` becomes an annotation.
    """
    rules = []
    for a in alerts:
        a = dict(a)
        name = a.pop("alertname")
        summary = a.pop("summary", None)
        rule: dict[str, Any] = {"alert": name, "expr": "vector(1)", "for": "0s", "labels": a}
        if summary:
            rule["annotations"] = {"summary": summary}
        rules.append(rule)
    return yaml.safe_dump({"groups": [{"name": "triage-tests", "interval": interval,
                                       "rules": rules}]}, sort_keys=False)


def _alert_names(rules_file: Path) -> list[str]:
    doc = yaml.safe_load(rules_file.read_text()) or {}
    return [r["alert"] for g in doc.get("groups", []) for r in g.get("rules", []) if "alert" in r]


def wait_for_firing(backend: Backend, alertnames: Sequence[str], timeout: float = 20.0) -> list[dict]:
    """Wait until every named alert is ``firing`` on Prometheus' ``/api/v1/alerts``."""
    deadline = time.monotonic() + timeout
    want = set(alertnames)
    alerts: list[dict] = []
    while time.monotonic() < deadline:
        if not backend.running:
            raise backend.fail("exited while waiting for alerts")
        try:
            alerts = backend.get("/api/v1/alerts")["data"]["alerts"]
            firing = {a["labels"].get("alertname") for a in alerts if a.get("state") == "firing"}
            if want <= firing:
                return alerts
        except (requests.RequestException, KeyError, ValueError):
            pass
        time.sleep(0.2)
    raise backend.fail(f"alerts {sorted(want)} not firing after {timeout:.0f}s; saw {alerts}")


def prometheus_from_openmetrics(text: str, workdir: PathLike, *,
                                rules_file: Optional[PathLike] = None,
                                ready_timeout: float = 60.0,
                                extra_args: Sequence[str] = (),
                                alertmanagers: Sequence[str] = ()) -> Backend:
    """Backfill ``text`` (OpenMetrics) with promtool and serve it with Prometheus.

    Returns once ``/-/ready`` answers, an instant query at the data's last timestamp
    returns series, and (with ``rules_file``) every alert of the file is firing.
    """
    wd = _subdir(workdir, "prometheus")
    data_file = wd / "data.om"
    data_file.write_text(text, encoding="utf-8")
    tsdb = wd / "tsdb"
    log_path = wd / "prometheus.log"
    with open(log_path, "ab") as logf:
        argv = [PROMTOOL_BIN, "tsdb", "create-blocks-from", "openmetrics", "--quiet",
                str(data_file), str(tsdb)]
        logf.write(f"$ {' '.join(argv)}\n".encode())
        logf.flush()
        try:
            rc = subprocess.run(argv, stdout=logf, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, timeout=300).returncode
        except (OSError, subprocess.TimeoutExpired) as e:
            raise BackendError(f"promtool: {e}\n{_tail(log_path)}") from e
    if rc != 0:
        raise BackendError(f"promtool tsdb create-blocks-from openmetrics exited {rc}\n"
                           f"--- last lines of {log_path} ---\n{_tail(log_path)}")
    data_file.unlink()    # the blocks hold it now; keep the tmp dir small

    if rules_file is not None:
        rules_path = Path(rules_file).resolve()
        config = wd / "prometheus.yml"
        doc: dict[str, Any] = {
            "global": {"evaluation_interval": "1s", "scrape_interval": "15s"},
            "rule_files": [str(rules_path)],
        }
        if alertmanagers:   # where the firing alerts go (host:port each)
            doc["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": list(alertmanagers)}]}]}
        config.write_text(yaml.safe_dump(doc))
        config_arg = str(config)
    else:
        rules_path = None
        config_arg = "/dev/null"    # an empty config is a valid one (no scrapes, no rules)

    def argv_for(port: int) -> list[str]:
        return [PROMETHEUS_BIN, f"--config.file={config_arg}", f"--storage.tsdb.path={tsdb}",
                "--storage.tsdb.retention.time=100y",
                f"--web.listen-address=127.0.0.1:{port}", *extra_args]

    backend = _start("prometheus", argv_for, wd, "/-/ready", ready_timeout)
    try:
        at = _last_sample_time(text, millis=False)
        if at is not None:
            wait_for_data(backend, at, timeout=ready_timeout)
        if rules_path is not None:
            names = _alert_names(rules_path)
            if names:
                wait_for_firing(backend, names, timeout=ready_timeout)
    except BaseException:
        backend.stop()
        raise
    return backend


# ---------------------------------------------------------------------------------------
# VictoriaMetrics
# ---------------------------------------------------------------------------------------

def victoria_metrics_from_import(text: str, workdir: PathLike, *, ready_timeout: float = 60.0,
                                 extra_args: Sequence[str] = ()) -> Backend:
    """Start VictoriaMetrics, import ``text`` (Prometheus text, ms timestamps) and wait
    until it is queryable.

    ``-search.disableCache``: the rollup result cache would otherwise keep answers
    computed before (or while) the backfill landed.  ``/internal/force_flush`` makes
    the just-imported rows searchable at once instead of after ~1-2 s.
    """
    wd = _subdir(workdir, "victoria-metrics")
    data = wd / "data"

    def argv_for(port: int) -> list[str]:
        return [VICTORIA_METRICS_BIN, f"-storageDataPath={data}", "-retentionPeriod=100y",
                f"-httpListenAddr=127.0.0.1:{port}", "-search.disableCache",
                "-loggerOutput=stderr", *extra_args]

    backend = _start("victoria-metrics", argv_for, wd, "/health", ready_timeout)
    try:
        if text:
            r = backend.http.post(backend.url + "/api/v1/import/prometheus",
                                  data=text.encode("utf-8"), timeout=300,
                                  headers={"Content-Type": "text/plain"})
            if r.status_code not in (200, 204):
                raise backend.fail(f"import answered HTTP {r.status_code}: {r.text[:500]}")

            def flush() -> None:
                backend.http.get(backend.url + "/internal/force_flush", timeout=10)
            flush()
            at = _last_sample_time(text, millis=True)
            if at is not None:
                wait_for_data(backend, at, timeout=ready_timeout, poke=flush)
    except BaseException:
        backend.stop()
        raise
    return backend


# ---------------------------------------------------------------------------------------
# Alertmanager
# ---------------------------------------------------------------------------------------

_AM_CONFIG = {
    "route": {"receiver": "null", "group_by": ["alertname", "service"],
              "group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"},
    "receivers": [{"name": "null"}],
}


def alertmanager(workdir: PathLike, *, ready_timeout: float = 30.0,
                 extra_args: Sequence[str] = (), config_doc: Optional[Mapping[str, Any]] = None) -> Backend:
    """Alertmanager with a null receiver (or `config_doc`), its own storage, clustering off."""
    wd = _subdir(workdir, "alertmanager")
    config = wd / "alertmanager.yml"
    config.write_text(yaml.safe_dump(dict(config_doc) if config_doc else _AM_CONFIG))
    storage = wd / "data"
    storage.mkdir()

    def argv_for(port: int) -> list[str]:
        return [ALERTMANAGER_BIN, f"--config.file={config}", f"--storage.path={storage}",
                f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
                f"--web.external-url=http://127.0.0.1:{port}/", *extra_args]

    return _start("alertmanager", argv_for, wd, "/-/ready", ready_timeout)


def _rfc3339(t: Union[float, datetime]) -> str:
    if isinstance(t, (int, float)):
        t = datetime.fromtimestamp(t, timezone.utc)
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def post_alerts(url: str, alerts: Sequence[Mapping[str, Any]], timeout: float = 10.0) -> list[dict]:
    """POST alerts to Alertmanager's ``/api/v2/alerts`` and wait until GET returns them.

    Each alert is ``{"labels": {...}, "annotations": {...}, "startsAt": ..., "endsAt": ...}``
    (times as RFC 3339 strings, unix seconds or datetimes; ``startsAt`` defaults to now,
    ``endsAt`` to an hour from now so the alert stays active).  Returns the GET answer.
    """
    now = time.time()
    body = []
    for a in alerts:
        item: dict[str, Any] = {"labels": dict(a["labels"])}
        if a.get("annotations"):
            item["annotations"] = dict(a["annotations"])
        for key, default in (("startsAt", now), ("endsAt", now + 3600)):
            v = a.get(key, default)
            item[key] = v if isinstance(v, str) else _rfc3339(v)
        if a.get("generatorURL"):
            item["generatorURL"] = a["generatorURL"]
        body.append(item)
    url = url.rstrip("/")
    with _session() as http:
        r = http.post(url + "/api/v2/alerts", data=json.dumps(body),
                      headers={"Content-Type": "application/json"}, timeout=10)
        if r.status_code != 200:
            raise BackendError(f"alertmanager rejected the alerts: HTTP {r.status_code}: {r.text[:500]}")
        deadline = time.monotonic() + timeout
        got: list[dict] = []
        while time.monotonic() < deadline:
            got = http.get(url + "/api/v2/alerts", timeout=10).json()
            seen = [g.get("labels", {}) for g in got]
            if all(any(all(s.get(k) == v for k, v in item["labels"].items()) for s in seen)
                   for item in body):
                return got
            time.sleep(0.1)
    raise BackendError(f"posted alerts did not show in GET /api/v2/alerts within {timeout}s: {got}")
