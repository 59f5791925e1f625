"""The types of an expression, checked when a playbook is loaded (not when it first fires).

A type is "num", "bool", or ("str", domain-or-None, name): a word compared with a literal
outside its domain (`bottleneck == "cpu"`) is an error here, not a step that never matches.
"""

from __future__ import annotations

from typing import Any, Protocol

from triage.playbooks.expr.parse import (
    Binary,
    Bool,
    Call,
    ExprError,
    In,
    Name,
    Num,
    Str,
    Unary,
)


class Names(Protocol):
    """What the checker needs of the vocabulary: the type of a name, or an ExprError."""

    def type_of_name(self, name: str) -> Any: ...


def check_expr(node: Any, scope: Names) -> Any:
    """The type of `node`, or an ExprError naming what is wrong (unknown names, bad literals)."""
    if isinstance(node, Num):
        return "num"
    if isinstance(node, Bool):
        return "bool"
    if isinstance(node, Str):
        return ("str", None, None)
    if isinstance(node, Name):
        try:
            return scope.type_of_name(node.name)
        except ExprError as exc:
            raise ExprError(exc.message, node.pos) from None
    if isinstance(node, Call):
        return _check_call(node, scope)
    if isinstance(node, Unary):
        t = check_expr(node.operand, scope)
        want = "bool" if node.op == "not" else "num"
        if t != want:
            raise ExprError(f"'{node.op}' needs a {'condition' if want == 'bool' else 'number'}", 0)
        return want
    if isinstance(node, In):
        t = check_expr(node.left, scope)
        for item in node.items:
            _compatible(t, check_expr(item, scope), item, node.pos)
        return "bool"
    if isinstance(node, Binary):
        return _check_binary(node, scope)
    raise ExprError("not an expression")  # pragma: no cover


def _check_call(node: Call, scope: Names) -> str:
    if node.fn == "has":
        [arg] = node.args
        if not isinstance(arg, Name):
            raise ExprError("has() takes a signal or capacity name", node.pos)
        check_expr(arg, scope)
        return "bool"
    types = [check_expr(a, scope) for a in node.args]
    for t in types:
        if t != "num":
            raise ExprError(f"{node.fn}() takes numbers", node.pos)
    return "num"


def _check_binary(node: Binary, scope: Names) -> str:
    lt, rt = check_expr(node.left, scope), check_expr(node.right, scope)
    if node.op in ("and", "or"):
        if lt != "bool" or rt != "bool":
            raise ExprError(f"'{node.op}' joins conditions, not values", node.pos)
        return "bool"
    if node.op in ("+", "-", "*", "/"):
        if lt != "num" or rt != "num":
            raise ExprError(f"'{node.op}' needs numbers on both sides", node.pos)
        return "num"
    if node.op in ("<", "<=", ">", ">="):
        if lt != "num" or rt != "num":
            raise ExprError(f"'{node.op}' compares numbers", node.pos)
        return "bool"
    _compatible(lt, rt, node.right if isinstance(node.right, Str) else node.left, node.pos)
    return "bool"


def _compatible(a: Any, b: Any, literal: Any, pos: int) -> None:
    kind_a = a[0] if isinstance(a, tuple) else a
    kind_b = b[0] if isinstance(b, tuple) else b
    if kind_a != kind_b:
        raise ExprError(f"cannot compare a {type_name(a)} with a {type_name(b)}", pos)
    if kind_a == "str":
        typed = a if a[1] is not None else b
        if typed[1] is not None and isinstance(literal, Str) and literal.value not in typed[1]:
            raise ExprError(f"unknown {typed[2]} {literal.value!r} (known: {', '.join(typed[1])})", pos)


def type_name(t: Any) -> str:
    """A type as a playbook author reads it: number, condition or text."""
    return {"num": "number", "bool": "condition"}.get(t, "text") if not isinstance(t, tuple) else "text"
