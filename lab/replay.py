"""Replay a recording: promtool backfills it into a fresh Prometheus, triage is asked.

Used by ``python -m lab replay``, ``bench/lab_verdicts.py`` and the recording tests.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import requests
import yaml

from lab import procs, record
from lab.judge import free_port, run_checks, triage_rca
from lab.procs import LabError
from lab.scenarios import NAMESPACE, SCENARIOS


def at_seconds(labels: dict) -> float:
    return datetime.fromisoformat(labels["at"].replace("Z", "+00:00")).timestamp()


@contextmanager
def prometheus_with(text: str, workdir: Path | None = None) -> Iterator[str]:
    """A Prometheus serving ``text`` (OpenMetrics); yields its URL, stops it on exit."""
    for binary in ("prometheus", "promtool"):
        if shutil.which(binary) is None:
            raise LabError(f"{binary} not found: apt-get install prometheus")
    own = workdir is None
    wd = Path(workdir or tempfile.mkdtemp(prefix="triage-lab-replay-"))
    proc = None
    try:
        data = wd / "data.om"
        data.write_text(text)
        procs.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(data), str(wd / "tsdb")],
                  log_path=wd / "promtool.log", timeout=300)
        data.unlink()
        port = free_port()
        proc = procs.start("prometheus", ["prometheus", "--config.file=/dev/null", f"--storage.tsdb.path={wd / 'tsdb'}",
                                          "--storage.tsdb.retention.time=100y",
                                          f"--web.listen-address=127.0.0.1:{port}"],
                           log_path=wd / "prometheus.log", cwd=wd)
        url = f"http://127.0.0.1:{port}"
        http = requests.Session()
        http.trust_env = False
        procs.wait_until("replay prometheus", lambda: http.get(url + "/-/ready", timeout=2).status_code == 200,
                         timeout=60, proc=proc)
        yield url
    finally:
        if proc is not None:
            proc.stop()
        if own:
            shutil.rmtree(wd, ignore_errors=True)


def config_for(labels: dict, path: Path) -> Path:
    svc = {"namespace": labels.get("namespace", NAMESPACE), "database": labels["service"], "tier": 1,
           "depends_on": ["bank-api"]}
    if labels.get("invariants"):
        svc["invariants"] = labels["invariants"]
    path.write_text(yaml.safe_dump({"services": {labels["service"]: svc}}, sort_keys=False))
    return path


def replay(directory: Path, *, with_checks: bool = True) -> dict:
    """Backfill one recording and ask ``triage rca``; returns the verdict, timings and checks."""
    text, labels = record.load(directory)
    at = at_seconds(labels)
    wd = Path(tempfile.mkdtemp(prefix="triage-lab-replay-"))
    try:
        t0 = time.monotonic()
        with prometheus_with(text, wd) as url:
            loaded = time.monotonic() - t0
            http = requests.Session()
            http.trust_env = False

            def value(promql: str, when: float) -> float | None:
                body = http.get(url + "/api/v1/query", params={"query": promql, "time": str(when)}, timeout=30).json()
                res = body.get("data", {}).get("result", [])
                return float(res[0]["value"][1]) if res else None

            procs.wait_until("backfilled data", lambda: value("count({__name__=~\".+\"})", at), timeout=60)
            t1 = time.monotonic()
            payload = triage_rca(url, labels["service"], at, labels["window"], labels["baseline"],
                                 config_for(labels, wd / "triage.yaml"), wd)
            rca_seconds = time.monotonic() - t1
            checks = []
            scenario = SCENARIOS.get(labels.get("scenario", ""))
            if with_checks and scenario is not None:
                checks = run_checks(value, scenario.checks, labels["service"], at, labels["window"])
        return {"recording": directory.name, "labels": labels, "rca": payload, "checks": checks,
                "load_seconds": round(loaded, 2), "rca_seconds": round(rca_seconds, 2)}
    finally:
        shutil.rmtree(wd, ignore_errors=True)
