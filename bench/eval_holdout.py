"""Accuracy of `triage rca` on the BLIND held-out library (testing/scenarios/holdout/).

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

    python -m bench.eval_holdout
    python -m bench.eval_holdout --json out.json    # every verdict and payload
"""

from __future__ import annotations

from bench.eval.heldout import HeldOut, evaluate
from testing.scenarios.holdout import holdout_library
from testing.scenarios.rca_library import LabelledScenario, serve_library

#: root cause first: ho-maps-tiles is CPU-bound, ho-geo-eta waits on it.
HO_CHAIN = ("ho-maps-tiles", "ho-geo-eta")


def listing(s: LabelledScenario) -> str:
    extra = f" (or {', '.join(s.acceptable)})" if s.acceptable else ""
    return f"  {s.name:22} {s.bottleneck}{extra}  [{s.spec.pods} pod{'s' if s.spec.pods > 1 else ''}]  {s.note}"


HOLDOUT = HeldOut("holdout", "held-out scenarios:", holdout_library, serve_library, HO_CHAIN, listing)

if __name__ == "__main__":
    evaluate(HOLDOUT, __doc__.split("\n\n")[0])
