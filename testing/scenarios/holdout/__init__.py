"""A BLIND held-out evaluation set for `triage rca`.

Designed from CONTRACT.md (class meanings, signals, metric families), the seed documents
and the generator alone, without looking at the classifier (``triage/analysis/``) or at the
development library's scenarios (``testing/scenarios/rca_library/``; only its
``LabelledScenario`` dataclass and ``serve_library`` plumbing are reused).  Every service is
new (``ho-`` prefix) and lives on the standard timeline: incident window 19:46..20:01,
baseline 18:46..19:46 on 2026-11-10, data exported 18:41..20:01 at 30 s.

What varies on purpose: magnitudes from borderline to extreme, onsets (19:40 in the
baseline's tail, 19:47, 19:55 late in the window, slow ramps from 19:00/19:30), noise
1..8 %, pods 1..6, traffic / deploy / no trigger, and partial metric families.

    holdout_library() -> list[LabelledScenario]
"""

from testing.scenarios.holdout.library import connect_share, holdout_library

__all__ = ["connect_share", "holdout_library"]
