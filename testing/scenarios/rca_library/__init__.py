"""The labelled scenario library for `triage rca`: one service per case, all in one dataset.

Every scenario is a :class:`ServiceSpec` on the standard timeline of
:mod:`testing.scenarios.library` (incident window 19:46..20:01, baseline 18:46..19:46 on
2026-11-10) plus the label a correct classifier must give it.  All of them live in the
*same* Prometheus, so each service is a decoy for the others: a CPU-bound service shares
its namespace with a lock-bound one, several databases share a Postgres server, the
dependency chain ``bank-api → payment → checkout`` sits next to a third-party timeout and
a dependency that only returns 503s.

Magnitudes follow the seeds: healthy p95 well under 500 ms, DB p95 10..25 ms, CPU 20..70 %
of the limit, pool 20/20 with queries at 12 ms for seed 000's checkout, connect ≈ 46 % of
DB time for seed 001's booking service.  Per-service noise is 2..6 %.  Onsets vary: at
19:45 (just before the window), at 19:50 (inside it) and slow ramps from 19:30.

The data is exported from 18:41 (five minutes before the baseline, so the first ``rate``
of the baseline has samples behind it) to 20:01 at a 30 s scrape step: ``rate(...[1m])``
always sees at least two samples, and the text stays small (see :func:`dataset_stats`).

Public API::

    rca_library() -> list[LabelledScenario]
    rca_config(scenarios) -> str                  # triage.yaml text, contract keys only
    rca_openmetrics(scenarios) -> str             # the OpenMetrics text for promtool
    serve_library(workdir, scenarios=None)        # context manager -> LibraryServer(url, config, backend)
    CHAIN, AT, CLASSES, SIGNALS, TRIGGERS, by_name(), labels()
"""

from testing.scenarios.rca_library.labelled import (
    AT,
    CHAIN,
    CLASSES,
    EXPORT_END_S,
    EXPORT_START_S,
    EXPORT_STEP_S,
    INCIDENT_CLASSES,
    SIGNALS,
    TRIGGERS,
    WINDOW,
    LabelledScenario,
)
from testing.scenarios.rca_library.serve import (
    LibraryServer,
    by_name,
    dataset_stats,
    labels,
    rca_config,
    rca_library,
    rca_openmetrics,
    serve_library,
    with_families,
)

__all__ = [
    "AT", "CHAIN", "CLASSES", "EXPORT_END_S", "EXPORT_START_S", "EXPORT_STEP_S", "INCIDENT_CLASSES", "SIGNALS",
    "TRIGGERS", "WINDOW", "LabelledScenario", "LibraryServer", "by_name", "dataset_stats", "labels", "rca_config",
    "rca_library", "rca_openmetrics", "serve_library", "with_families",
]
