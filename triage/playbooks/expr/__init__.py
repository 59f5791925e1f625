"""The tiny expression language of playbook conditions and sizes (no `eval`):
`cpu_usage_ratio > 90%`, `reason == "OOMKilled"`, `ceil(replicas * cpu_usage_ratio / 0.7)`.

Three steps, one module each: `parse` (text → tree), `check` (the tree's types, when a file
is loaded), `evaluate` (its value in one incident, and the tree shown with those values).
"""

from triage.playbooks.expr.check import Names, check_expr, type_name
from triage.playbooks.expr.evaluate import Lookup, Missing, evaluate, num_text, show
from triage.playbooks.expr.parse import (
    FUNCTIONS,
    MAX_EXPR_CHARS,
    Binary,
    Bool,
    Call,
    ExprError,
    In,
    Name,
    Num,
    Str,
    Unary,
    literals_compared,
    names_in,
    parse_expr,
)

__all__ = [
    "FUNCTIONS", "MAX_EXPR_CHARS", "Binary", "Bool", "Call", "ExprError", "In", "Lookup", "Missing", "Name", "Names",
    "Num", "Str", "Unary", "check_expr", "evaluate", "literals_compared", "names_in", "num_text", "parse_expr",
    "show", "type_name",
]
