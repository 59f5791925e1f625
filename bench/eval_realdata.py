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

    python -m bench.eval_realdata                      # everything
    python -m bench.eval_realdata -v --dataset rcd-sockshop --cases 'carts'
    python -m bench.eval_realdata --json /tmp/run1.json   # every case, to diff two runs

Skips (exit 0) when the realdata folder is absent.
"""


from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import requests

from bench._common import ROOT, machine
from bench.eval.realdata import class_right, class_scored, expected_for, rank_by_scores
from bench.eval.realdata_cases import (
    BASELINE_ROWS,
    WINDOW,
    Ask,
    Case,
    baseline_scores,
    config_metrics_and_services,
    configs_for,
    load_cases,
    prepare,
    serve,
    top,
    wait_for_binaries,
)
from bench.eval.realdata_report import fleet_record, per_case_lines, report, service_record
from bench.eval.realdata_runs import run_all


def options(argv: list[str] | None) -> argparse.Namespace:
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
    return ap.parse_args(argv)


def plan(realdata: Path, cases: list[Case]) -> tuple[list[Ask], dict[str, list[str]]]:
    """Every CLI run to make (per service, then one fleet pass per config) and each dataset's fleet rows."""
    asks: list[Ask] = []
    fleet_rows: dict[str, list[str]] = {}
    for ds in sorted({c.dataset for c in cases}):
        svc_config, fleet_configs = configs_for(realdata, ds)
        fleet_rows[ds] = [f"triage fleet ({p.stem})" for p in fleet_configs] + list(BASELINE_ROWS.values())
        for c in (c for c in cases if c.dataset == ds):
            asks.append(Ask(c, "service", svc_config))
            for p in fleet_configs:
                asks.append(Ask(c, f"fleet:{p.stem}", p))
    return asks, fleet_rows


def baselines(realdata: Path, url: str, cases: list[Case]) -> dict[str, dict]:
    http = requests.Session()
    http.trust_env = False
    meta = {ds: config_metrics_and_services(configs_for(realdata, ds)[0]) for ds in {c.dataset for c in cases}}
    return {c.case_id: baseline_scores(http, url, c, *meta[c.dataset]) for c in cases}


def record(c: Case, mine: list[Ask], bs: dict) -> dict:
    """One case's answers and scores, as printed and as written to --json."""
    srv = service_record(next(a for a in mine if a.kind == "service"))
    fleets = {f"triage fleet ({a.kind.split(':', 1)[1]})": fleet_record(a) for a in mine if a.kind != "service"}
    acceptable, must_miss = expected_for(c.dataset, c.fault, c.expected)
    ranks = {k: f["rank"] for k, f in fleets.items()}
    for key, row in BASELINE_ROWS.items():
        ranks[row] = rank_by_scores(bs[key], c.service)
    return {
        "case_id": c.case_id, "dataset": c.dataset, "service": c.service, "fault": c.fault,
        "expected": c.expected, "acceptable": list(acceptable), "must_miss": must_miss,
        "at": c.at, "window": WINDOW, "baseline": c.baseline,
        "class_scored": class_scored(c.fault),
        "class_right": class_right(c.dataset, c.fault, c.expected, srv["verdict"], srv["missing_signals"]),
        "service_run": srv, "fleet_runs": fleets, "ranks": ranks,
        "baseline_top3": {key: top(bs[key]) for key in BASELINE_ROWS},
    }


def evaluate(args: argparse.Namespace, realdata: Path, scratch: Path, started: float) -> int:
    wait_for_binaries()
    cache = prepare(realdata, args.fresh)
    t_prep = time.perf_counter() - started
    cases = load_cases(cache / "index.csv", args.dataset, args.cases)
    if not cases:
        print("no case matches", file=sys.stderr)
        return 3
    backend = None
    try:
        if args.prometheus_url:
            url = args.prometheus_url.rstrip("/")
        else:
            probes = [min(c.at for c in cases if c.dataset == ds) for ds in sorted({c.dataset for c in cases})]
            backend = serve(cache, scratch, probes)
            url = backend.url
        t_serve = time.perf_counter() - started - t_prep

        asks, fleet_rows = plan(realdata, cases)
        home = scratch / "home"
        home.mkdir()
        t1 = time.perf_counter()
        run_all(asks, url, subprocesses=args.subprocess, jobs=max(1, args.jobs), home=home, cwd=scratch,
                progress=sys.stderr.isatty())
        t_runs = time.perf_counter() - t1
        t2 = time.perf_counter()
        base_by_case = baselines(realdata, url, cases)
        t_base = time.perf_counter() - t2
    finally:
        if backend is not None:
            backend.stop()

    asks_by_case: dict[str, list[Ask]] = defaultdict(list)
    for a in asks:
        asks_by_case[a.case.case_id].append(a)
    records = [record(c, asks_by_case[c.case_id], base_by_case[c.case_id]) for c in cases]

    print(f"triage rca on real labelled incidents ({realdata}); {machine()}")
    print(f"{len(cases)} cases, {len(asks)} CLI runs "
          f"({f'subprocess, -j {args.jobs:d}' if args.subprocess else 'in-process'})")
    if args.verbose:
        per_case_lines(records)
    summary = report(records, fleet_rows)
    total = time.perf_counter() - started
    run_secs = [a.seconds for a in asks]
    print(f"\ntiming: total {total:.1f}s = data {t_prep:.1f}s + Prometheus {t_serve:.1f}s + "
          f"CLI runs {t_runs:.1f}s (mean {sum(run_secs) / len(run_secs):.2f}s, max {max(run_secs):.2f}s) + "
          f"baselines {t_base:.1f}s")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "realdata": str(realdata),
                                         "summary": summary, "cases": records}, indent=2, default=str) + "\n")
        print(f"wrote {args.json}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = options(argv)
    realdata = args.realdata.resolve()
    if not (realdata / "cases" / "index.csv").exists():
        print(f"skipped: no real data at {realdata}")
        return 0

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)

    started = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="triage-realdata-"))
    try:
        return evaluate(args, realdata, scratch, started)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
