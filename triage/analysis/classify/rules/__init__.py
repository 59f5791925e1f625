"""The rule table: every class's rule, in the order they score (later families read the
earlier ones: errors only count when nothing saturated), then the adjustments that weigh
one candidate against another. Adding a class is one module here plus its test."""

from __future__ import annotations

from triage.analysis.classify.rules import cpu, database, dependency, errors, memory
from triage.analysis.classify.rules.base import Adjustment, Rule

FAMILIES = (cpu, memory, database, dependency, errors)
RULES: tuple[Rule, ...] = tuple(rule for family in FAMILIES for rule in family.RULES)
ADJUSTMENTS: tuple[Adjustment, ...] = tuple(adj for family in FAMILIES for adj in family.ADJUSTMENTS)
DECIDING = {rule.bottleneck: rule.deciding for rule in RULES}
SAY = {rule.bottleneck: rule.says for rule in RULES}

__all__ = ["ADJUSTMENTS", "DECIDING", "RULES", "SAY", "Adjustment", "Rule"]
