"""What every rule reads: the signals judged once, their thresholds, the candidates so far,
and the user-facing gates (is latency or the error ratio out of its normal range?)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from triage.analysis.classify.evidence import Candidate
from triage.analysis.classify.levels import Level
from triage.models import INCIDENT_CLASSES, SignalSet, SignalSpec

# Latency is out of its normal range: past its warning and ×1.3 its baseline, past its
# critical, or ×2 its baseline and 5 spreads out whatever the thresholds say.
LATENCY_WARN_RISE = 1.3
LATENCY_RISE, LATENCY_RISE_Z = 2.0, 5.0
# The error ratio is out of its normal range: past its warning and half a point above its
# baseline, past its critical, or two points above its baseline.
ERRORS_OVER_BASELINE_AT_WARNING = 0.005
ERRORS_OVER_BASELINE = 0.02


@dataclass
class Facts:
    sets: SignalSet
    specs: Mapping[str, SignalSpec]
    levels: dict[str, Level]
    cands: dict[str, Candidate] = field(default_factory=lambda: {c: Candidate(c) for c in INCIDENT_CLASSES})
    notes: list[str] = field(default_factory=list)
    # Signals that make this an incident on their own, without latency or errors (an OOM
    # kill, CPU from 1 % to 100 % of its limit); filled by the rules.
    alone: dict[str, str] = field(default_factory=dict)
    # Rules may leave values for later rules (the deploy time, the crash loop).
    shared: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.w0 = self.sets.window.start.timestamp()
        self.w1 = self.sets.window.end.timestamp()
        self.lat_bad = self._latency_bad()
        self.err_bad = self._errors_bad()

    def get(self, name: str) -> Level | None:
        return self.levels.get(name)

    def th(self, name: str) -> tuple[float | None, float | None]:
        spec = self.specs.get(name)
        return (spec.threshold.warning, spec.threshold.critical) if spec else (None, None)

    def score(self, bottleneck: str) -> float:
        return self.cands[bottleneck].score

    @property
    def user_facing(self) -> bool:
        return self.lat_bad or self.err_bad

    @property
    def anomaly(self) -> bool:
        return self.user_facing or bool(self.alone)

    def _latency_bad(self) -> bool:
        lat = self.get("latency_p95")
        if lat is None or lat.window is None:
            return False
        warn, crit = self.th("latency_p95")
        # Past its warning and ×2: a baseline inflated by earlier incidents must not hide it.
        return bool((warn is not None and lat.window > warn
                     and (lat.rose(LATENCY_WARN_RISE) or (lat.ratio or 0.0) >= LATENCY_RISE))
                    or (crit is not None and lat.window > crit)
                    or lat.rose(LATENCY_RISE, LATENCY_RISE_Z))

    def _errors_bad(self) -> bool:
        err = self.get("error_ratio")
        if err is None or err.window is None:
            return False
        warn, crit = self.th("error_ratio")
        if crit is not None and err.window > crit:
            return True
        if err.baseline is None:
            # Without a baseline a steady 3 % of errors cannot be told from a new 3 %.
            return False
        return bool((warn is not None and err.window > warn
                     and err.window - err.baseline > ERRORS_OVER_BASELINE_AT_WARNING)
                    or err.window - err.baseline > ERRORS_OVER_BASELINE)
