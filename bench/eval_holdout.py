"""Accuracy of `triage rca` on the BLIND held-out library (tests/scenarios/holdout.py).

The held-out scenarios were designed from CONTRACT.md, the seeds and the generator only,
without reading the classifier or the development library's scenarios, to measure how the
classifier generalises.  Loads all of them into one real Prometheus (promtool backfill,
18:41..20:01 at 30 s), runs ``triage rca --all-services -o json`` once and
``triage rca --service S -o json`` for every scenario (the CLI, a fresh process each time),
and prints:

- the confusion matrix (rows = label, columns = verdict), per service and for the fleet pass;
- accuracy overall and per class, mean confidence of right and wrong answers, trigger
  accuracy, exit codes that disagree with the verdict;
- for every miss: label, verdict, confidence, the top two candidates with their scores,
  and every ``signals`` entry baseline -> window of that service;
- for the honest ``unknown`` scenarios, whether ``missing_signals`` names what decides;
- the fleet ranking of the held-out chain (ho-maps-tiles must rank above its caller ho-geo-eta).

    python bench/eval_holdout.py
    python bench/eval_holdout.py --json out.json    # every verdict and payload
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
from eval_rca import (
    Case,
    Run,
    print_matrix,
    run_fleet,
    run_single,
    summarise,
)

from tests.scenarios.holdout import holdout_library
from tests.scenarios.rca_library import AT, serve_library

#: root cause first: ho-maps-tiles is CPU-bound, ho-geo-eta waits on it.
HO_CHAIN = ("ho-maps-tiles", "ho-geo-eta")


def _num(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, (int, float)):
        ax = abs(x)
        if ax == 0:
            return "0"
        if ax >= 100:
            return f"{x:.0f}"
        if ax >= 1:
            return f"{x:.2f}"
        return f"{x:.3g}"
    return str(x)


def candidates_line(payload: dict | None, n: int = 2) -> str:
    cands = (payload or {}).get("candidates") or []
    cands = [c for c in cands if isinstance(c, dict)]
    cands.sort(key=lambda c: -(c.get("score") or 0.0))
    return ", ".join(f"{c.get('bottleneck')} {_num(c.get('score'))}" for c in cands[:n]) or "(none)"


def evidence_lines(payload: dict | None, n: int = 2) -> list[str]:
    """The summaries of the top candidates' evidence (what the classifier said it saw)."""
    out = []
    cands = sorted([c for c in (payload or {}).get("candidates") or [] if isinstance(c, dict)],
                   key=lambda c: -(c.get("score") or 0.0))
    for c in cands[:n]:
        summ = []
        for ev in c.get("evidence") or []:
            if isinstance(ev, dict):
                summ.append(ev.get("summary") or f"{ev.get('signal')} {_num(ev.get('baseline'))}->"
                            f"{_num(ev.get('window'))}")
            else:
                summ.append(str(ev))
        if summ:
            out.append(f"{c.get('bottleneck')}: " + "; ".join(summ))
    return out


def signals_lines(payload: dict | None, width: int = 110) -> list[str]:
    sigs = (payload or {}).get("signals") or {}
    parts = []
    for name, v in sigs.items():
        if isinstance(v, dict):
            unit = v.get("unit") or ""
            parts.append(f"{name} {_num(v.get('baseline'))}->{_num(v.get('window'))}"
                         + (f" {unit}" if unit and unit not in ("ratio",) else ""))
        else:
            parts.append(f"{name} {v}")
    lines, cur = [], ""
    for p in parts:
        if cur and len(cur) + len(p) + 3 > width:
            lines.append(cur)
            cur = ""
        cur = f"{cur} | {p}" if cur else p
    if cur:
        lines.append(cur)
    return lines


def miss_details(title: str, cases: list[Case], run: Run, only: set | None = None) -> None:
    wrong = [c for c in cases if not c.right(run.answers[(c.source, c.service)].verdict)]
    if only is not None:
        wrong = [c for c in wrong if c.service in only]
    print(f"\n{title}: {len(wrong)} misses in detail")
    for c in wrong:
        a = run.answers[(c.source, c.service)]
        conf = _num(a.confidence)
        p = a.payload or {}
        print(f"\n  MISS {c.service}: label {c.label}" + (f" (or {', '.join(c.acceptable)})" if c.acceptable else "")
              + f" -> verdict {a.verdict}, confidence {conf}, trigger {a.trigger}"
              + (f", exit {a.code}" if run.per_service_exit else ""))
        print(f"    note: {c.note}")
        print(f"    top candidates: {candidates_line(p)}")
        for line in evidence_lines(p):
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
    pos = {n: (order.index(n) + 1 if n in order else None) for n in HO_CHAIN}
    ok = all(pos.values()) and pos[HO_CHAIN[0]] < pos[HO_CHAIN[1]]
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
    scenarios = holdout_library()
    if opts.only:
        scenarios = [s for s in scenarios if s.name in opts.only]
    cases = [Case("library", s.name, s.bottleneck, tuple(a for a in s.answers if a != s.bottleneck),
                  s.trigger, s.note) for s in scenarios]
    missing_wanted = {s.name: tuple(s.missing) for s in scenarios if s.missing}
    single, fleet = Run("per service"), Run("fleet pass", per_service_exit=False)

    print("\nheld-out scenarios:")
    for s in scenarios:
        extra = f" (or {', '.join(s.acceptable)})" if s.acceptable else ""
        print(f"  {s.name:22} {s.bottleneck}{extra}  [{s.spec.pods} pod{'s' if s.spec.pods > 1 else ''}]  {s.note}")

    with tempfile.TemporaryDirectory(prefix="eval-holdout-") as tmp:
        work = Path(tmp)
        with serve_library(work / "holdout", scenarios) as server:
            print(f"\nholdout: {len(scenarios)} services in one Prometheus; generated {server.megabytes:.0f} MB "
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
        print_matrix(f"{run.name}, holdout", cases, run, opts.markdown)
        summary[run.name] = summarise(f"{run.name}, holdout", cases, run)

    primary = runs[0]
    miss_details(f"{primary.name}", cases, primary)
    if primary is single:
        # fleet misses that the per-service run did not have (or answered differently)
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
