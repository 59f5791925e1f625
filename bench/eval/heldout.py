"""One run of a blind held-out set: list it, serve it, ask it both ways, print the report and
the misses in detail, and write every verdict as JSON on request."""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from bench._common import machine
from bench.eval.ask import ask_served, start
from bench.eval.cases import Case, Run, cases_of
from bench.eval.details import disagreements, miss_details, missing_named, num
from bench.eval.report import print_runs, ranking_check
from testing.scenarios.rca_library import LabelledScenario, LibraryServer


@dataclass(frozen=True)
class HeldOut:
    name: str                                        # the group name in the report ("holdout")
    heading: str                                     # the title of the scenario listing
    scenarios: Callable[[], list[LabelledScenario]]
    serve: Callable[[Path, list[LabelledScenario]], AbstractContextManager[LibraryServer]]
    chain: tuple[str, str]                           # (the root cause, its caller): the cause must rank first
    listing: Callable[[LabelledScenario], str]       # one line of the listing
    top: int = 2                                     # candidates and evidence shown per miss
    expected_trigger: bool = False                   # a miss also says the trigger it should have had
    confidence_line: bool = False                    # one line of every verdict's confidence


def options(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--only", action="append", default=[], help="evaluate only these held-out services")
    parser.add_argument("--no-single", action="store_true", help="only the fleet pass")
    parser.add_argument("--markdown", action="store_true", help="print the matrices as markdown tables")
    parser.add_argument("--json", type=Path, help="write every verdict (and payload) to this file")
    return parser.parse_args()


def write_json(path: Path, summary: dict, cases: Sequence[Case], runs: Sequence[Run]) -> None:
    report = {
        "machine": machine(), "summary": summary,
        "labels": {c.service: {"bottleneck": c.label, "acceptable": list(c.acceptable), "trigger": c.trigger,
                               "note": c.note} for c in cases},
        "verdicts": {run.name: {svc: {"verdict": a.verdict, "confidence": a.confidence, "trigger": a.trigger,
                                      "exit": a.code, "payload": a.payload}
                                for (_, svc), a in run.answers.items()} for run in runs},
    }
    path.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nwrote {path}")


def evaluate(held: HeldOut, description: str) -> None:
    opts = options(description)
    start()
    scenarios = held.scenarios()
    if opts.only:
        scenarios = [s for s in scenarios if s.name in opts.only]
    cases = cases_of(scenarios)
    missing_wanted = {s.name: tuple(s.missing) for s in scenarios if s.missing}
    single, fleet = Run("per service"), Run("fleet pass", per_service_exit=False)

    print(f"\n{held.heading}")
    for s in scenarios:
        print(held.listing(s))

    with tempfile.TemporaryDirectory(prefix=f"eval-{held.name}-") as tmp:
        work = Path(tmp)
        with held.serve(work / held.name, scenarios) as server:
            print()
            ask_served(held.name, server, cases, single, fleet, work, no_single=opts.no_single,
                       chain=lambda payload: ranking_check(payload, held.chain, *held.chain))

    runs = [fleet] if opts.no_single else [single, fleet]
    summary = {run: figures for (run, _), figures in print_runs(runs, [(held.name, cases)], opts.markdown).items()}

    primary = runs[0]
    if held.confidence_line:
        print("\nconfidence per scenario (" + primary.name + "): "
              + ", ".join(f"{c.service} {primary.of(c).verdict} {num(primary.of(c).confidence)}" for c in cases))
    miss_details(f"{primary.name}", cases, primary, top=held.top, expected_trigger=held.expected_trigger)
    if primary is single:
        disagreements(cases, single, fleet, top=held.top, expected_trigger=held.expected_trigger)
    missing_named(primary, missing_wanted)
    if opts.json:
        write_json(opts.json, summary, cases, runs)
