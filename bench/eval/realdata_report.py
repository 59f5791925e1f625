"""The printed tables of the real-data set: class accuracy per fault, the fleet figures per
config and baseline, exit codes, crashes, the confidence calibration, and one line per case."""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from collections.abc import Callable

from bench.eval.realdata import calibration, class_scored, fleet_figures, missing_names, rank_in_ranking
from bench.eval.realdata_cases import BASELINE_ROWS, Ask


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
    ranking: list = p["ranking"] if isinstance(p.get("ranking"), list) else []
    services: dict = p["services"] if isinstance(p.get("services"), dict) else {}
    own: dict = services[ask.case.service] if isinstance(services.get(ask.case.service), dict) else {}
    top3 = [[e.get("service"), e.get("bottleneck"), e.get("score")] for e in ranking[:3] if isinstance(e, dict)]
    return {"rank": rank_in_ranking(ranking, ask.case.service), "top3": top3,
            "verdict": own.get("bottleneck"), "confidence": own.get("confidence"),
            "code": ask.code, "stderr": ask.stderr, "seconds": round(ask.seconds, 2)}


def _dataset(ds: str, recs: list[dict], rows: list[str], w: Callable[[str], object]) -> dict:
    """One dataset's tables: class accuracy per fault, the fleet figures per row, exit codes, crashes."""
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
    for row in rows:
        fig = fleet_figures([r["ranks"].get(row) for r in recs])
        ds_sum["fleet"][row] = fig
        w(f"{row:<34}{fig['n']:>3}{_fmt(fig['ac1']):>7}{_fmt(fig['ac3']):>7}{_fmt(fig['avg5']):>7}\n")
    _exits(recs, w)
    return ds_sum


def _exits(recs: list[dict], w: Callable[[str], object]) -> None:
    codes: Counter[tuple[str, int | None]] = Counter()
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


def report(records: list[dict], fleet_rows: dict[str, list[str]], out=sys.stdout) -> dict:
    """Print the tables; return the summary figures."""
    summary: dict = {"datasets": {}}
    w = out.write
    by_ds: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_ds[r["dataset"]].append(r)
    for ds, recs in by_ds.items():
        summary["datasets"][ds] = _dataset(ds, recs, fleet_rows.get(ds, []), w)

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


