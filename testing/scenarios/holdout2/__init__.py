"""The SECOND blind held-out set for `triage rca`: harder cases, designed from the spec alone.

Written from CONTRACT.md, the seed summaries and the generator only, without reading the
classifier (``triage/analysis/``) or the scenario definitions of ``rca_library.py`` and
``holdout.py``.  Every service is prefixed ``h2-`` and lives in one Prometheus on the
standard timeline (baseline 18:46..19:46, window 19:46..20:01 on 2026-11-10, exported
18:41..20:01 at 30 s, like the other libraries).

What makes it harder than the first held-out set:

- competing problems, one of them the real cause (a pool at 85 % next to queries 20x
  slower; CPU at 82 % next to a dependency answering 504 after 4 s; memory at 85 % next to
  a bad deploy; a surge that saturates CPU while the pool sits at 80 %);
- cause-then-effect chains inside one service (slow dependency, then the pool fills
  because connections are held across the call; lock waits, then the pool fills);
- messy data: counter resets mid-window, pods coming and going, scrape gaps (samples
  removed after generation, counters carry on as a real missed scrape would), 8-12 %
  noise, short spikes in the baseline, an incident that started 10 min before the window;
- borderline magnitudes on both sides of "incident" (thresholds from seed 001: p95
  < 500 ms healthy, error ratio warning > 1 %, CPU warning > 80 %, saturation > 90 %,
  pool warning > 80 %);
- ``none`` controls that look scary, and honest ``unknown`` s whose deciding signals are
  absent.

Public API::

    holdout2_library() -> list[LabelledScenario]
    GAPS: {service: [(metric-name prefixes or (), start, end), ...]}   # scrape gaps
    serve_holdout2(workdir, scenarios=None)  # context manager -> LibraryServer
    H2_CHAIN                                 # (root cause, its caller) for the fleet ranking
"""

from testing.scenarios.holdout2.base import H2_CHAIN
from testing.scenarios.holdout2.messy import GAPS
from testing.scenarios.holdout2.serve import apply_gaps, holdout2_library, holdout2_openmetrics, serve_holdout2

__all__ = ["GAPS", "H2_CHAIN", "apply_gaps", "holdout2_library", "holdout2_openmetrics", "serve_holdout2"]
