"""The shape of a rule: one class, the signals that decide it, the words for it, and a
function that scores its candidate from the facts (or, for an adjustment, weighs one
candidate against another once every class is scored)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from triage.analysis.classify.facts import Facts


@dataclass(frozen=True)
class Rule:
    bottleneck: str
    deciding: tuple[str, ...]
    says: str
    score: Callable[[Facts], None]


@dataclass(frozen=True)
class Adjustment:
    name: str
    apply: Callable[[Facts], None]
