"""``python -m lab``: the incident lab.

    python -m lab list                                  the scenarios and what triage should say
    python -m lab run db-pool                           baseline 4m, incident 3m, triage rca, checks
    python -m lab run db-pool cpu --record              ... and write lab/recordings/<scenario>/
    python -m lab run --all --record                    every scenario, three stacks at a time
    python -m lab replay [NAME...]                      backfill recordings, ask triage again
    python -m lab up none --minutes 30                  a lab to poke at: URLs, control files, baseline load

Exit status of ``run`` and ``replay``: 0 when every scenario's raw-signal checks hold and
triage named the expected class, 1 when one did not, 2 when the lab itself failed,
130 when interrupted. Progress goes to stderr, the result to stdout.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from lab import record
from lab.procs import LabError
from lab.scenarios import SCENARIOS

RECORDINGS = Path(__file__).resolve().parent / "recordings"


def duration(text: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)?", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 90s, 4m)")
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]


def fmt_duration(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 60}m" if s % 60 == 0 else f"{s}s"


def _scenarios(names: list[str], all_: bool) -> list:
    if all_:
        names = list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown or not names:
        raise SystemExit(f"unknown scenario(s) {', '.join(unknown) or '(none given)'}; "
                         f"choose from: {', '.join(SCENARIOS)}")
    return [SCENARIOS[n] for n in names]


def cmd_list(args: argparse.Namespace) -> int:
    for sc in SCENARIOS.values():
        print(f"{sc.name:20} {sc.bottleneck:20} {sc.service:10} {sc.story}")
    return 0


def run_group(scenarios: list, args: argparse.Namespace) -> list[dict]:
    from lab.runner import Lab

    window, baseline = fmt_duration(args.incident), fmt_duration(args.baseline)
    results = []
    t0 = time.monotonic()
    with Lab(scenarios, keep=args.keep) as lab:
        started = time.monotonic() - t0
        at = lab.run_phases(args.warmup, args.baseline, args.incident)
        begin = at - args.incident - args.baseline - args.warmup
        begin = float(int(begin // record.STEP + 1) * int(record.STEP))
        for st in lab.stacks:
            sc = st.scenario
            row: dict = {"scenario": sc.name, "service": st.service, "expected": sc.bottleneck,
                         "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)), "window": window,
                         "baseline": baseline, "prometheus": lab.prometheus_url, "events": st.events,
                         "checks": lab.check(st, at, window), "startup_seconds": round(started, 1)}
            if not args.no_rca:
                payload = lab.rca(st, at, window, baseline) or {}
                row["rca"] = {k: payload.get(k) for k in ("bottleneck", "confidence", "trigger", "summary",
                                                          "missing_signals", "severity", "status")}
                row["rca"]["invariants"] = [{"name": i["name"], "violated": i["violated"]}
                                            for i in payload.get("invariants", [])]
                row["rca"]["candidates"] = [(c["bottleneck"], c["score"]) for c in payload.get("candidates", [])]
            if args.record:
                series = record.fetch(lab.query_range, st.service, st.bank_pod, begin, at)
                labels = {"service": st.service, "bottleneck": sc.bottleneck, "at": row["at"], "window": window,
                          "baseline": baseline, "namespace": "lab", "scenario": sc.name, "story": sc.story,
                          "trigger": sc.trigger, "invariants": [dict(i) for i in sc.invariants],
                          "step": f"{record.STEP:g}s", "database_engine": sc.database_engine,
                          "checks": [{k: c[k] for k in ("check", "expect", "observed", "ok")} for c in row["checks"]],
                          "recorded_verdict": ({"bottleneck": row["rca"]["bottleneck"],
                                                "confidence": row["rca"]["confidence"]} if "rca" in row else None)}
                path = record.write(Path(args.record) / sc.name, record.openmetrics(series), labels)
                row["recording"] = {"path": str(path), "bytes": path.stat().st_size, "series": len(series)}
            results.append(row)
    for row in results:
        row["run_seconds"] = round(time.monotonic() - t0, 1)
    return results


def ok(row: dict) -> bool:
    checks_ok = all(c["ok"] for c in row.get("checks", []))
    rca = row.get("rca")
    return checks_ok and (rca is None or rca["bottleneck"] == row["expected"])


def print_rows(rows: list[dict], as_json: bool) -> None:
    if as_json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        rca = row.get("rca")
        verdict = f"{rca['bottleneck']} ({rca['confidence']})" if rca else "-"
        mark = "ok " if ok(row) else "BAD"
        print(f"{mark} {row['scenario']:20} expected {row['expected']:20} triage {verdict:28} "
              f"service {row['service']} at {row['at']}")
        for c in row.get("checks", []):
            print(f"      {'✓' if c['ok'] else '✗'} {c['check']}: {c['observed']} (want {c['expect']})")
        if rca and rca.get("invariants"):
            for inv in rca["invariants"]:
                print(f"      invariant {inv['name']}: {'VIOLATED' if inv['violated'] else 'holds'}")
        if row.get("recording"):
            r = row["recording"]
            print(f"      recorded {r['path']} ({r['bytes'] / 1e6:.2f} MB, {r['series']} series)")


def cmd_run(args: argparse.Namespace) -> int:
    scenarios = _scenarios(args.scenario, args.all)
    if args.record is True:
        args.record = str(RECORDINGS)
    groups = [scenarios[i:i + args.parallel] for i in range(0, len(scenarios), args.parallel)]
    rows: list[dict] = []
    for group in groups:
        rows += run_group(group, args)
        print_rows(rows[-len(group):], False) if not args.json else None
    if args.json:
        print_rows(rows, True)
    return 0 if all(ok(r) for r in rows) else 1


def cmd_replay(args: argparse.Namespace) -> int:
    from lab.replay import replay

    root = Path(args.dir)
    dirs = [root / n for n in args.name] if args.name else record.recordings(root)
    rows = []
    for d in dirs:
        res = replay(d)
        payload = res["rca"]
        row = {"scenario": d.name, "service": res["labels"]["service"], "expected": res["labels"]["bottleneck"],
               "at": res["labels"]["at"], "checks": res["checks"],
               "rca": {"bottleneck": payload["bottleneck"], "confidence": payload["confidence"],
                       "trigger": payload.get("trigger"),
                       "invariants": [{"name": i["name"], "violated": i["violated"]}
                                      for i in payload.get("invariants", [])]}}
        rows.append(row)
        if not args.json:
            print_rows([row], False)
    if args.json:
        print_rows(rows, True)
    return 0 if all(ok(r) for r in rows) else 1


def cmd_up(args: argparse.Namespace) -> int:
    from lab.runner import Lab

    scenarios = _scenarios(args.scenario or ["none"], False)
    with Lab(scenarios, keep=args.keep) as lab:
        loads = [lab.start_load(st, st.scenario.baseline, args.minutes * 60, "up") for st in lab.stacks]
        print(f"prometheus   {lab.prometheus_url}")
        for st in lab.stacks:
            print(f"{st.service}: {st.url}  (pod {st.pod}, metrics :{st.metrics_port})")
            print(f"  service control file: {st.control_path}")
            print(f"  bank control file:    {st.bank_control_path}")
        print(f"baseline load for {args.minutes:g} min; edit a control file to inject a fault; Ctrl-C stops "
              "everything", flush=True)
        end = time.monotonic() + args.minutes * 60
        while time.monotonic() < end and any(p.running() for p in loads):
            time.sleep(1)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab", description="The triage incident lab.",
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the scenarios").set_defaults(func=cmd_list)

    run = sub.add_parser("run", help="run scenarios end to end")
    run.add_argument("scenario", nargs="*")
    run.add_argument("--all", action="store_true", help="every scenario")
    run.add_argument("--warmup", type=duration, default=duration("60s"))
    run.add_argument("--baseline", type=duration, default=duration("4m"))
    run.add_argument("--incident", type=duration, default=duration("3m"))
    run.add_argument("--parallel", type=int, default=3, help="scenario stacks per lab (default 3)")
    run.add_argument("--record", nargs="?", const=True, default=None, metavar="DIR",
                     help=f"write recordings (default dir {RECORDINGS})")
    run.add_argument("--no-rca", action="store_true", help="do not ask triage")
    run.add_argument("--keep", action="store_true", help="keep the temp dir (logs, Prometheus data)")
    run.add_argument("--json", action="store_true")
    run.set_defaults(func=cmd_run)

    rep = sub.add_parser("replay", help="backfill recordings into Prometheus and ask triage")
    rep.add_argument("name", nargs="*")
    rep.add_argument("--dir", default=str(RECORDINGS))
    rep.add_argument("--json", action="store_true")
    rep.set_defaults(func=cmd_replay)

    up = sub.add_parser("up", help="start a lab and keep it up under baseline load")
    up.add_argument("scenario", nargs="*")
    up.add_argument("--minutes", type=float, default=30)
    up.add_argument("--keep", action="store_true")
    up.set_defaults(func=cmd_up)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted: everything the lab started was stopped", file=sys.stderr)
        return 130
    except LabError as e:
        print(f"lab: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
