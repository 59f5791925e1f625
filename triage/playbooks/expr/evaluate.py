"""The value of a checked expression in one incident, with Kleene logic for what is missing.

A value absent from the incident is not an error and not a zero: it is `Missing`, carried
through arithmetic and comparisons, so a condition that cannot be decided says which inputs
it lacked (`or`/`and` still decide when one side settles it).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from triage.playbooks.expr.parse import Binary, Bool, Call, In, Name, Num, Str, Unary


@dataclass(frozen=True)
class Missing:
    """An unknown value, and why: which inputs were absent."""

    names: tuple[str, ...]
    why: str

    @staticmethod
    def join(*items: Missing) -> Missing:
        names: list[str] = []
        whys: list[str] = []
        for m in items:
            for n in m.names:
                if n not in names:
                    names.append(n)
            if m.why not in whys:
                whys.append(m.why)
        return Missing(tuple(names), "; ".join(whys))


Lookup = Callable[[str], Any]


def evaluate(node: Any, lookup: Lookup) -> Any:
    """Value of a checked expression: a number, text, a bool, or Missing (Kleene: unknown)."""
    if isinstance(node, (Num, Str, Bool)):
        return node.value
    if isinstance(node, Name):
        return lookup(node.name)
    if isinstance(node, Call):
        return _call(node, lookup)
    if isinstance(node, Unary):
        v = evaluate(node.operand, lookup)
        if isinstance(v, Missing):
            return v
        return (not v) if node.op == "not" else -v
    if isinstance(node, In):
        v = evaluate(node.left, lookup)
        if isinstance(v, Missing):
            return v
        found = v in [i.value for i in node.items]
        return not found if node.negated else found
    if isinstance(node, Binary):
        if node.op in ("and", "or"):
            return _logic(node, lookup)
        return _binary(node, lookup)
    raise TypeError(node)  # pragma: no cover


def _call(node: Call, lookup: Lookup) -> Any:
    if node.fn == "has":
        return not isinstance(lookup(node.args[0].name), Missing)
    values = [evaluate(a, lookup) for a in node.args]
    if node.fn == "coalesce":
        present = [v for v in values if not isinstance(v, Missing)]
        return present[0] if present else Missing.join(*values)
    gone = [v for v in values if isinstance(v, Missing)]
    if gone:
        return Missing.join(*gone)
    if node.fn == "ceil":
        return float(math.ceil(values[0] - 1e-9))
    if node.fn == "floor":
        return float(math.floor(values[0] + 1e-9))
    if node.fn == "round":
        return float(round(values[0], int(values[1]) if len(values) > 1 else 0))
    if node.fn == "abs":
        return abs(values[0])
    return float(min(values) if node.fn == "min" else max(values))


def _logic(node: Binary, lookup: Lookup) -> Any:
    decisive = node.op == "or"
    left = evaluate(node.left, lookup)
    if left is decisive:
        return decisive
    right = evaluate(node.right, lookup)
    if right is decisive:
        return decisive
    gone = [v for v in (left, right) if isinstance(v, Missing)]
    return Missing.join(*gone) if gone else (not decisive)


def _binary(node: Binary, lookup: Lookup) -> Any:
    left, right = evaluate(node.left, lookup), evaluate(node.right, lookup)
    gone = [v for v in (left, right) if isinstance(v, Missing)]
    if gone:
        return Missing.join(*gone)
    op = node.op
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "/":
        if right == 0:
            return Missing((), f"division by zero in {show(node)}")
        return left / right
    return {"==": left == right, "!=": left != right, "<": left < right, "<=": left <= right,
            ">": left > right, ">=": left >= right}[op]


_PREC = {"or": 1, "and": 2, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4, "+": 5, "-": 5, "*": 6, "/": 6}
_SHOW_OP = {"*": "×", "/": "÷"}


def show(node: Any, values: Lookup | None = None, parent: int = 0) -> str:
    """The expression as text; with `values`, names replaced by what they were in this incident."""
    if isinstance(node, Num):
        return node.text
    if isinstance(node, Str):
        return json.dumps(node.value)
    if isinstance(node, Bool):
        return "true" if node.value else "false"
    if isinstance(node, Name):
        return node.name if values is None else _show_value(node.name, values(node.name))
    if isinstance(node, Call):
        return f"{node.fn}({', '.join(show(a, None if node.fn == 'has' else values) for a in node.args)})"
    if isinstance(node, Unary):
        inner = show(node.operand, values, 7)
        return f"not {inner}" if node.op == "not" else f"-{inner}"
    if isinstance(node, In):
        items = ", ".join(show(i) for i in node.items)
        return f"{show(node.left, values, 4)} {'not in' if node.negated else 'in'} [{items}]"
    if isinstance(node, Binary):
        prec = _PREC[node.op]
        text = (f"{show(node.left, values, prec)} {_SHOW_OP.get(node.op, node.op)} "
                f"{show(node.right, values, prec + 1)}")
        return f"({text})" if prec < parent else text
    return "?"  # pragma: no cover


def _show_value(name: str, v: Any) -> str:
    if isinstance(v, Missing):
        return f"{name}(missing)"
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return num_text(v)
    return str(v).lower() if isinstance(v, bool) else json.dumps(v)


def num_text(value: float) -> str:
    """A number as it reads best in a formula or a command: 3, 0.7, 21.1, 0.0123."""
    if isinstance(value, bool):
        return str(value).lower()
    if not math.isfinite(value):
        return str(value)
    if abs(value - round(value)) < 1e-9:
        return str(int(round(value)))
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"
