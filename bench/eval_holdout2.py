"""Accuracy of `triage rca` on the SECOND blind held-out set (tests/scenarios/holdout2.py).

Harder than the first held-out set: competing problems where only one is the cause,
cause-then-effect chains inside one service, messy data (counter resets, pods coming and
going, scrape gaps, 8-12 % noise, spikes in the baseline, an incident that began before
the window), borderline magnitudes, scary-looking ``none`` controls and honest
``unknown`` s.  Designed from CONTRACT.md, the seeds and the generator only.

Loads the whole set into one real Prometheus (promtool backfill, 18:41..20:01 at 30 s,
scrape gaps removed after generation), runs ``triage rca --all-services -o json`` once
and ``triage rca --service S -o json`` for every scenario, and prints the same report as
``bench/eval_holdout.py``: confusion matrices, accuracy overall and per class, mean
confidence right/wrong, trigger accuracy, exit codes that disagree with the verdict,
every miss with label, verdict, confidence, the top candidates with scores, their
evidence and every ``signals`` entry baseline -> window, whether the ``unknown`` s name
what decides, and the fleet ranking of the chain (h2-ledger must rank above its caller).

    python bench/eval_holdout2.py
    python bench/eval_holdout2.py --only h2-churn --only h2-gap-cpu
    python bench/eval_holdout2.py --json out.json    # every verdict and payload
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from _common import ROOT, machine, triage_argv
from eval_holdout import _num, candidates_line, evidence_lines, signals_lines
from eval_rca import Case, Run, print_matrix, run_fleet, run_single, summarise

from tests.scenarios.holdout2 import GAPS, H2_CHAIN, holdout2_library, serve_holdout2
from tests.scenarios.rca_library import AT


def miss_details(title: str, cases: list[Case], run: Run, only: set | None = None, top: int = 3) -> None:
    wrong = [c for c in cases if not c.right(run.answers[(c.source, c.service)].verdict)]
    if only is not None:
        wrong = [c for c in wrong if c.service in only]
    print(f"\n{title}: {len(wrong)} misses in detail")
    for c in wrong:
        a = run.answers[(c.source, c.service)]
        p = a.payload or {}
        print(f"\n  MISS {c.service}: label {c.label}" + (f" (or {', '.join(c.acceptable)})" if c.acceptable else "")
              + f" -> verdict {a.verdict}, confidence {_num(a.confidence)}, trigger {a.trigger}"
              + (f" (expected {c.trigger})" if c.trigger else "")
              + (f", exit {a.code}" if run.per_service_exit else ""))
        print(f"    note: {c.note}")
        print(f"    top candidates: {candidates_line(p, top)}")
        for line in evidence_lines(p, top):
            print(f"    evidence {line}")
        if p.get("missing_signals"):
            print(f"    missing_signals: {', '.join(map(str, p['missing_signals']))}")
        for i, line in enumerate(signals_lines(p)):
            print(f"    {'signals' if i == 0 else '       '}: {line}")


def ranking_check(payload: dict) -> str:
    ranking = payload.get("ranking") if isinstance(payload, dict) else None
    if not isinstance(ranking, list):
        return "no ranking in the fleet output"
    order = [r.get("service") for r in ranking if isinstance(r, dict)]
    pos = {n: (order.index(n) + 1 if n in order else None) for n in H2_CHAIN}
    ok = all(pos.values()) and pos[H2_CHAIN[0]] < pos[H2_CHAIN[1]]
    return (f"{'OK' if ok else 'WRONG'}: " + ", ".join(f"{n} #{p}" for n, p in pos.items())
            + f" of {len(order)}; top 5: {order[:5]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", default=[], help="evaluate only these held-out services")
    parser.add_argument("--no-single", action="store_true", help="only the fleet pass")
    parser.add_argument("--markdown", action="store_true", help="print the matrices as markdown tables")
    parser.add_argument("--json", type=Path, help="write every verdict (and payload) to this file")
    opts = parser.parse_args()

    argv = triage_argv()
    if argv[1:] == ["-m", "triage"]:
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    print(f"machine: {machine()}")
    print(f"triage: {' '.join(argv)}")
    scenarios = holdout2_library()
    if opts.only:
        scenarios = [s for s in scenarios if s.name in opts.only]
    cases = [Case("library", s.name, s.bottleneck, tuple(a for a in s.answers if a != s.bottleneck),
                  s.trigger, s.note) for s in scenarios]
    missing_wanted = {s.name: tuple(s.missing) for s in scenarios if s.missing}
    single, fleet = Run("per service"), Run("fleet pass", per_service_exit=False)

    print("\nheld-out-2 scenarios:")
    for s in scenarios:
        extra = f" (or {', '.join(s.acceptable)})" if s.acceptable else ""
        gaps = " [scrape gaps]" if s.name in GAPS else ""
        print(f"  {s.name:20} {s.bottleneck}{extra}  [{s.spec.pods} pod{'s' if s.spec.pods > 1 else ''}]"
              f"{gaps}  {s.note}")

    with tempfile.TemporaryDirectory(prefix="eval-holdout2-") as tmp:
        work = Path(tmp)
        with serve_holdout2(work / "holdout2", scenarios) as server:
            print(f"\nholdout2: {len(scenarios)} services in one Prometheus; generated {server.megabytes:.0f} MB "
                  f"of OpenMetrics in {server.seconds_generate:.1f} s, promtool backfill + Prometheus start "
                  f"{server.seconds_load:.1f} s")
            info = run_fleet(server.url, server.config, AT, cases, fleet, work)
            print(f"rca --all-services: {info['seconds']:.2f} s wall, exit {info['code']}, "
                  f"peak RSS {info['rss_kib'] / 1024:.0f} MiB")
            print(f"chain ranking: {ranking_check(info['payload'])}")
            if not opts.no_single:
                t0 = time.perf_counter()
                run_single(server.url, server.config, AT, cases, single, work)
                times = [single.answers[(c.source, c.service)].seconds for c in cases]
                print(f"rca --service (x{len(cases)}): {time.perf_counter() - t0:.1f} s in all, "
                      f"median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms each")

    runs = [fleet] if opts.no_single else [single, fleet]
    summary = {}
    for run in runs:
        print_matrix(f"{run.name}, holdout2", cases, run, opts.markdown)
        summary[run.name] = summarise(f"{run.name}, holdout2", cases, run)

    primary = runs[0]
    print("\nconfidence per scenario (" + primary.name + "): "
          + ", ".join(f"{c.service} {primary.answers[(c.source, c.service)].verdict} "
                      f"{_num(primary.answers[(c.source, c.service)].confidence)}" for c in cases))
    miss_details(f"{primary.name}", cases, primary)
    if primary is single:
        differ = {c.service for c in cases
                  if fleet.answers[(c.source, c.service)].verdict != single.answers[(c.source, c.service)].verdict}
        if differ:
            miss_details("fleet pass (only where it disagrees with the per-service verdict)", cases, fleet, differ)

    if missing_wanted:
        print("\nunknown scenarios: does missing_signals name what decides?")
        for name, want in missing_wanted.items():
            a = primary.answers[("library", name)]
            got = set((a.payload or {}).get("missing_signals") or [])
            lacking = [w for w in want if w not in got]
            print(f"  {name}: verdict {a.verdict}; expected among missing {list(want)}; "
                  + ("all named" if not lacking else f"not named: {lacking}")
                  + f"; reported {sorted(got)}")

    if opts.json:
        report = {
            "machine": machine(), "summary": summary,
            "labels": {c.service: {"bottleneck": c.label, "acceptable": list(c.acceptable), "trigger": c.trigger,
                                   "note": c.note} for c in cases},
            "verdicts": {run.name: {svc: {"verdict": a.verdict, "confidence": a.confidence, "trigger": a.trigger,
                                          "exit": a.code, "payload": a.payload}
                                    for (_, svc), a in run.answers.items()} for run in runs},
        }
        opts.json.write_text(json.dumps(report, indent=2, default=str))
        print(f"\nwrote {opts.json}")


if __name__ == "__main__":
    main()
