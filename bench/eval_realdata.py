"""`triage rca` on public, labelled fault-injection incidents (issue 12): ../shared/realdata.

Converts the cases with the folder's own ``to_openmetrics.py`` (cached under
/tmp/triage-realdata-cache/<hash of the inputs>), backfills them with promtool, serves them
with a real Prometheus, and asks every case as a user would (the real CLI, in-process by
default, ``--subprocess`` for real processes):

- ``triage rca --service <labelled service> --at <t_inject+240> --window 4m --baseline B -o json``
  (B = 1h for Nezha, 5m for RCD) -> class accuracy per fault type;
- ``triage rca --all-services`` on the same windows -> the labelled service's rank:
  AC@1, AC@3, Avg@5 per dataset (and, for Nezha, with and without ``depends_on``);
- a naive z-score and a BARO-style robust score on the same windows, from the same
  Prometheus (raw samples of the metrics the dataset's ``signals:`` map) -> the same figures;
- the confidence calibration of the per-service verdicts.

Scoring: the class is right when the verdict is in ``expected`` (``|`` = alternatives), except
Nezha's code-level faults (``return``, ``exception``): their data carries no error signal, so
only ``unknown`` naming ``error_ratio`` among ``missing_signals`` is right. ``network_delay``'s
class is reported, not scored; its fleet rank is. A service scored 0 in a ranking is a miss.

    python bench/eval_realdata.py                      # everything
    python bench/eval_realdata.py -v --dataset rcd-sockshop --cases 'carts'
    python bench/eval_realdata.py --json /tmp/run1.json   # every case, to diff two runs

Skips (exit 0) when the realdata folder is absent.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from _common import ROOT, machine, triage_argv

from bench._realdata_scoring import (
    calibration, class_right, class_scored, expected_for, fleet_figures, missing_names,
    rank_by_scores, rank_in_ranking, service_scores,
)

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


# --------------------------------------------------------------------------------------
# Data: convert (cached), backfill, serve
# --------------------------------------------------------------------------------------

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
    from tests.backends.servers import PROMETHEUS_BIN, _start, wait_for_data

    tsdb = workdir / "tsdb"
    try:
        shutil.copytree(cache / "tsdb", tsdb, copy_function=os.link)
    except OSError:
        shutil.rmtree(tsdb, ignore_errors=True)
        shutil.copytree(cache / "tsdb", tsdb)

    def argv_for(port: int) -> list[str]:
        return [PROMETHEUS_BIN, "--config.file=/dev/null", f"--storage.tsdb.path={tsdb}",
                "--storage.tsdb.retention.time=100y", f"--web.listen-address=127.0.0.1:{port}"]

    backend = _start("prometheus", argv_for, workdir, "/-/ready", 120.0)
    try:
        for at in probes:
            wait_for_data(backend, at, timeout=120.0)
    except BaseException:
        backend.stop()
        raise
    return backend


# --------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------
# Running the CLI
# --------------------------------------------------------------------------------------

def cli_args(ask: Ask, url: str) -> list[str]:
    c = ask.case
    target = ["--service", c.service] if ask.kind == "service" else ["--all-services"]
    return ["rca", *target, "--at", str(c.at), "--window", WINDOW, "--baseline", c.baseline,
            "-o", "json", "--config", str(ask.config), "--prometheus-url", url]


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


def _parse(stdout: str) -> dict | None:
    try:
        payload = json.loads(stdout)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def run_in_process(ask: Ask, url: str, env: dict, cwd: Path) -> None:
    from tests.cli_harness import run_cli

    start = time.perf_counter()
    try:
        res = run_cli(cli_args(ask, url), env=env, cwd=cwd)
        code, out, err = res.code, res.stdout, res.stderr
    except Exception as e:   # noqa: BLE001 - a bench records, it does not stop
        code, out, err = -1, "", f"bench: in-process run raised {type(e).__name__}: {e}"
    ask.seconds = time.perf_counter() - start
    if code == 130:
        raise KeyboardInterrupt
    ask.code, ask.stderr, ask.payload = code, _first_line(err), _parse(out)


def run_subprocess(ask: Ask, url: str, env: dict, cwd: Path) -> None:
    full = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    full.update(env)
    full["PYTHONPATH"] = str(ROOT) + os.pathsep + full.get("PYTHONPATH", "")
    start = time.perf_counter()
    with _ACTIVE_LOCK:
        if _STOPPING.is_set():
            return
        proc = subprocess.Popen(triage_argv() + cli_args(ask, url), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, cwd=cwd, env=full)
        _ACTIVE.add(proc)
    try:
        out, err = proc.communicate()
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE.discard(proc)
    ask.seconds = time.perf_counter() - start
    if proc.returncode in (130, -signal.SIGINT) or _STOPPING.is_set():
        raise KeyboardInterrupt
    ask.code, ask.stderr = proc.returncode, _first_line(err.decode(errors="replace"))
    ask.payload = _parse(out.decode(errors="replace"))


_ACTIVE: set = set()          # running triage processes (--subprocess), stopped on an interrupt
_ACTIVE_LOCK = threading.Lock()
_STOPPING = threading.Event()


def _stop_active() -> None:
    _STOPPING.set()
    with _ACTIVE_LOCK:
        procs = list(_ACTIVE)
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def run_all(asks: list[Ask], url: str, *, subprocesses: bool, jobs: int, home: Path, cwd: Path,
            progress: bool) -> None:
    env = {"TRIAGE_PROMETHEUS_URL": url, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    done = [0]
    lock = threading.Lock()

    def one(ask: Ask) -> None:
        (run_subprocess if subprocesses else run_in_process)(ask, url, env, cwd)
        with lock:
            done[0] += 1
            if progress:
                print(f"\r  {done[0]}/{len(asks)} runs", end="", file=sys.stderr, flush=True)

    if subprocesses and jobs > 1:
        pool = ThreadPoolExecutor(max_workers=jobs)
        try:
            for f in [pool.submit(one, a) for a in asks]:
                f.result()
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            _stop_active()
            raise
        pool.shutdown()
    else:
        # In-process runs share os.environ, the cwd and sys.stdout: one at a time.
        try:
            for a in asks:
                one(a)
        except BaseException:
            _stop_active()
            raise
    if progress:
        print(file=sys.stderr)


# --------------------------------------------------------------------------------------
# The baselines: raw samples of the dataset's metrics, from the same Prometheus
# --------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------
# Scoring and the report
# --------------------------------------------------------------------------------------

def _fmt(x, digits=2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def service_record(ask: Ask) -> dict:
    p = ask.payload or {}
    conf = p.get("confidence")
    return {"verdict": p.get("bottleneck") if isinstance(p.get("bottleneck"), str) else None,
            "confidence": float(conf) if isinstance(conf, (int, float)) else None,
            "missing_signals": sorted(missing_names(p.get("missing_signals"))),
            "code": ask.code, "stderr": ask.stderr, "seconds": round(ask.seconds, 2)}


def fleet_record(ask: Ask) -> dict:
    p = ask.payload or {}
    ranking = p.get("ranking") if isinstance(p.get("ranking"), list) else []
    services = p.get("services") if isinstance(p.get("services"), dict) else {}
    own = services.get(ask.case.service) if isinstance(services.get(ask.case.service), dict) else {}
    top3 = [[e.get("service"), e.get("bottleneck"), e.get("score")] for e in ranking[:3] if isinstance(e, dict)]
    return {"rank": rank_in_ranking(ranking, ask.case.service), "top3": top3,
            "verdict": own.get("bottleneck"), "confidence": own.get("confidence"),
            "code": ask.code, "stderr": ask.stderr, "seconds": round(ask.seconds, 2)}


def report(records: list[dict], fleet_rows: dict[str, list[str]], out=sys.stdout) -> dict:
    """Print the tables; return the summary figures."""
    summary: dict = {"datasets": {}}
    w = out.write
    by_ds: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_ds[r["dataset"]].append(r)
    for ds, recs in by_ds.items():
        w(f"\n== {ds}: {len(recs)} cases ==\n\n")
        w(f"{'fault':<16}{'n':>3}{'right':>7}{'acc':>7}  verdicts (--service)\n")
        faults: dict[str, list[dict]] = defaultdict(list)
        for r in recs:
            faults[r["fault"]].append(r)
        scored_n = scored_right = 0
        ds_sum: dict = {"class": {}, "fleet": {}}
        for fault, rs in faults.items():
            verdicts = Counter(r["service_run"]["verdict"] or f"(exit {r['service_run']['code']})" for r in rs)
            vs = " ".join(f"{v}x{n}" for v, n in verdicts.most_common())
            if class_scored(fault):
                right = sum(r["class_right"] for r in rs)
                scored_n += len(rs)
                scored_right += right
                w(f"{fault:<16}{len(rs):>3}{right:>7}{right / len(rs):>7.2f}  {vs}\n")
                ds_sum["class"][fault] = {"n": len(rs), "right": right}
            else:
                w(f"{fault:<16}{len(rs):>3}{'-':>7}{'-':>7}  {vs}  (class not scored)\n")
        acc = scored_right / scored_n if scored_n else None
        w(f"{'class, scored':<16}{scored_n:>3}{scored_right:>7}{_fmt(acc):>7}\n")
        ds_sum["class_accuracy"] = acc
        w(f"\n{'fleet ranking':<34}{'n':>3}{'AC@1':>7}{'AC@3':>7}{'Avg@5':>7}\n")
        for row in fleet_rows.get(ds, []):
            ranks = [r["ranks"].get(row) for r in recs]
            fig = fleet_figures(ranks)
            ds_sum["fleet"][row] = fig
            w(f"{row:<34}{fig['n']:>3}{_fmt(fig['ac1']):>7}{_fmt(fig['ac3']):>7}{_fmt(fig['avg5']):>7}\n")
        codes = Counter()
        for r in recs:
            codes[("service", r["service_run"]["code"])] += 1
            for k, f in r["fleet_runs"].items():
                codes[(k, f["code"])] += 1
        w("exit codes: " + ", ".join(f"{k} {c}: {n}" for (k, c), n in sorted(codes.items(), key=str)) + "\n")
        crashes = [(r["case_id"], k, f["code"], f["stderr"]) for r in recs
                   for k, f in [("service", r["service_run"]), *r["fleet_runs"].items()]
                   if f["code"] not in (0, 1, 2, 3) or (f["code"] == 3 and f.get("verdict") is None and f["stderr"])]
        for cid, k, c, e in crashes:
            w(f"  ! {cid} {k}: exit {c}: {e}\n")
        summary["datasets"][ds] = ds_sum

    scored = [(r["service_run"]["confidence"], r["class_right"]) for r in records if r["class_scored"]]
    cal = calibration(scored)
    w(f"\n== calibration: {cal.n} scored per-service verdicts (all datasets) ==\n\n")
    w(f"{'confidence':<12}{'n':>4}{'right':>7}{'acc':>7}\n")
    for b in cal.buckets:
        w(f"{b['bucket']:<12}{b['n']:>4}{b['right']:>7}{_fmt(b['accuracy']):>7}\n")
    w(f"mean confidence: right {_fmt(cal.mean_conf_right)}, wrong {_fmt(cal.mean_conf_wrong)}; "
      f"confidence >= 0.8: {cal.n_high} verdicts, {_fmt(cal.share_right_high)} right"
      + (f"; {cal.no_confidence} without a confidence" if cal.no_confidence else "") + "\n")
    # An honest `unknown` carries confidence 0 by design: the calibration of the verdicts
    # that named a class is read without them.
    named = [(r["service_run"]["confidence"], r["class_right"]) for r in records
             if r["class_scored"] and r["service_run"].get("verdict") not in ("unknown", None)]
    cal_named = calibration(named)
    w(f"class verdicts only ({cal_named.n}, unknown left out): mean confidence right "
      f"{_fmt(cal_named.mean_conf_right)}, wrong {_fmt(cal_named.mean_conf_wrong)}\n")
    summary["calibration"] = cal.to_json()
    summary["calibration_named"] = cal_named.to_json()
    return summary


SHORT = {BASELINE_ROWS["z"]: "z", BASELINE_ROWS["z_rel"]: "z5%", BASELINE_ROWS["robust"]: "baro"}


def per_case_lines(records: list[dict], out=sys.stdout) -> None:
    out.write("\n== cases (ok/XX: class right/wrong; rank of the labelled service per fleet config and baseline) ==\n")
    for r in records:
        s = r["service_run"]
        exp = "unknown(!error_ratio)" if r["must_miss"] else "|".join(r["acceptable"])
        mark = "  " if not r["class_scored"] else ("ok" if r["class_right"] else "XX")
        ranks = " ".join(f"{SHORT.get(k, k.removeprefix('triage fleet (').rstrip(')'))}={v if v is not None else '-'}"
                         for k, v in r["ranks"].items())
        got = s["verdict"] or f"(exit {s['code']}: {s['stderr'][:60]})"
        out.write(f"{mark} {r['case_id']:<22} {r['fault']:<15} {exp:<35} -> {got:<20} "
                  f"{_fmt(s['confidence'])}  rank {ranks}\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--realdata", type=Path, default=ROOT.parent / "shared" / "realdata")
    ap.add_argument("--fresh", action="store_true", help="rebuild the cached OpenMetrics/TSDB")
    ap.add_argument("--json", type=Path, help="write every case's answers here")
    ap.add_argument("--cases", help="only case ids matching this regex")
    ap.add_argument("--dataset", help="only this dataset (nezha-ob, rcd-sockshop)")
    ap.add_argument("--subprocess", action="store_true", help="a real `triage` process per run")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="parallel runs (with --subprocess only)")
    ap.add_argument("--prometheus-url", help="use this Prometheus (already holding the data) instead of starting one")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per case")
    args = ap.parse_args(argv)

    realdata = args.realdata.resolve()
    if not (realdata / "cases" / "index.csv").exists():
        print(f"skipped: no real data at {realdata}")
        return 0

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)

    t0 = time.perf_counter()
    backend = None
    scratch = Path(tempfile.mkdtemp(prefix="triage-realdata-"))
    try:
        wait_for_binaries()
        cache = prepare(realdata, args.fresh)
        t_prep = time.perf_counter() - t0
        cases = load_cases(cache / "index.csv", args.dataset, args.cases)
        if not cases:
            print("no case matches", file=sys.stderr)
            return 3
        if args.prometheus_url:
            url = args.prometheus_url.rstrip("/")
        else:
            probes = [min(c.at for c in cases if c.dataset == ds) for ds in sorted({c.dataset for c in cases})]
            backend = serve(cache, scratch, probes)
            url = backend.url
        t_serve = time.perf_counter() - t0 - t_prep

        asks: list[Ask] = []
        fleet_rows: dict[str, list[str]] = {}
        for ds in sorted({c.dataset for c in cases}):
            svc_config, fleet_configs = configs_for(realdata, ds)
            fleet_rows[ds] = [f"triage fleet ({p.stem})" for p in fleet_configs] + list(BASELINE_ROWS.values())
            for c in (c for c in cases if c.dataset == ds):
                asks.append(Ask(c, "service", svc_config))
                for p in fleet_configs:
                    asks.append(Ask(c, f"fleet:{p.stem}", p))
        home = scratch / "home"
        home.mkdir()
        t1 = time.perf_counter()
        run_all(asks, url, subprocesses=args.subprocess, jobs=max(1, args.jobs), home=home, cwd=scratch,
                progress=sys.stderr.isatty())
        t_runs = time.perf_counter() - t1

        import requests
        http = requests.Session()
        http.trust_env = False
        t2 = time.perf_counter()
        base_by_case = {}
        meta = {ds: config_metrics_and_services(configs_for(realdata, ds)[0]) for ds in {c.dataset for c in cases}}
        for c in cases:
            base_by_case[c.case_id] = baseline_scores(http, url, c, *meta[c.dataset])
        t_base = time.perf_counter() - t2

        records = []
        asks_by_case: dict[str, list[Ask]] = defaultdict(list)
        for a in asks:
            asks_by_case[a.case.case_id].append(a)
        for c in cases:
            mine = asks_by_case[c.case_id]
            srv = service_record(next(a for a in mine if a.kind == "service"))
            fleets = {f"triage fleet ({a.kind.split(':', 1)[1]})": fleet_record(a) for a in mine if a.kind != "service"}
            acceptable, must_miss = expected_for(c.dataset, c.fault, c.expected)
            bs = base_by_case[c.case_id]
            ranks = {k: f["rank"] for k, f in fleets.items()}
            for key, row in BASELINE_ROWS.items():
                ranks[row] = rank_by_scores(bs[key], c.service)
            records.append({
                "case_id": c.case_id, "dataset": c.dataset, "service": c.service, "fault": c.fault,
                "expected": c.expected, "acceptable": list(acceptable), "must_miss": must_miss,
                "at": c.at, "window": WINDOW, "baseline": c.baseline,
                "class_scored": class_scored(c.fault),
                "class_right": class_right(c.dataset, c.fault, c.expected, srv["verdict"], srv["missing_signals"]),
                "service_run": srv, "fleet_runs": fleets, "ranks": ranks,
                "baseline_top3": {key: top(bs[key]) for key in BASELINE_ROWS},
            })

        print(f"triage rca on real labelled incidents ({realdata}); {machine()}")
        print(f"{len(cases)} cases, {len(asks)} CLI runs ({'subprocess, -j %d' % args.jobs if args.subprocess else 'in-process'})")
        if args.verbose:
            per_case_lines(records)
        summary = report(records, fleet_rows)
        total = time.perf_counter() - t0
        run_secs = [a.seconds for a in asks]
        print(f"\ntiming: total {total:.1f}s = data {t_prep:.1f}s + Prometheus {t_serve:.1f}s + "
              f"CLI runs {t_runs:.1f}s (mean {sum(run_secs) / len(run_secs):.2f}s, max {max(run_secs):.2f}s) + "
              f"baselines {t_base:.1f}s")
        if args.json:
            args.json.write_text(json.dumps({"machine": machine(), "realdata": str(realdata),
                                             "summary": summary, "cases": records}, indent=2, default=str) + "\n")
            print(f"wrote {args.json}")
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        if backend is not None:
            backend.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
