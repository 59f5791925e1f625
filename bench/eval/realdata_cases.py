"""The real-data set (../shared/realdata): its cases, their conversion (cached) and a real
Prometheus serving them, the datasets' configs, and the naive baselines' raw samples."""

from __future__ import annotations

import csv
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.eval.realdata import service_scores
from testing.backends import PROMETHEUS_BIN, start, wait_for_data

CACHE = Path("/tmp/triage-realdata-cache")
BASELINE = {"nezha-ob": "1h", "rcd-sockshop": "5m"}     # README "How the cases are asked"
DEFAULT_BASELINE = "1h"
WINDOW = "4m"
WINDOW_S = 240
AT_OFFSET = 240
PROMETHEUS_WAIT_S = 900     # apt may still be installing prometheus when the bench starts

DURATION = {"s": 1, "m": 60, "h": 3600}
BASELINE_ROWS = {"z": "z-score (max z, sd>=1e-6)", "z_rel": "z-score (max z, sd>=5% mean)",
                 "robust": "BARO (max (x-med)/IQR)"}


def seconds_of(text: str) -> int:
    return int(text[:-1]) * DURATION[text[-1]]



def inputs_hash(realdata: Path) -> str:
    h = hashlib.sha256()
    files = [realdata / "to_openmetrics.py", realdata / "cases" / "index.csv",
             *sorted((realdata / "cases").glob("*.csv.gz"))]
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def wait_for_binaries(names=("prometheus", "promtool"), timeout: float = PROMETHEUS_WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    told = False
    while True:
        missing = [n for n in names if shutil.which(n) is None]
        if not missing:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"eval_realdata: {', '.join(missing)} not installed after {timeout:.0f}s")
        if not told:
            print(f"waiting for {', '.join(missing)} to be installed ...", file=sys.stderr)
            told = True
        time.sleep(5)


def prepare(realdata: Path, fresh: bool) -> Path:
    """The cache dir holding index.csv and tsdb/ (blocks), built once per input hash."""
    target = CACHE / inputs_hash(realdata)
    if fresh and target.exists():
        shutil.rmtree(target)
    if (target / "ok").exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix="build-", dir=CACHE))
    try:
        subprocess.run([sys.executable, str(realdata / "to_openmetrics.py"), str(realdata / "cases"), str(build)],
                       check=True, stdin=subprocess.DEVNULL)
        for om in sorted(build.glob("*.om")):
            subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(om),
                            str(build / "tsdb")], check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
            om.unlink()
        (build / "ok").write_text("")
        if target.exists():
            shutil.rmtree(target)
        build.rename(target)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return target



def serve(cache: Path, workdir: Path, probes: list[int]):
    """A real Prometheus over a private copy of the cached blocks (hard links: blocks are
    immutable), ready and answering at every probe time."""
    tsdb = workdir / "tsdb"
    try:
        shutil.copytree(cache / "tsdb", tsdb, copy_function=os.link)
    except OSError:
        shutil.rmtree(tsdb, ignore_errors=True)
        shutil.copytree(cache / "tsdb", tsdb)

    def argv_for(port: int) -> list[str]:
        return [PROMETHEUS_BIN, "--config.file=/dev/null", f"--storage.tsdb.path={tsdb}",
                "--storage.tsdb.retention.time=100y", f"--web.listen-address=127.0.0.1:{port}"]

    backend = start("prometheus", argv_for, workdir, "/-/ready", 120.0)
    try:
        for at in probes:
            wait_for_data(backend, at, timeout=120.0)
    except BaseException:
        backend.stop()
        raise
    return backend



@dataclass
class Case:
    case_id: str
    dataset: str
    service: str
    fault: str
    expected: str
    t_inject: int

    @property
    def at(self) -> int:
        return self.t_inject + AT_OFFSET

    @property
    def baseline(self) -> str:
        return BASELINE.get(self.dataset, DEFAULT_BASELINE)


@dataclass
class Ask:
    """One CLI run."""
    case: Case
    kind: str                 # "service" or "fleet:<config stem>"
    config: Path
    code: int | None = None
    stderr: str = ""
    seconds: float = 0.0
    payload: dict | None = None


def load_cases(index: Path, dataset: str | None, pattern: str | None) -> list[Case]:
    rx = re.compile(pattern) if pattern else None
    cases = []
    with open(index, newline="") as f:
        for r in csv.DictReader(f):
            if not r.get("t_inject"):
                continue
            if dataset and r["dataset"] != dataset:
                continue
            if rx and not rx.search(r["case_id"]):
                continue
            cases.append(Case(r["case_id"], r["dataset"], r["service"], r["fault"], r["expected"],
                              int(float(r["t_inject"]))))
    return cases


def configs_for(realdata: Path, dataset: str) -> tuple[Path, list[Path]]:
    """(the config for --service, the configs for fleet rows): the `-deps` variant first."""
    plain = realdata / "configs" / f"{dataset}.yaml"
    deps = realdata / "configs" / f"{dataset}-deps.yaml"
    if deps.exists():
        return deps, [deps] + ([plain] if plain.exists() else [])
    if not plain.exists():
        found = sorted((realdata / "configs").glob(f"{dataset.split('-')[0]}*.yaml"))
        if not found:
            raise SystemExit(f"eval_realdata: no config for dataset {dataset} in {realdata / 'configs'}")
        plain = found[0]
    return plain, [plain]


METRIC_RX = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{")
PROMQL_WORDS = {"max", "min", "sum", "avg", "count", "rate", "irate", "by", "without", "histogram_quantile",
                "increase", "quantile", "topk", "bottomk", "clamp_min", "clamp_max"}


def config_metrics_and_services(config: Path) -> tuple[list[str], list[str]]:
    import yaml

    doc = yaml.safe_load(config.read_text()) or {}
    metrics: list[str] = []
    for q in (doc.get("signals") or {}).values():
        for name in METRIC_RX.findall(str(q)):
            if name not in PROMQL_WORDS and name not in metrics:
                metrics.append(name)
    return metrics, list((doc.get("services") or {}).keys())


def baseline_scores(http, url: str, case: Case, metrics: list[str], services: list[str]) -> dict:
    """{"z": {service: max z}, "robust": {service: max robust score}} on the case's windows."""
    span = WINDOW_S + seconds_of(case.baseline)
    win_start = case.at - WINDOW_S
    base_start = win_start - seconds_of(case.baseline)
    series = []
    wanted = set(services)
    for m in metrics:
        r = http.get(url + "/api/v1/query", params={"query": f"{m}[{span}s]", "time": case.at}, timeout=60)
        r.raise_for_status()
        for s in r.json()["data"]["result"]:
            svc = s["metric"].get("service")
            if svc not in wanted:
                continue
            base, win = [], []
            for ts, v in s["values"]:
                ts, v = float(ts), float(v)
                if base_start < ts <= win_start:
                    base.append(v)
                elif win_start < ts <= case.at:
                    win.append(v)
            series.append((svc, base, win))
    return {m: service_scores(series, m) for m in BASELINE_ROWS}


def top(scores: dict[str, float], n: int = 3) -> list[list]:
    return [[s, round(v, 3)] for s, v in sorted(scores.items(), key=lambda kv: -kv[1])[:n]]


