"""The syntax of the expression language: its tree, its tokens, its parser (no `eval`), and
the walks over a tree that need no values (which names it uses, which words it compares)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


class ExprError(Exception):
    """A bad expression; `pos` is the 0-based column in the expression text."""

    def __init__(self, message: str, pos: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


@dataclass(frozen=True)
class Num:
    value: float
    text: str


@dataclass(frozen=True)
class Str:
    value: str


@dataclass(frozen=True)
class Bool:
    value: bool


@dataclass(frozen=True)
class Name:
    name: str
    pos: int


@dataclass(frozen=True)
class Call:
    fn: str
    args: tuple[Any, ...]
    pos: int


@dataclass(frozen=True)
class Unary:
    op: str
    operand: Any


@dataclass(frozen=True)
class Binary:
    op: str
    left: Any
    right: Any
    pos: int


@dataclass(frozen=True)
class In:
    left: Any
    items: tuple[Any, ...]
    negated: bool
    pos: int


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?P<unit>%|ms|s)?(?![A-Za-z0-9_])
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op>==|!=|>=|<=|>|<|\+|-|\*|/|\(|\)|\[|\]|,)
""", re.VERBOSE)
_UNITS = {None: 1.0, "%": 0.01, "ms": 0.001, "s": 1.0}
_KEYWORDS = ("and", "or", "not", "in", "true", "false")
_COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
FUNCTIONS = {"ceil": (1, 1), "floor": (1, 1), "round": (1, 2), "min": (2, 8), "max": (2, 8),
             "coalesce": (2, 8), "has": (1, 1), "abs": (1, 1)}
MAX_EXPR_CHARS = 2000


def _tokens(text: str) -> list[tuple[str, str, int]]:
    if len(text) > MAX_EXPR_CHARS:
        raise ExprError(f"expression is longer than {MAX_EXPR_CHARS} characters")
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ExprError(f"unexpected character {text[pos]!r}", pos)
        kind = m.lastgroup
        if kind == "unit":
            kind = "num"
        if kind != "ws":
            out.append((kind or "", m.group(0), pos))
        pos = m.end()
    out.append(("end", "", len(text)))
    return out


class _Parser:
    """expr := or; or := and ('or' and)*; and := not ('and' not)*; not := 'not' not | cmp;
    cmp := sum ((== != < <= > >=) sum | ['not'] 'in' '[' literal, ... ']')?;
    sum := product (('+'|'-') product)*; product := unary (('*'|'/') unary)*;
    unary := '-' unary | atom; atom := number | string | true | false | name | name '(' args ')' | '(' expr ')'"""

    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str, int]:
        return self.toks[self.i]

    def take(self) -> tuple[str, str, int]:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def word(self, w: str) -> bool:
        kind, text, _ = self.peek()
        return kind == "name" and text == w

    def expect(self, text: str) -> None:
        kind, got, pos = self.take()
        if got != text or kind not in ("op", "name"):
            raise ExprError(f"expected {text!r}, found {got or 'the end'!r}", pos)

    def parse(self) -> Any:
        node = self.or_()
        kind, text, pos = self.peek()
        if kind != "end":
            raise ExprError(f"unexpected {text!r}", pos)
        return node

    def or_(self) -> Any:
        node = self.and_()
        while self.word("or"):
            _, _, pos = self.take()
            node = Binary("or", node, self.and_(), pos)
        return node

    def and_(self) -> Any:
        node = self.not_()
        while self.word("and"):
            _, _, pos = self.take()
            node = Binary("and", node, self.not_(), pos)
        return node

    def not_(self) -> Any:
        if self.word("not"):
            self.take()
            return Unary("not", self.not_())
        return self.cmp()

    def cmp(self) -> Any:
        left = self.sum()
        kind, text, pos = self.peek()
        if kind == "op" and text in _COMPARISONS:
            self.take()
            right = self.sum()
            nkind, ntext, npos = self.peek()
            if nkind == "op" and ntext in _COMPARISONS:
                raise ExprError("comparisons do not chain: write `a < b and b < c`", npos)
            return Binary(text, left, right, pos)
        negated = False
        if self.word("not") and self.toks[self.i + 1][1] == "in":
            self.take()
            negated = True
        if self.word("in"):
            _, _, pos = self.take()
            self.expect("[")
            items = self.separated(self.literal)
            self.expect("]")
            return In(left, tuple(items), negated, pos)
        if negated:
            raise ExprError("expected 'in' after 'not'", pos)
        return left

    def separated(self, item: Any) -> list[Any]:
        """One or more `item`s separated by commas."""
        items = []
        while True:
            items.append(item())
            if self.peek()[1] == ",":
                self.take()
                continue
            return items

    def literal(self) -> Any:
        node = self.unary()
        if not isinstance(node, (Num, Str, Bool)):
            raise ExprError("a list after 'in' holds literals only (\"text\", 1.5, true)", self.peek()[2])
        return node

    def sum(self) -> Any:
        node = self.product()
        while self.peek()[0] == "op" and self.peek()[1] in ("+", "-"):
            _, op, pos = self.take()
            node = Binary(op, node, self.product(), pos)
        return node

    def product(self) -> Any:
        node = self.unary()
        while self.peek()[0] == "op" and self.peek()[1] in ("*", "/"):
            _, op, pos = self.take()
            node = Binary(op, node, self.unary(), pos)
        return node

    def unary(self) -> Any:
        if self.peek()[0] == "op" and self.peek()[1] == "-":
            self.take()
            operand = self.unary()
            if isinstance(operand, Num):
                return Num(-operand.value, "-" + operand.text)
            return Unary("-", operand)
        return self.atom()

    def atom(self) -> Any:
        kind, text, pos = self.take()
        if kind == "num":
            m = re.match(r"(.*?)(%|ms|s)?$", text)
            assert m is not None
            return Num(float(m.group(1)) * _UNITS[m.group(2)], text)
        if kind == "str":
            body = text[1:-1]
            return Str(re.sub(r"\\(.)", r"\1", body))
        if kind == "name":
            if text in ("true", "false"):
                return Bool(text == "true")
            if text in _KEYWORDS:
                raise ExprError(f"unexpected {text!r}", pos)
            if self.peek()[1] == "(":
                return self.call(text, pos)
            return Name(text, pos)
        if kind == "op" and text == "(":
            node = self.or_()
            self.expect(")")
            return node
        raise ExprError(f"unexpected {text or 'end of expression'!r}", pos)

    def call(self, fn: str, pos: int) -> Call:
        if fn not in FUNCTIONS:
            raise ExprError(f"unknown function {fn!r} (known: {', '.join(FUNCTIONS)})", pos)
        self.take()
        args = self.separated(self.or_) if self.peek()[1] != ")" else []
        self.expect(")")
        lo, hi = FUNCTIONS[fn]
        if not lo <= len(args) <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            raise ExprError(f"{fn}() takes {want} argument{'s' if hi > 1 else ''}, not {len(args)}", pos)
        return Call(fn, tuple(args), pos)


def parse_expr(text: str) -> Any:
    return _Parser(text).parse()


def names_in(node: Any) -> set[str]:
    if isinstance(node, Name):
        return {node.name}
    if isinstance(node, Call):
        return set().union(*(names_in(a) for a in node.args)) if node.args else set()
    if isinstance(node, Unary):
        return names_in(node.operand)
    if isinstance(node, Binary):
        return names_in(node.left) | names_in(node.right)
    if isinstance(node, In):
        return names_in(node.left)
    return set()


def literals_compared(node: Any, name: str) -> set[str]:
    """String literals that `name` is compared with: what a playbook says it covers."""
    out: set[str] = set()
    if isinstance(node, Binary):
        if node.op in ("==", "!="):
            for a, b in ((node.left, node.right), (node.right, node.left)):
                if isinstance(a, Name) and a.name == name and isinstance(b, Str):
                    out.add(b.value)
        out |= literals_compared(node.left, name) | literals_compared(node.right, name)
    elif isinstance(node, In) and isinstance(node.left, Name) and node.left.name == name and not node.negated:
        out |= {i.value for i in node.items if isinstance(i, Str)}
    elif isinstance(node, Unary) and node.op != "not":
        out |= literals_compared(node.operand, name)
    elif isinstance(node, Call):
        for a in node.args:
            out |= literals_compared(a, name)
    return out
