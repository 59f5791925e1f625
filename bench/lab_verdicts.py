"""Per-scenario verdict and confidence of `triage rca` on the incident lab.

Default: every recording in ``lab/recordings/`` is backfilled (promtool) into its own
Prometheus and ``triage rca`` is asked with the recording's labels, as a user would (a
fresh ``python -m triage`` process). ``--live NAME...`` (or ``--live all``) runs the
scenarios live instead (three stacks per lab; about 8 min per group with the default
4 min baseline and 3 min incident).

Prints one row per scenario: expected class, verdict, confidence, trigger, whether the
raw-signal checks held, and timings; ``--markdown`` prints a table for BENCHMARKS.md.

    python -m bench.lab_verdicts
    python -m bench.lab_verdicts --markdown
    python -m bench.lab_verdicts --live db-pool external-dependency cpu --baseline 2m --incident 2m
"""

from __future__ import annotations

import argparse
import sys
import time

from lab import record
from lab.__main__ import RECORDINGS, duration, run_group
from lab.scenarios import SCENARIOS


def replayed(names: list[str]) -> list[dict]:
    from lab.replay import replay

    dirs = [RECORDINGS / n for n in names] if names else record.recordings(RECORDINGS)
    rows = []
    for d in dirs:
        res = replay(d)
        p, labels = res["rca"], res["labels"]
        data = next(d.glob("data.om*"))
        rows.append({"scenario": d.name, "service": labels["service"], "expected": labels["bottleneck"],
                     "verdict": p["bottleneck"], "confidence": p["confidence"], "trigger": p.get("trigger"),
                     "checks": all(c["ok"] for c in res["checks"]),
                     "invariant_violated": any(i["violated"] for i in p.get("invariants", [])),
                     "size": f"{data.stat().st_size / 1e6:.2f} MB{' (gz)' if data.suffix == '.gz' else ''}",
                     "seconds": res["load_seconds"] + res["rca_seconds"], "mode": "replay"})
    return rows


def live(names: list[str], args: argparse.Namespace) -> list[dict]:
    names = list(SCENARIOS) if names == ["all"] else names
    scenarios = [SCENARIOS[n] for n in names]
    ns = argparse.Namespace(warmup=args.warmup, baseline=args.baseline, incident=args.incident, keep=False,
                            no_rca=False, record=None)
    rows = []
    for i in range(0, len(scenarios), 3):
        t0 = time.monotonic()
        for r in run_group(scenarios[i:i + 3], ns):
            rows.append({"scenario": r["scenario"], "service": r["service"], "expected": r["expected"],
                         "verdict": r["rca"]["bottleneck"], "confidence": r["rca"]["confidence"],
                         "trigger": r["rca"]["trigger"], "checks": all(c["ok"] for c in r["checks"]),
                         "invariant_violated": any(x["violated"] for x in r["rca"]["invariants"]),
                         "size": "-", "seconds": round(time.monotonic() - t0, 1), "mode": "live"})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="recordings to replay (default: all)")
    parser.add_argument("--live", nargs="+", metavar="SCENARIO", help="run these scenarios live ('all' for every one)")
    parser.add_argument("--warmup", type=duration, default=duration("60s"))
    parser.add_argument("--baseline", type=duration, default=duration("4m"))
    parser.add_argument("--incident", type=duration, default=duration("3m"))
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    rows = live(args.live, args) if args.live else replayed(args.names)
    right = sum(r["verdict"] == r["expected"] for r in rows)
    if args.markdown:
        print("| scenario | service | expected | verdict | confidence | trigger | raw checks | data | seconds |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            verdict = r["verdict"] if r["verdict"] == r["expected"] else f"**{r['verdict']}**"
            extra = " (invariant violated)" if r["invariant_violated"] else ""
            print(f"| {r['scenario']} | {r['service']} | {r['expected']} | {verdict}{extra} | {r['confidence']:.2f} | "
                  f"{r['trigger']} | {'hold' if r['checks'] else 'FAIL'} | {r['size']} | {r['seconds']:.1f} |")
    else:
        for r in rows:
            mark = "ok " if r["verdict"] == r["expected"] else "BAD"
            print(f"{mark} {r['scenario']:20} expected {r['expected']:20} verdict {r['verdict']:20} "
                  f"confidence {r['confidence']:.2f}  trigger {r['trigger']}  "
                  f"checks {'hold' if r['checks'] else 'FAIL'}"
                  f"{'  invariant violated' if r['invariant_violated'] else ''}  {r['size']}  {r['seconds']:.1f}s")
    print(f"{right}/{len(rows)} named correctly ({rows[0]['mode'] if rows else '-'})")
    return 0 if right == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
