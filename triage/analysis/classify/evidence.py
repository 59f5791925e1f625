"""Candidates and the sentences of their evidence.

Every number in a sentence goes through `num`, `times` or `clock`, which print "n/a"/"?"
for a missing value: an evidence sentence never fails on a signal without a baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from triage.analysis.classify.levels import Level
from triage.models import json_number
from triage.render.units import fmt


def num(value: float | None, unit: str) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return fmt(value, unit)


def times(ratio: float | None) -> str:
    """×2.8; ×70 for a large one; "n/a" when the baseline was empty or zero."""
    if ratio is None or not math.isfinite(ratio):
        return "×n/a"
    return f"×{ratio:.0f}" if ratio >= 10 else f"×{ratio:.1f}"


def clock(ts: float | None) -> str:
    if ts is None or not math.isfinite(ts):
        return "?"
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%H:%M")


def against_baseline(lv: Level, what: str, of: str = "") -> str:
    """"CPU 100 % of its limit, ×70 its baseline of 1.4 %, from 03:53"."""
    text = f"{what} {num(lv.window, lv.unit)}{of}"
    if lv.baseline is None:
        return text + " (no baseline data)"
    if lv.ratio is not None and math.isfinite(lv.ratio) and (lv.ratio >= 1.5 or lv.ratio <= 0.67):
        text += f", {times(lv.ratio)} its baseline of {num(lv.baseline, lv.unit)}"
    else:
        text += f" (baseline {num(lv.baseline, lv.unit)})"
    if lv.onset is not None:
        text += f", from {clock(lv.onset)}"
    return text


@dataclass
class Candidate:
    bottleneck: str
    score: float = 0.0
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def add(self, level: Level | None, summary: str) -> None:
        if level is None:
            self.evidence.append({"signal": None, "query": None, "baseline": None, "window": None,
                                  "summary": summary})
            return
        self.evidence.append({
            "signal": level.name, "query": level.query, "baseline": json_number(level.baseline),
            "window": json_number(level.window), "summary": summary,
        })

    def raise_to(self, score: float) -> None:
        self.score = max(self.score, min(1.0, score))

    def scale(self, factor: float) -> None:
        self.score *= factor

    def leader(self, levels: dict[str, Level]) -> Level | None:
        """The first evidence signal that has an onset: what moved for this candidate."""
        for ev in self.evidence:
            name = ev.get("signal")
            if name and name in levels and levels[name].onset is not None:
                return levels[name]
        return None
