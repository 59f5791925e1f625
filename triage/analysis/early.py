"""A fleet's signals judged as each answer arrives (issue 17): while the other queries of the wave
are still out, each series' level (what `levels_of` gives `classify`) and its detect verdict (what
`judge_signal` gives `detect_service`) are worked out, so what is left once the last answer is in
is the verdicts themselves. The slopes the memory rule reads are worked out with their levels.

Only where they are the same as judged later: the sustain period must not depend on the data
(`fixed_sustain`: a window of 15 minutes or more), and a service's levels and verdicts are used
only when each is of the very series its signal set holds. Anything else is judged as before.
The analysis modules are imported on the first answer (the pass imports them ahead on a thread
while the first requests are out), not when the pass begins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from triage.models import SignalSeries, SignalSet, SignalSpec, SignalVerdict, TimeRange

if TYPE_CHECKING:
    from triage.analysis.classify.levels import Level


class Early:
    """`on_series` for `collect`; then `levels_for` / `verdicts_for` one service's signal set.
    `levels`: work out the classifier's levels too (rca), and judge the signals `detect_service`
    judges with the level as the known one, as `rca_service` does; else judge them alone (detect)."""

    def __init__(self, specs: Mapping[str, SignalSpec], window: TimeRange, baseline: TimeRange, *,
                 levels: bool) -> None:
        from triage.analysis.classify.levels import fixed_sustain

        self.specs, self.with_levels = specs, levels
        self.judge: frozenset[str] | None = None
        self.sustain = fixed_sustain(window)
        self._w0 = window.start.timestamp()
        # level() and judge_signal() read only the windows of the set when given the sustain
        self._frame = SignalSet(service="", namespace="", window=window, baseline=baseline, signals={}, missing={})
        self._levels: dict[tuple[str, str], Level] = {}
        self._verdicts: dict[tuple[str, str], tuple[SignalSeries, SignalVerdict]] = {}

    def __call__(self, made: Sequence[SignalSeries]) -> None:
        if self.sustain is None or not made:
            return
        spec = self.specs.get(made[0].name)
        if spec is None:
            return
        from triage.analysis.classify.levels import level
        from triage.analysis.classify.rules.memory import SLOPES_BEFORE_WINDOW
        from triage.analysis.detect import DB_FALLBACK_SIGNALS, DETECT_SIGNALS, judge_signal

        if self.judge is None:
            self.judge = frozenset((*DETECT_SIGNALS, *DB_FALLBACK_SIGNALS))
        judged = spec.name in self.judge
        slopes = [self._w0 - before for before in SLOPES_BEFORE_WINDOW.get(spec.name, ())] if self.with_levels else []
        for series in made:
            known = level(series, spec, self._frame, self.sustain) if self.with_levels else None
            if known is not None:
                self._levels[(series.service, series.name)] = known
                for since in slopes:
                    known.slope_since(since)
            if judged:
                verdict = judge_signal(spec, series, self._frame, None, self.sustain, known)
                self._verdicts[(series.service, series.name)] = (series, verdict)

    def levels_for(self, sets: SignalSet) -> dict[str, Level] | None:
        """`levels_of(sets, specs, sustain)` as it was worked out early, or None when one of them
        was not (then `classify` works them all out, and `verdicts_for` is not asked)."""
        if self.sustain is None or not self.with_levels:
            return None
        out = {}
        for name, series in sets.signals.items():
            if name in self.specs:
                got = self._levels.get((sets.service, name))
                if got is None or got.series is not series:
                    return None
                out[name] = got
        return out

    def verdicts_for(self, sets: SignalSet) -> dict[str, SignalVerdict]:
        """The verdicts worked out early of the signals `sets` holds, of the very series it holds."""
        out = {}
        for name, series in sets.signals.items():
            got = self._verdicts.get((sets.service, name))
            if got is not None and got[0] is series:
                out[name] = got[1]
        return out
