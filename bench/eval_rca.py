"""Accuracy of `triage rca` on the labelled scenario library (and on lab recordings, if any).

Loads every scenario of ``tests/scenarios/rca_library.py`` into one real Prometheus (one
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

    python bench/eval_rca.py                   # library only
    python bench/eval_rca.py --markdown        # tables ready for BENCHMARKS.md
    python bench/eval_rca.py --json out.json   # every verdict, for diffing two runs
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from _common import ROOT, machine, run_timed, triage_argv

from tests.scenarios.rca_library import AT, CHAIN, CLASSES, rca_library, serve_library

SHORT = {
    "cpu_saturation": "cpu", "memory_pressure": "mem", "db_pool_exhaustion": "pool",
    "db_latency": "dblat", "lock_contention": "lock", "connection_churn": "churn",
    "external_dependency": "dep", "application_errors": "app", "none": "none", "unknown": "unk",
}
NO_ANSWER = "(err)"     # no parsable JSON: a crash, a usage error, no data


@dataclass
class Case:
    source: str                      # "library" or the recording's path
    service: str
    label: str
    acceptable: tuple[str, ...] = ()
    trigger: str | None = None
    note: str = ""

    def right(self, verdict: str | None) -> bool:
        return verdict == self.label or verdict in self.acceptable


@dataclass
class Answer:
    verdict: str
    confidence: float | None
    trigger: str | None
    code: int
    seconds: float
    payload: dict | None = None


@dataclass
class Run:
    """The answers of one way of asking (per service, or the fleet pass) over some cases."""
    name: str
    answers: dict[tuple[str, str], Answer] = field(default_factory=dict)
    per_service_exit: bool = True    # the fleet pass has one exit code for all


# --------------------------------------------------------------------------------------
# Running triage
# --------------------------------------------------------------------------------------

def _parse(stdout: str) -> dict | None:
    try:
        payload = json.loads(stdout)
    except (json.JSONDecodeError, ValueError):
        return None
    return payload if isinstance(payload, dict) else None


def _answer(payload: dict | None, code: int, seconds: float) -> Answer:
    if payload is None or payload.get("bottleneck") not in CLASSES:
        return Answer(NO_ANSWER, None, None, code, seconds, payload)
    conf = payload.get("confidence")
    return Answer(payload["bottleneck"], float(conf) if isinstance(conf, (int, float)) else None,
                  payload.get("trigger"), code, seconds, payload)


def run_single(url: str, config: Path | None, at: str, cases: list[Case], run: Run, cwd: Path,
               extra: list[str] | None = None) -> None:
    for case in cases:
        args = ["rca", "--prometheus-url", url, "--service", case.service, "--at", at, "-o", "json", *(extra or [])]
        if config is not None:
            args[3:3] = ["--config", str(config)]
        seconds, code, _, out = run_timed(args, cwd=cwd)
        run.answers[(case.source, case.service)] = _answer(_parse(out), code, seconds)


def run_fleet(url: str, config: Path | None, at: str, cases: list[Case], run: Run, cwd: Path,
              extra: list[str] | None = None) -> dict:
    args = ["rca", "--prometheus-url", url, "--all-services", "--at", at, "-o", "json", *(extra or [])]
    if config is not None:
        args[3:3] = ["--config", str(config)]
    seconds, code, rss, out = run_timed(args, cwd=cwd)
    payload = _parse(out) or {}
    services = payload.get("services") if isinstance(payload.get("services"), dict) else {}
    for case in cases:
        run.answers[(case.source, case.service)] = _answer(services.get(case.service), code, seconds)
    return {"seconds": seconds, "code": code, "rss_kib": rss, "payload": payload}


# --------------------------------------------------------------------------------------
# Recordings
# --------------------------------------------------------------------------------------

def _last_timestamp(text: str) -> float | None:
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line and not line.startswith("#"):
            try:
                return float(line.rsplit(" ", 1)[1])
            except (IndexError, ValueError):
                return None
    return None


@dataclass
class Recording:
    path: Path                       # the data file (.om or .om.gz)
    cases: list[Case]
    at: str | None
    extra: list[str] = field(default_factory=list)     # --window/--baseline of a lab recording
    config: dict | None = None                          # a triage.yaml to write for it


def _lab_recording(directory: Path, raw: dict) -> Recording | None:
    """The incident lab's format (lab/record.py): one service, its class, at/window/baseline."""
    data = next((directory / n for n in ("data.om", "data.om.gz") if (directory / n).exists()), None)
    if data is None or raw.get("bottleneck") not in CLASSES:
        return None
    source = str(data.relative_to(ROOT) if data.is_relative_to(ROOT) else data)
    case = Case(source, raw["service"], raw["bottleneck"], (), raw.get("trigger"), raw.get("story", "")[:80])
    svc = {"namespace": raw.get("namespace", "lab"), "database": raw["service"], "tier": 1,
           "depends_on": ["bank-api"]}
    if raw.get("invariants"):
        svc["invariants"] = raw["invariants"]
    return Recording(data, [case], raw["at"], ["--window", raw["window"], "--baseline", raw["baseline"]],
                     {"services": {raw["service"]: svc}})


def recording_sets(root: Path) -> list[Recording]:
    """Every labelled recording under root: the lab's directories (data.om[.gz] + labels.json
    naming one service) and plain ``*.om`` files with a labels.json of services."""
    found = []
    for labels_path in sorted(root.rglob("labels.json")):
        raw = json.loads(labels_path.read_text())
        if isinstance(raw, dict) and isinstance(raw.get("service"), str) and "bottleneck" in raw:
            rec = _lab_recording(labels_path.parent, raw)
            if rec is not None:
                found.append(rec)
            continue
        for om in sorted(labels_path.parent.glob("*.om")):
            this = raw[om.name] if isinstance(raw, dict) and isinstance(raw.get(om.name), dict) else raw
            at = this.get("at") if isinstance(this, dict) else None
            services = this.get("services", this) if isinstance(this, dict) else {}
            source = str(om.relative_to(ROOT) if om.is_relative_to(ROOT) else om)
            cases = []
            for service, value in services.items():
                if service in ("at", "services") or service.endswith(".om"):
                    continue
                if isinstance(value, str):
                    cases.append(Case(source, service, value))
                elif isinstance(value, dict) and value.get("bottleneck") in CLASSES:
                    cases.append(Case(source, service, value["bottleneck"], tuple(value.get("acceptable") or ()),
                                      value.get("trigger"), value.get("note", "")))
            bad = [c for c in cases if c.label not in CLASSES]
            if bad:
                print(f"warning: {labels_path}: labels that are not CONTRACT classes: "
                      f"{[(c.service, c.label) for c in bad]}", file=sys.stderr)
                cases = [c for c in cases if c.label in CLASSES]
            if cases:
                found.append(Recording(om, cases, at))
    return found


def evaluate_recording(rec: Recording, work: Path, single: Run, fleet: Run) -> dict:
    import gzip

    from tests.backends import prometheus_from_openmetrics

    raw = rec.path.read_bytes()
    text = (gzip.decompress(raw) if rec.path.suffix == ".gz" else raw).decode("utf-8")
    at = rec.at
    if at is None:
        last = _last_timestamp(text)
        if last is None:
            raise SystemExit(f"{rec.path}: no samples")
        at = str(int(last))
    own = work / f"{rec.path.parent.name}-{rec.path.name.split('.')[0]}"
    own.mkdir(parents=True, exist_ok=True)
    if rec.config is not None:
        cfg: Path | None = own / "triage.yaml"
        cfg.write_text(json.dumps(rec.config))          # JSON is YAML
    else:
        sibling = rec.path.parent / "triage.yaml"
        cfg = sibling if sibling.exists() else None
    t0 = time.perf_counter()
    with prometheus_from_openmetrics(text, own / "prom") as prom:
        load = time.perf_counter() - t0
        del text
        run_single(prom.url, cfg, at, rec.cases, single, work, rec.extra)
        info = run_fleet(prom.url, cfg, at, rec.cases, fleet, work, rec.extra)
    return {"load_seconds": load, **info}


# --------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------

def confusion(cases: list[Case], run: Run) -> tuple[dict[str, dict[str, int]], list[str]]:
    columns = [*CLASSES, NO_ANSWER]
    matrix = {label: {col: 0 for col in columns} for label in CLASSES}
    for case in cases:
        matrix[case.label][run.answers[(case.source, case.service)].verdict] += 1
    return matrix, columns


def print_matrix(title: str, cases: list[Case], run: Run, markdown: bool) -> None:
    matrix, columns = confusion(cases, run)
    used = [c for c in columns if c != NO_ANSWER or any(matrix[r][c] for r in CLASSES)]
    heads = [SHORT.get(c, c) for c in used]
    print(f"\n{title} (rows: label, columns: verdict)")
    if markdown:
        print("| label \\ verdict | " + " | ".join(heads) + " | right |")
        print("|---|" + "---:|" * (len(heads) + 1))
    else:
        print(f"{'label':>20} " + " ".join(f"{h:>5}" for h in heads) + "  right")
    for label in CLASSES:
        row = matrix[label]
        total = sum(row.values())
        if not total:
            continue
        right = sum(1 for c in cases if c.label == label and c.right(run.answers[(c.source, c.service)].verdict))
        cells = [str(row[c]) if row[c] else "." for c in used]
        if markdown:
            cells = [f"**{x}**" if c == label and x != "." else x for c, x in zip(used, cells)]
            print(f"| {label} | " + " | ".join(cells) + f" | {right}/{total} |")
        else:
            print(f"{label:>20} " + " ".join(f"{x:>5}" for x in cells) + f"  {right}/{total}")


def summarise(title: str, cases: list[Case], run: Run) -> dict:
    answers = [(c, run.answers[(c.source, c.service)]) for c in cases]
    right = [(c, a) for c, a in answers if c.right(a.verdict)]
    wrong = [(c, a) for c, a in answers if not c.right(a.verdict)]
    accepted = [(c, a) for c, a in right if a.verdict != c.label]
    conf_right = [a.confidence for _, a in right if a.confidence is not None]
    conf_wrong = [a.confidence for _, a in wrong if a.confidence is not None]
    per_class = {}
    for label in CLASSES:
        mine = [(c, a) for c, a in answers if c.label == label]
        if mine:
            per_class[label] = (sum(c.right(a.verdict) for c, a in mine), len(mine))
    with_trigger = [(c, a) for c, a in right if c.trigger is not None]
    trig_right = sum(1 for c, a in with_trigger if a.trigger == c.trigger)
    bad_exit = []
    for c, a in answers:
        if a.verdict == NO_ANSWER or not run.per_service_exit:
            continue
        want = (0,) if a.verdict == "none" else (3,) if a.verdict == "unknown" else (1, 2)
        if a.code not in want:
            bad_exit.append((c.service, a.verdict, a.code))

    def mean(xs):
        return f"{statistics.mean(xs):.2f}" if xs else "-"

    print(f"\n{title}: accuracy {len(right)}/{len(answers)} = {len(right) / max(1, len(answers)):.1%}"
          + (f" ({len(accepted)} by an accepted alternative)" if accepted else ""))
    print("  per class: " + ", ".join(f"{SHORT[k]} {r}/{n}" for k, (r, n) in per_class.items()))
    print(f"  mean confidence: right {mean(conf_right)} (n={len(conf_right)}), "
          f"wrong {mean(conf_wrong)} (n={len(conf_wrong)})")
    if with_trigger:
        print(f"  trigger right (where the verdict is right and the scenario has one): "
              f"{trig_right}/{len(with_trigger)}")
    if bad_exit:
        print(f"  exit code disagrees with the verdict: {bad_exit}")
    for c, a in wrong:
        conf = f"{a.confidence:.2f}" if a.confidence is not None else "-"
        where = c.service if c.source == "library" else f"{c.source}:{c.service}"
        exit_code = f", exit {a.code}" if run.per_service_exit else ""
        print(f"  MISS {where}: label {c.label}" + (f" (or {', '.join(c.acceptable)})" if c.acceptable else "")
              + f", verdict {a.verdict} (confidence {conf}{exit_code})"
              + (f"\n       {c.note}" if c.note else ""))
    return {"right": len(right), "total": len(answers), "accepted": len(accepted),
            "per_class": per_class, "confidence_right": conf_right, "confidence_wrong": conf_wrong,
            "trigger_right": trig_right, "trigger_total": len(with_trigger), "bad_exit": bad_exit}


def chain_check(fleet_payload: dict) -> str:
    ranking = fleet_payload.get("ranking") if isinstance(fleet_payload, dict) else None
    if not isinstance(ranking, list):
        return "no ranking in the fleet output"
    order = [r.get("service") for r in ranking if isinstance(r, dict)]
    pos = {name: (order.index(name) + 1 if name in order else None) for name in CHAIN}
    ok = pos["payment"] is not None and pos["checkout"] is not None and pos["payment"] < pos["checkout"]
    return (f"{'OK' if ok else 'WRONG'}: " + ", ".join(f"{n} #{p}" for n, p in pos.items())
            + f" of {len(order)}; top 5: {order[:5]}")


# --------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-single", action="store_true", help="only the fleet pass")
    parser.add_argument("--recordings", type=Path, default=ROOT / "lab" / "recordings",
                        help="where to look for labelled *.om recordings (default lab/recordings)")
    parser.add_argument("--only", action="append", default=[], help="evaluate only these library services")
    parser.add_argument("--markdown", action="store_true", help="print the matrices as markdown tables")
    parser.add_argument("--json", type=Path, help="write every verdict to this file")
    opts = parser.parse_args()

    argv = triage_argv()
    if argv[1:] == ["-m", "triage"]:
        # Not installed: `python -m triage` runs in a temporary directory, so point it at the checkout.
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    print(f"machine: {machine()}")
    print(f"triage: {' '.join(argv)}")
    scenarios = rca_library()
    if opts.only:
        scenarios = [s for s in scenarios if s.name in opts.only]
    cases = [Case("library", s.name, s.bottleneck, tuple(a for a in s.answers if a != s.bottleneck),
                  s.trigger, s.note) for s in scenarios]
    single, fleet = Run("per service"), Run("fleet pass", per_service_exit=False)
    report: dict = {"machine": machine(), "library": {}, "recordings": []}

    with tempfile.TemporaryDirectory(prefix="eval-rca-") as tmp:
        work = Path(tmp)
        with serve_library(work / "library", scenarios) as server:
            print(f"library: {len(scenarios)} services in one Prometheus; generated {server.megabytes:.0f} MB "
                  f"of OpenMetrics in {server.seconds_generate:.1f} s, promtool backfill + Prometheus start "
                  f"{server.seconds_load:.1f} s")
            info = run_fleet(server.url, server.config, AT, cases, fleet, work)
            print(f"rca --all-services: {info['seconds']:.2f} s wall, exit {info['code']}, "
                  f"peak RSS {info['rss_kib'] / 1024:.0f} MiB")
            print(f"chain ranking: {chain_check(info['payload'])}")
            report["library"]["fleet"] = {k: v for k, v in info.items() if k != "payload"}
            if not opts.no_single:
                t0 = time.perf_counter()
                run_single(server.url, server.config, AT, cases, single, work)
                times = [single.answers[(c.source, c.service)].seconds for c in cases]
                print(f"rca --service (x{len(cases)}): {time.perf_counter() - t0:.1f} s in all, "
                      f"median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms each")
                report["library"]["single_seconds"] = times

        recorded: list[Case] = []
        if opts.recordings.exists():
            for rec in recording_sets(opts.recordings):
                info = evaluate_recording(rec, work, single, fleet)
                print(f"recording {rec.path}: {len(rec.cases)} labelled services, load {info['load_seconds']:.1f} s, "
                      f"fleet pass {info['seconds']:.2f} s")
                recorded += rec.cases
                report["recordings"].append({"file": str(rec.path), "services": len(rec.cases),
                                             "load_seconds": info["load_seconds"]})

    runs = [fleet] if opts.no_single else [single, fleet]
    groups = [("library", cases)] + ([("recordings", recorded), ("all", cases + recorded)] if recorded else [])
    for run in runs:
        for gname, gcases in groups:
            if not gcases:
                continue
            print_matrix(f"{run.name}, {gname}", gcases, run, opts.markdown)
            report.setdefault("summary", {})[f"{run.name}/{gname}"] = summarise(f"{run.name}, {gname}", gcases, run)

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
