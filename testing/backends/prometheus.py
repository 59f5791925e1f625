"""Real Prometheus and VictoriaMetrics processes holding the data a test gives them:
promtool backfill (Prometheus) or the import API (VictoriaMetrics), then wait until it answers."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import requests
import yaml

from testing.backends.process import (
    PROMETHEUS_BIN,
    PROMTOOL_BIN,
    VICTORIA_METRICS_BIN,
    Backend,
    BackendError,
    PathLike,
    _last_sample_time,
    _subdir,
    _tail,
    start,
    wait_for_data,
)


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


def _rules_config(rules_path: Path, alertmanagers: Sequence[str]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "global": {"evaluation_interval": "1s", "scrape_interval": "15s"},
        "rule_files": [str(rules_path)],
    }
    if alertmanagers:   # where the firing alerts go (host:port each)
        doc["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": list(alertmanagers)}]}]}
    return doc


def prometheus_from_openmetrics(text: str, workdir: PathLike, *,
                                rules_file: PathLike | None = None,
                                ready_timeout: float = 60.0,
                                extra_args: Sequence[str] = (),
                                alertmanagers: Sequence[str] = ()) -> Backend:
    """Backfill ``text`` (OpenMetrics) with promtool and serve it with Prometheus.

    Returns once ``/-/ready`` answers, an instant query at the data's last timestamp
    returns series, and (with ``rules_file``) every alert of the file is firing — and is
    sent to ``alertmanagers`` (host:port each), if any.
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
        config.write_text(yaml.safe_dump(_rules_config(rules_path, alertmanagers)))
        config_arg = str(config)
    else:
        rules_path = None
        config_arg = "/dev/null"    # an empty config is a valid one (no scrapes, no rules)

    def argv_for(port: int) -> list[str]:
        return [PROMETHEUS_BIN, f"--config.file={config_arg}", f"--storage.tsdb.path={tsdb}",
                "--storage.tsdb.retention.time=100y",
                f"--web.listen-address=127.0.0.1:{port}", *extra_args]

    backend = start("prometheus", argv_for, wd, "/-/ready", ready_timeout)
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

    backend = start("victoria-metrics", argv_for, wd, "/health", ready_timeout)
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
