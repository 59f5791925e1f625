"""Accuracy of `triage rca` on the SECOND blind held-out set (testing/scenarios/holdout2/).

Harder than the first held-out set: competing problems where only one is the cause,
cause-then-effect chains inside one service, messy data (counter resets, pods coming and
going, scrape gaps, 8-12 % noise, spikes in the baseline, an incident that began before
the window), borderline magnitudes, scary-looking ``none`` controls and honest
``unknown`` s.  Designed from CONTRACT.md, the seeds and the generator only.

Loads the whole set into one real Prometheus (promtool backfill, 18:41..20:01 at 30 s,
scrape gaps removed after generation), runs ``triage rca --all-services -o json`` once
and ``triage rca --service S -o json`` for every scenario, and prints the same report as
``python -m bench.eval_holdout``: confusion matrices, accuracy overall and per class, mean
confidence right/wrong, trigger accuracy, exit codes that disagree with the verdict,
every miss with label, verdict, confidence, the top candidates with scores, their
evidence and every ``signals`` entry baseline -> window, whether the ``unknown`` s name
what decides, and the fleet ranking of the chain (h2-ledger must rank above its caller).

    python -m bench.eval_holdout2
    python -m bench.eval_holdout2 --only h2-churn --only h2-gap-cpu
    python -m bench.eval_holdout2 --json out.json    # every verdict and payload
"""

from __future__ import annotations

from bench.eval.heldout import HeldOut, evaluate
from testing.scenarios.holdout2 import GAPS, H2_CHAIN, holdout2_library, serve_holdout2
from testing.scenarios.rca_library import LabelledScenario


def listing(s: LabelledScenario) -> str:
    extra = f" (or {', '.join(s.acceptable)})" if s.acceptable else ""
    gaps = " [scrape gaps]" if s.name in GAPS else ""
    return (f"  {s.name:20} {s.bottleneck}{extra}  [{s.spec.pods} pod{'s' if s.spec.pods > 1 else ''}]"
            f"{gaps}  {s.note}")


HOLDOUT2 = HeldOut("holdout2", "held-out-2 scenarios:", holdout2_library, serve_holdout2, H2_CHAIN, listing,
                   top=3, expected_trigger=True, confidence_line=True)

if __name__ == "__main__":
    evaluate(HOLDOUT2, __doc__.split("\n\n")[0])
