"""Accuracy of `triage rca` on the labelled scenario library (and on lab recordings, if any).

Loads every scenario of ``testing/scenarios/rca_library/`` into one real Prometheus (one
dataset: each service is a decoy for the others), runs ``triage rca --all-services -o json``
once and ``triage rca --service S -o json`` for every scenario, as a user would (the
installed console script, a fresh process each time), and prints:

- a confusion matrix (rows = label, columns = verdict) over the ten CONTRACT classes, for
  the per-service runs and for the fleet pass;
- accuracy overall and per class, mean confidence of right and of wrong answers, trigger
  accuracy, exit codes that disagree with the verdict, the chain ranking (payment above
  checkout), and every miss with the scenario's note;
- wall times (generation, backfill + start, the fleet pass, the per-service runs).

Recordings: every incident-lab recording (``lab/recordings/<scenario>/data.om[.gz]`` with
its ``labels.json``: service, class, at, window, baseline) and every ``*.om`` whose directory
holds a ``labels.json`` is served by its own Prometheus and evaluated the same way.  For a
plain ``*.om``, ``labels.json`` is either
``{"service": "class", ...}`` or ``{"at": "<RFC 3339>", "services": {"service": "class" |
{"bottleneck": "class", "acceptable": [...]}}}``; when several ``.om`` files share a
directory, ``{"<file>.om": {...}}`` gives each its own labels.  ``--at`` defaults to the last
sample of the recording; a sibling ``triage.yaml`` is used as the config when present.

    python -m bench.eval_rca                   # library only
    python -m bench.eval_rca --markdown        # tables ready for BENCHMARKS.md
    python -m bench.eval_rca --json out.json   # every verdict, for diffing two runs
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from bench._common import ROOT, machine
from bench.eval import Case, Run, ask_served, cases_of, print_runs, ranking_check, start
from bench.eval.recordings import evaluate_recording, recording_sets
from testing.scenarios.rca_library import CHAIN, rca_library, serve_library


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-single", action="store_true", help="only the fleet pass")
    parser.add_argument("--recordings", type=Path, default=ROOT / "lab" / "recordings",
                        help="where to look for labelled *.om recordings (default lab/recordings)")
    parser.add_argument("--only", action="append", default=[], help="evaluate only these library services")
    parser.add_argument("--markdown", action="store_true", help="print the matrices as markdown tables")
    parser.add_argument("--json", type=Path, help="write every verdict to this file")
    return parser.parse_args()


def ask_recordings(root: Path, work: Path, single: Run, fleet: Run, report: dict) -> list[Case]:
    recorded: list[Case] = []
    if root.exists():
        for rec in recording_sets(root):
            info = evaluate_recording(rec, work, single, fleet)
            print(f"recording {rec.path}: {len(rec.cases)} labelled services, load {info['load_seconds']:.1f} s, "
                  f"fleet pass {info['seconds']:.2f} s")
            recorded += rec.cases
            report["recordings"].append({"file": str(rec.path), "services": len(rec.cases),
                                         "load_seconds": info["load_seconds"]})
    return recorded


def main() -> None:
    opts = options()
    start()
    scenarios = rca_library()
    if opts.only:
        scenarios = [s for s in scenarios if s.name in opts.only]
    cases = cases_of(scenarios)
    single, fleet = Run("per service"), Run("fleet pass", per_service_exit=False)
    report: dict = {"machine": machine(), "library": {}, "recordings": []}

    with tempfile.TemporaryDirectory(prefix="eval-rca-") as tmp:
        work = Path(tmp)
        with serve_library(work / "library", scenarios) as server:
            info = ask_served("library", server, cases, single, fleet, work, no_single=opts.no_single,
                              chain=lambda payload: ranking_check(payload, CHAIN, "payment", "checkout"))
            times = info.pop("single_seconds", None)
            report["library"]["fleet"] = {k: v for k, v in info.items() if k != "payload"}
            if times is not None:
                report["library"]["single_seconds"] = times
        recorded = ask_recordings(opts.recordings, work, single, fleet, report)

    runs = [fleet] if opts.no_single else [single, fleet]
    groups = [("library", cases)] + ([("recordings", recorded), ("all", cases + recorded)] if recorded else [])
    summary = print_runs(runs, groups, opts.markdown)
    if summary:
        report["summary"] = {f"{run}/{group}": figures for (run, group), figures in summary.items()}

    if opts.json:
        report["verdicts"] = {
            run.name: {f"{src}:{svc}": {"verdict": a.verdict, "confidence": a.confidence, "trigger": a.trigger,
                                        "exit": a.code, "seconds": round(a.seconds, 3)}
                       for (src, svc), a in run.answers.items()}
            for run in runs}
        report["labels"] = {f"{c.source}:{c.service}": c.label for c in cases + recorded}
        opts.json.write_text(json.dumps(report, indent=2, default=str))
        print(f"\nwrote {opts.json}")


if __name__ == "__main__":
    main()
