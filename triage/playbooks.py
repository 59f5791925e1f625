"""Playbooks: reviewed YAML turned into the mitigations (phase 2) and permanent fixes
(phase 4) of one incident, with the numbers computed from its evidence.

The inputs are documents, never live objects: a `triage.rca/v1` (or `triage.fleet/v1`)
dict and a `triage.health/v1` dict, as `triage rca`/`triage health` print them or as an
incident record holds them. So a plan made live and a plan made from a record a week later
are the same plan.

Conditions and sizes are written in a tiny expression language parsed here (no `eval`):
`cpu_usage_ratio > 90%`, `reason == "OOMKilled"`, `ceil(replicas * cpu_usage_ratio / 0.7)`.
Every name is checked when the file is loaded, so a typo is an error with file and line
rather than a step that silently never fires. A value that is missing from the incident
makes a condition *unknown* (Kleene logic): a step whose condition is unknown is listed as
skipped, with what was missing.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import yaml

from triage.analysis.detect import fmt
from triage.catalog import bundled_dir, search_dirs
from triage.config import ServiceConfig
from triage.errors import ConfigError, UsageError
from triage.models import BOTTLENECKS, EXTRA_SIGNALS, HEALTH_KINDS, HEALTH_REASONS, SIGNAL_NAMES, TRIGGERS, Status
from triage.yamlschema import AnyMapOf, Choice, Field, ListOf, compose, read_text, validate

PLAN_SCHEMA = "triage.plan/v1"
INCIDENT_SCHEMA = "triage.incident/v1"

SEVERITIES = ("P0", "P1", "P2", "P3")
STATUSES = ("ok", "warning", "critical", "unknown")
ACTION_KINDS = ("scale_deployment", "rollout_restart", "restart_container")
PHASES = {"mitigate": "mitigations", "fix": "fixes"}

SIGNALS = SIGNAL_NAMES + EXTRA_SIGNALS
SIGNAL_ATTRS = ("baseline", "window", "change")
CAPACITY_NUMBERS = ("db_connections_needed", "pool_per_pod", "max_pods_for_max_connections", "mean_latency_s")
CAPACITY_BOOLS = ("hpa_at_max",)

# name → (type, domain of string values or None)
_RCA_STRINGS = {"bottleneck": BOTTLENECKS, "trigger": TRIGGERS, "severity": SEVERITIES, "status": STATUSES}
_FINDING_STRINGS = {"reason": HEALTH_REASONS, "kind": HEALTH_KINDS, "check": None, "finding_status": STATUSES}
_PLAIN_NUMBERS = ("confidence", "window_minutes", "baseline_minutes")
_PLAIN_BOOLS = ("invariants_violated",)
FINDING_NAMES = tuple(_FINDING_STRINGS)

# Variables of templates that are words, not numbers.
IDENTITY_VARS = ("service", "namespace", "deployment", "container", "database", "hpa", "prometheus_url",
                 "alertmanager_url", "since", "start", "at", "bottleneck", "trigger", "severity", "missing_signals")
FINDING_VARS = ("target", "target_kind", "target_namespace", "workload", "reason", "check")

MAX_STEPS_PER_FILE = 200
# What may be pasted into a shell command or a PromQL label value as is.
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9._:/@+=,%-]+$")
_ENV_VAR = re.compile(r"^\$[A-Z][A-Z0-9_]*$")
_SEED = re.compile(r"^00[0-4](?:\s*[,/+&]\s*00[0-4])*(?=\s|$|:)")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


# ---- the expression language --------------------------------------------------------------


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
        if kind == "op" and text in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            right = self.sum()
            nkind, ntext, npos = self.peek()
            if nkind == "op" and ntext in ("==", "!=", "<", "<=", ">", ">="):
                raise ExprError("comparisons do not chain: write `a < b and b < c`", npos)
            return Binary(text, left, right, pos)
        negated = False
        if self.word("not") and self.toks[self.i + 1][1] == "in":
            self.take()
            negated = True
        if self.word("in"):
            _, _, pos = self.take()
            self.expect("[")
            items = []
            while True:
                items.append(self.literal())
                if self.peek()[1] == ",":
                    self.take()
                    continue
                break
            self.expect("]")
            return In(left, tuple(items), negated, pos)
        if negated:
            raise ExprError("expected 'in' after 'not'", pos)
        return left

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
                if text not in FUNCTIONS:
                    raise ExprError(f"unknown function {text!r} (known: {', '.join(FUNCTIONS)})", pos)
                self.take()
                args = []
                if self.peek()[1] != ")":
                    while True:
                        args.append(self.or_())
                        if self.peek()[1] == ",":
                            self.take()
                            continue
                        break
                self.expect(")")
                lo, hi = FUNCTIONS[text]
                if not lo <= len(args) <= hi:
                    want = str(lo) if lo == hi else f"{lo} to {hi}"
                    raise ExprError(f"{text}() takes {want} argument{'s' if hi > 1 else ''}, not {len(args)}", pos)
                return Call(text, tuple(args), pos)
            return Name(text, pos)
        if kind == "op" and text == "(":
            node = self.or_()
            self.expect(")")
            return node
        raise ExprError(f"unexpected {text or 'end of expression'!r}", pos)


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


# Types: "num", "bool", or ("str", domain-or-None, name).


class Scope:
    """Which names an expression may use, and their types."""

    def __init__(self, computed: Iterable[str] = (), *, finding: bool = True) -> None:
        self.computed = tuple(computed)
        self.finding = finding

    def type_of_name(self, name: str) -> Any:
        if name in self.computed:
            return "num"
        base, _, attr = name.partition(".")
        if base in SIGNALS:
            if attr and attr not in SIGNAL_ATTRS:
                raise ExprError(f"'{name}': a signal has .baseline, .window or .change, not .{attr}")
            return "num"
        if base == "capacity":
            if attr in CAPACITY_NUMBERS:
                return "num"
            if attr in CAPACITY_BOOLS:
                return "bool"
            raise ExprError(f"unknown capacity value '{name}' (known: "
                            f"{', '.join('capacity.' + k for k in CAPACITY_NUMBERS + CAPACITY_BOOLS)})")
        if name in _RCA_STRINGS:
            return ("str", _RCA_STRINGS[name], name)
        if name in _FINDING_STRINGS:
            return ("str", _FINDING_STRINGS[name], name)
        if name in _PLAIN_NUMBERS:
            return "num"
        if name in _PLAIN_BOOLS:
            return "bool"
        close = [s for s in SIGNALS if s.startswith(base[:4])] if len(base) >= 4 else []
        hint = f"; did you mean {', '.join(close[:3])}?" if close else ""
        raise ExprError(f"unknown signal or name '{name}'{hint} (signals: {', '.join(SIGNALS)}; also "
                        f"{', '.join([*_RCA_STRINGS, *_FINDING_STRINGS, *_PLAIN_NUMBERS, *_PLAIN_BOOLS])}, "
                        "capacity.*)")


def check_expr(node: Any, scope: Scope) -> Any:
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
        if node.fn == "has":
            [arg] = node.args
            if not isinstance(arg, Name):
                raise ExprError("has() takes a signal or capacity name", node.pos)
            check_expr(arg, scope)
            return "bool"
        types = [check_expr(a, scope) for a in node.args]
        for t, a in zip(types, node.args):
            if t != "num":
                raise ExprError(f"{node.fn}() takes numbers", node.pos)
        return "num"
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
    raise ExprError("not an expression")  # pragma: no cover


def _compatible(a: Any, b: Any, literal: Any, pos: int) -> None:
    kind_a = a[0] if isinstance(a, tuple) else a
    kind_b = b[0] if isinstance(b, tuple) else b
    if kind_a != kind_b:
        raise ExprError(f"cannot compare a {_tname(a)} with a {_tname(b)}", pos)
    if kind_a == "str":
        typed = a if a[1] is not None else b
        if typed[1] is not None and isinstance(literal, Str) and literal.value not in typed[1]:
            raise ExprError(f"unknown {typed[2]} {literal.value!r} (known: {', '.join(typed[1])})", pos)


def _tname(t: Any) -> str:
    return {"num": "number", "bool": "condition"}.get(t, "text") if not isinstance(t, tuple) else "text"


@dataclass(frozen=True)
class Missing:
    """An unknown value, and why: which inputs were absent."""

    names: tuple[str, ...]
    why: str

    @staticmethod
    def join(*items: "Missing") -> "Missing":
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
        if node.fn == "has":
            return not isinstance(lookup(node.args[0].name), Missing)
        if node.fn == "coalesce":
            values = [evaluate(a, lookup) for a in node.args]
            present = [v for v in values if not isinstance(v, Missing)]
            return present[0] if present else Missing.join(*values)
        values = [evaluate(a, lookup) for a in node.args]
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
            decisive = node.op == "or"
            left = evaluate(node.left, lookup)
            if left is decisive:
                return decisive
            right = evaluate(node.right, lookup)
            if right is decisive:
                return decisive
            gone = [v for v in (left, right) if isinstance(v, Missing)]
            return Missing.join(*gone) if gone else (not decisive)
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
    raise TypeError(node)  # pragma: no cover


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
        if values is None:
            return node.name
        v = values(node.name)
        if isinstance(v, Missing):
            return f"{node.name}(missing)"
        return num_text(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v).lower() \
            if isinstance(v, bool) else json.dumps(v)
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


# ---- templates ------------------------------------------------------------------------------

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
# `{name}` or `{name:.1f}` is a placeholder; `{{name}` is a literal `{name}`; every other brace
# (`{.spec.replicas}` jsonpath, `{{.State.Status}}` Go templates, PromQL matchers, JSON) is text.
_PLACEHOLDER = re.compile(r"\{\{(?P<esc>" + _IDENT + r"(?::[^{}\s]*)?\})|\{(?P<name>" + _IDENT
                          + r")(?::(?P<spec>[^{}\s]*))?\}")
_SPEC = re.compile(r"^(?:\.\d{1,2}[f%]|d|%|)$")


def template_names(text: str) -> list[tuple[str, str | None, int]]:
    return [(m.group("name"), m.group("spec"), m.start()) for m in _PLACEHOLDER.finditer(text) if m.group("name")]


def check_template(text: str, scope: Scope, *, finding_scoped: bool) -> None:
    for name, spec, pos in template_names(text):
        if spec is not None and not _SPEC.match(spec):
            raise ExprError(f"'{{{name}:{spec}}}': format must be .Nf, .N%, % or d", pos)
        if name in IDENTITY_VARS:
            continue
        if name in FINDING_VARS:
            if not finding_scoped:
                raise ExprError(f"'{{{name}}}' names a health finding, but this step's `when` does not look at "
                                "one (use reason, kind or check in `when`)", pos)
            continue
        try:
            kind = scope.type_of_name(name)
        except ExprError as exc:
            raise ExprError(f"unknown placeholder '{{{name}}}': {exc.message}", pos) from None
        if isinstance(kind, tuple) and kind[2] in FINDING_NAMES and not finding_scoped:
            raise ExprError(f"'{{{name}}}' names a health finding, but this step's `when` does not look at one", pos)


class RenderError(Exception):
    pass


def render_template(text: str, values: Lookup, *, shell: bool, keep_missing: bool = False) -> str:
    """Placeholders filled in; with `shell`, every value must be safe to paste unquoted.

    Outside commands a missing value reads `n/a` (or stays `{name}` with `keep_missing`)."""

    def one(m: re.Match) -> str:
        if m.group("esc"):
            return "{" + m.group("esc")
        name, spec = m.group("name"), m.group("spec")
        value = values(name)
        if isinstance(value, Missing):
            if not shell:
                return m.group(0) if keep_missing else "n/a"
            raise RenderError(value.why or f"{name} is missing")
        if isinstance(value, bool):
            out = str(value).lower()
        elif isinstance(value, (int, float)):
            if spec == "d":
                out = str(int(round(value)))
            elif spec:
                out = format(value, ".0%" if spec == "%" else spec)
            else:
                out = num_text(value)
        else:
            out = str(value)
            if shell and not (_SAFE_VALUE.match(out) or _ENV_VAR.match(out)):
                raise RenderError(f"{name} {out!r} has characters that are not safe in a command")
        return out

    return _PLACEHOLDER.sub(one, text)


# ---- playbook files -------------------------------------------------------------------------

_STEP = {
    "id": Field(str, required=True),
    "title": Field(str, required=True),
    "seed": Field(str, required=True),
    "when": Field(str, required=True),
    "description": Field(str),
    "evidence": Field(ListOf(str)),
    "compute": Field(AnyMapOf(str)),
    "commands": Field(ListOf(str), required=True),
    "risk": Field(str, required=True),
}
MITIGATION_SCHEMA = {
    **_STEP,
    "safe": Field(bool),
    "action": Field({
        "kind": Field(Choice(*ACTION_KINDS), required=True),
        "replicas": Field(str),
        "name": Field(str),
        "namespace": Field(str),
    }),
}
FIX_SCHEMA = {
    **_STEP,
    "effort": Field(str, required=True),
    "timeline": Field(str, required=True),
    "priority": Field(Choice("P0", "P1", "P2")),
    "success_metric": Field(str, required=True),
}
PLAYBOOK_SCHEMA = {
    "title": Field(str, required=True),
    "description": Field(str),
    "mitigations": Field(ListOf(MITIGATION_SCHEMA)),
    "fixes": Field(ListOf(FIX_SCHEMA)),
}
EVIDENCE_EXTRA = ("finding", "summary", "capacity.lines", "missing_signals")


@dataclass(frozen=True)
class Step:
    playbook: str
    phase: str  # "mitigations" or "fixes"
    id: str
    title: str
    seed: str
    when_text: str
    when: Any
    commands: tuple[str, ...]
    risk: str
    compute: tuple[tuple[str, str, Any], ...] = ()
    evidence: tuple[str, ...] = ()
    description: str = ""
    safe: bool = False
    action: Mapping[str, Any] | None = None
    action_replicas: Any = None
    effort: str = ""
    timeline: str = ""
    priority: str | None = None
    success_metric: str = ""
    line: int = 0
    finding_scoped: bool = False

    @property
    def full_id(self) -> str:
        return f"{self.playbook}/{self.id}"

    @property
    def seeds(self) -> list[str]:
        """Every seed the step cites, in order: `004 §2.3 + 003 (...)` → ["004", "003"]."""
        out: list[str] = []
        for n in re.findall(r"(?<![\w.=#])00[0-4](?![\w.])", self.seed):
            if n not in out:
                out.append(n)
        return out

    def covers(self, name: str) -> set[str]:
        return literals_compared(self.when, name)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.full_id, "title": self.title, "seed": self.seed, "when": self.when_text,
                               "evidence": list(self.evidence),
                               "compute": {n: t for n, t, _ in self.compute}, "commands": list(self.commands),
                               "risk": self.risk, "line": self.line}
        if self.description:
            out["description"] = self.description
        if self.phase == "mitigations":
            out["safe"] = self.safe
            if self.action is not None:
                out["action"] = dict(self.action)
        else:
            out.update({"effort": self.effort, "timeline": self.timeline, "priority": self.priority,
                        "success_metric": self.success_metric})
        return out


@dataclass(frozen=True)
class Playbook:
    name: str
    path: Path
    title: str
    description: str
    mitigations: tuple[Step, ...]
    fixes: tuple[Step, ...]
    bundled: bool = True

    @property
    def steps(self) -> tuple[Step, ...]:
        return self.mitigations + self.fixes

    def covers(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for key, names in (("bottlenecks", "bottleneck"), ("reasons", "reason")):
            found: set[str] = set()
            for s in self.steps:
                found |= s.covers(names)
            order = BOTTLENECKS if key == "bottlenecks" else HEALTH_REASONS
            out[key] = [n for n in order if n in found]
        sig: set[str] = set()
        for s in self.steps:
            sig |= {n.split(".")[0] for n in names_in(s.when) if n.split(".")[0] in SIGNALS}
        out["signals"] = sorted(sig)
        return out

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "file": str(self.path), "bundled": self.bundled, "title": self.title,
                "description": self.description, "covers": self.covers(),
                "mitigations": [s.to_json() for s in self.mitigations], "fixes": [s.to_json() for s in self.fixes]}


def _node_at(node: yaml.Node | None, *path: Any) -> yaml.Node | None:
    current = node
    for key in path:
        if isinstance(key, int):
            if not isinstance(current, yaml.SequenceNode) or key >= len(current.value):
                return None
            current = current.value[key]
        else:
            if not isinstance(current, yaml.MappingNode):
                return None
            for k, v in current.value:
                if isinstance(k, yaml.ScalarNode) and k.value == key:
                    current = v
                    break
            else:
                return None
    return current


def _line(node: yaml.Node | None, root: yaml.Node | None) -> int:
    n = node or root
    return n.start_mark.line + 1 if n is not None else 0


def load_playbook(path: Path, *, bundled: bool = False) -> Playbook:
    """One file, validated: schema (unknown keys), expressions, placeholders, actions."""
    source = str(path)
    node = compose(read_text(path, "playbook"), source)
    if node is None:
        raise ConfigError(f"{source}: empty file; a playbook needs a title and at least one of mitigations or fixes")
    raw = validate(node, PLAYBOOK_SCHEMA, source)
    name = path.stem
    steps: dict[str, list[Step]] = {"mitigations": [], "fixes": []}
    seen: dict[str, int] = {}
    for phase in ("mitigations", "fixes"):
        items = raw.get(phase) or []
        if len(items) > MAX_STEPS_PER_FILE:
            raise ConfigError(f"{source}:{_line(_node_at(node, phase), node)}: more than {MAX_STEPS_PER_FILE} {phase}")
        for i, item in enumerate(items):
            steps[phase].append(_step(item, phase, i, name, source, node, seen))
    if not steps["mitigations"] and not steps["fixes"]:
        raise ConfigError(f"{source}:{_line(None, node)}: a playbook needs at least one of mitigations or fixes")
    return Playbook(name=name, path=path, title=raw["title"], description=raw.get("description", ""),
                    mitigations=tuple(steps["mitigations"]), fixes=tuple(steps["fixes"]), bundled=bundled)


def _step(item: Mapping[str, Any], phase: str, i: int, playbook: str, source: str, root: yaml.Node | None,
          seen: dict[str, int]) -> Step:
    label = f"{phase}[{i}]"

    def at(*keys: Any) -> str:
        return f"{source}:{_line(_node_at(root, phase, i, *keys), root)}"

    def fail(keys: Sequence[Any], message: str) -> ConfigError:
        return ConfigError(f"{at(*keys)}: {label} ({item.get('id', '?')}): {message}")

    sid = item["id"]
    if not _ID.match(sid):
        raise fail(("id",), f"id {sid!r} must be lowercase letters, digits and dashes")
    if sid in seen:
        raise fail(("id",), f"id '{sid}' is also used at line {seen[sid]}")
    seen[sid] = _line(_node_at(root, phase, i), root)
    if not _SEED.match(item["seed"]):
        raise fail(("seed",), f"seed {item['seed']!r} must start with the seed number(s) it comes from "
                              "(000 to 004), e.g. \"001 §5.4 phase 2\"")
    computed: list[tuple[str, str, Any]] = []
    scope = Scope()
    for cname, ctext in (item.get("compute") or {}).items():
        if not re.match(r"^[a-z][a-z0-9_]*$", cname):
            raise fail(("compute", cname), f"compute name {cname!r} must be lowercase letters, digits and _")
        try:
            scope.type_of_name(cname)
        except ExprError:
            pass
        else:
            raise fail(("compute", cname), f"compute name '{cname}' hides a signal or name of the same name")
        if cname in IDENTITY_VARS or cname in FINDING_VARS:
            raise fail(("compute", cname), f"compute name '{cname}' hides a template variable")
        expr = _parse(ctext, scope, "num", lambda m: fail(("compute", cname), m))
        computed.append((cname, ctext, expr))
        scope = Scope([c[0] for c in computed])
    when = _parse(item["when"], Scope(), "bool", lambda m: fail(("when",), m))
    finding_scoped = bool(names_in(when) & set(FINDING_NAMES))
    for j, ev in enumerate(item.get("evidence") or []):
        if ev in EVIDENCE_EXTRA:
            if ev == "finding" and not finding_scoped:
                raise fail(("evidence", j), "evidence 'finding' needs a `when` that looks at a health finding")
            continue
        try:
            t = scope.type_of_name(ev)
        except ExprError as exc:
            raise fail(("evidence", j), f"evidence: {exc.message}") from None
        if isinstance(t, tuple):
            raise fail(("evidence", j), f"evidence '{ev}' is a word; list signals, capacity.* or "
                                        f"{', '.join(EVIDENCE_EXTRA)}")
    texts: list[tuple[tuple[Any, ...], str]] = [(("title",), item["title"]), (("risk",), item["risk"])]
    if item.get("description"):
        texts.append((("description",), item["description"]))
    if not item["commands"]:
        raise fail(("commands",), "commands must list at least one command")
    texts += [(("commands", j), c) for j, c in enumerate(item["commands"])]
    if phase == "fixes":
        texts.append((("success_metric",), item["success_metric"]))
        if "'" in item["success_metric"]:
            raise fail(("success_metric",), "the success metric is pasted into a single-quoted shell argument: "
                                            "use double quotes inside PromQL")
    for keys, text in texts:
        try:
            check_template(text, scope, finding_scoped=finding_scoped)
        except ExprError as exc:
            raise fail(keys, exc.message) from None
    action = item.get("action")
    replicas_expr = None
    if phase == "mitigations":
        if item.get("safe") and action is None:
            raise fail(("safe",), "safe: true needs an action (scale_deployment, rollout_restart, restart_container)")
        if action is not None and not item.get("safe"):
            raise fail(("action",), "an action is only run for steps marked safe: true")
        if action is not None:
            kind = action["kind"]
            if kind == "scale_deployment":
                if not action.get("replicas"):
                    raise fail(("action",), "scale_deployment needs replicas (an expression)")
                replicas_expr = _parse(action["replicas"], scope, "num", lambda m: fail(("action", "replicas"), m))
            elif action.get("replicas"):
                raise fail(("action", "replicas"), f"{kind} takes no replicas")
            if kind == "restart_container" and not finding_scoped and not action.get("name"):
                raise fail(("action",), "restart_container needs a container: a `when` on a health finding "
                                        "(kind == \"container\") or a name")
            for key in ("name", "namespace"):
                if action.get(key):
                    try:
                        check_template(action[key], scope, finding_scoped=finding_scoped)
                    except ExprError as exc:
                        raise fail(("action", key), exc.message) from None
    return Step(
        playbook=playbook, phase=phase, id=sid, title=item["title"], seed=item["seed"], when_text=item["when"],
        when=when, commands=tuple(item["commands"]), risk=item["risk"], compute=tuple(computed),
        evidence=tuple(item.get("evidence") or ()), description=item.get("description", ""),
        safe=bool(item.get("safe")), action=dict(action) if action else None, action_replicas=replicas_expr,
        effort=item.get("effort", ""), timeline=item.get("timeline", ""), priority=item.get("priority"),
        success_metric=item.get("success_metric", ""), line=seen[sid], finding_scoped=finding_scoped,
    )


def _parse(text: str, scope: Scope, want: str, fail: Callable[[str], ConfigError]) -> Any:
    try:
        node = parse_expr(text)
        got = check_expr(node, scope)
    except ExprError as exc:
        raise fail(f"{exc.message} (column {exc.pos + 1} of {text!r})") from None
    if got != want:
        raise fail(f"{text!r} is a {_tname(got)}; a {'condition' if want == 'bool' else 'number'} is needed here")
    return node


@dataclass(frozen=True)
class Library:
    playbooks: Mapping[str, Playbook]

    def get(self, name: str) -> Playbook:
        if name not in self.playbooks:
            raise UsageError(f"no playbook named '{name}' (have: {', '.join(self.playbooks)})")
        return self.playbooks[name]

    def steps(self, phase: str) -> list[Step]:
        return [s for p in self.playbooks.values() for s in (p.mitigations if phase == "mitigations" else p.fixes)]


def load_library(user_dirs: Iterable[Path] = ()) -> Library:
    """Every playbook; a user directory's file replaces the built-in file of the same name."""
    found: dict[str, Playbook] = {}
    bundled = bundled_dir("playbooks")
    for directory in search_dirs("playbooks", user_dirs):
        if not directory.is_dir():
            if directory != bundled:
                raise ConfigError(_not_a_directory(directory))
            continue
        for path in _playbook_files(directory):
            if path.stem in found:
                continue
            found[path.stem] = load_playbook(path, bundled=directory == bundled)
    return Library(dict(sorted(found.items())))


def _playbook_files(directory: Path) -> list[Path]:
    """The directory's `*.yaml`; one that cannot be listed is an error (Path.glob would say: no files)."""
    try:
        names = os.listdir(directory)
    except OSError as exc:
        raise ConfigError(f"{directory}: cannot read the playbooks directory: {exc.strerror}") from None
    return sorted(directory / n for n in names if n.endswith(".yaml"))


def _not_a_directory(path: Path, missing: str = "playbooks directory not found") -> str:
    try:
        path.stat()
    except FileNotFoundError:
        return f"{path}: {missing}"
    except OSError as exc:  # a symlink loop, a component that is not searchable
        return f"{path}: cannot read: {exc.strerror}"
    return f"{path}: not a directory (playbooks_dir names a directory of *.yaml playbooks)"


def validate_paths(paths: Sequence[Path]) -> tuple[list[Playbook], list[str]]:
    """Each file on its own, so one broken file does not hide the errors of the next."""
    files: list[Path] = []
    errors: list[str] = []
    for p in paths:
        if p.is_dir():
            try:
                files += _playbook_files(p)
            except ConfigError as exc:
                errors.append(exc.message)
        elif p.is_file():
            files.append(p)
        else:
            errors.append(_not_a_directory(p, "no such file or directory"))
    good = []
    for f in files:
        try:
            good.append(load_playbook(f, bundled=f.parent == bundled_dir("playbooks")))
        except ConfigError as exc:
            errors.append(exc.message)
    return good, errors


def coverage(library: Library) -> dict[str, dict[str, list[str]]]:
    """Class/reason → titles of the mitigations and fixes that name it in `when`."""
    out: dict[str, dict[str, list[str]]] = {}
    for key, names in (("bottleneck", BOTTLENECKS), ("reason", HEALTH_REASONS)):
        for n in names:
            out[n] = {ph: [s.title for s in library.steps(ph) if n in s.covers(key)]
                      for ph in ("mitigations", "fixes")}
    return out


# ---- inputs: documents ---------------------------------------------------------------------


@dataclass(frozen=True)
class Incident:
    """What a plan is made from: rca documents per service, a health document, and names."""

    rcas: tuple[Mapping[str, Any], ...]
    health: Mapping[str, Any] | None
    services: Mapping[str, ServiceConfig]
    source: str = "live"
    record_path: Path | None = None
    prometheus_url: str | None = None
    alertmanager_url: str | None = None


def rca_documents(doc: Mapping[str, Any] | None, only: str | None = None) -> list[Mapping[str, Any]]:
    """The `triage.rca/v1` objects of a rca or fleet document, root cause first."""
    if not doc:
        return []
    schema = doc.get("schema")
    if schema == "triage.rca/v1":
        out = [doc]
    elif schema == "triage.fleet/v1":
        services = doc.get("services") or {}
        order = [r.get("service") for r in doc.get("ranking") or [] if isinstance(r, dict)]
        order += [n for n in services if n not in order]
        out = [services[n] for n in order if n in services and isinstance(services[n], dict)]
    else:
        raise ConfigError(f"not a root-cause document (schema {schema!r}; expected triage.rca/v1 or triage.fleet/v1)")
    if only is not None:
        chosen = [d for d in out if d.get("service") == only]
        if not chosen:
            names = ", ".join(str(d.get("service")) for d in out) or "none"
            raise UsageError(f"service '{only}' is not in the root-cause analysis (it has: {names})")
        return chosen
    if schema == "triage.fleet/v1":
        incidents = [d for d in out if d.get("bottleneck") not in ("none", None)]
        return incidents or out[:1]
    return out


def check_health(doc: Any, where: str) -> Mapping[str, Any] | None:
    if doc is None:
        return None
    if not isinstance(doc, dict) or doc.get("schema") != "triage.health/v1":
        schema = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
        raise ConfigError(f"{where}: not a health document (schema {schema!r}, expected triage.health/v1)")
    if not isinstance(doc.get("findings"), list):
        raise ConfigError(f"{where}: health document without a findings list")
    return doc


def read_json(path: Path, what: str) -> Any:
    """A JSON document from outside (a record, a `health -o json`), read as the incident record is:
    bounded (also for a FIFO or a device), not too deep, no NaN; every way it is unusable is one line."""
    from triage.incident import read_json as read_bounded_json

    return read_bounded_json(Path(path), what)


def incident_from_record(path: Path, *, service: str | None = None) -> Incident:
    """`--from incident.json`: the record's rca and health, nothing from the network."""
    from triage.incident import load, service_from_json

    # The record's own reader: every section a reader walks is checked for its shape first.
    record = load(path)
    rcas = rca_documents(record.get("rca"), service) if record.get("rca") else []
    health = check_health(record.get("health"), f"{path}: health")
    if not rcas and health is None:
        raise ConfigError(f"{path}: the record holds neither a root-cause analysis nor health checks")
    services = {}
    for raw in record.get("services") or []:
        if isinstance(raw, dict) and raw.get("name"):
            svc = service_from_json(raw)
            services[svc.name] = svc
    return Incident(rcas=tuple(rcas), health=health, services=services, source=str(path), record_path=path)


def check_recordable(path: Path) -> None:
    """The record can take actions: readable as `triage.incident/v1` and its directory writable."""
    try:
        from triage.incident import load
    except ImportError:  # pragma: no cover - only without triage.incident
        load = None
    if load is not None:
        load(path)
    # Try what the save does (a temp file beside the record) rather than os.access: that answers
    # for the real uid, while the write is made with the effective one.
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=path.parent)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot record actions: {path.parent} is not writable ({exc.strerror})") from None
    os.close(fd)
    os.unlink(probe)


def record_actions(path: Path, actions: Sequence[Mapping[str, Any]]) -> None:
    """Append action records to an incident record, keeping every other key as it was."""
    if not actions:
        return
    try:
        from triage.incident import append_actions
    except ImportError:
        append_actions = None
    if append_actions is not None:
        append_actions(path, list(actions))
        return
    record = read_json(path, "incident record")  # pragma: no cover - only without triage.incident
    record.setdefault("actions", []).extend(dict(a) for a in actions)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# ---- planning ------------------------------------------------------------------------------


_POD_OF_DEPLOYMENT = re.compile(r"^(?P<w>[a-z0-9]([-a-z0-9]*[a-z0-9])?)-[a-z0-9]{6,10}-[a-z0-9]{5}$")


def workload_of(finding: Mapping[str, Any]) -> str | None:
    """The Deployment a finding belongs to, when its name says so."""
    kind, name = finding.get("kind"), str(finding.get("name") or "")
    if kind == "deployment":
        return name
    if kind == "pod":
        m = _POD_OF_DEPLOYMENT.match(name)
        return m.group("w") if m else None
    return None


@dataclass
class _Context:
    """Everything names and placeholders resolve to, for one service (and maybe one finding)."""

    rca: Mapping[str, Any] | None
    words: dict[str, str]
    numbers: dict[str, Any] = field(default_factory=dict)
    finding: Mapping[str, Any] | None = None

    def lookup(self, name: str) -> Any:
        if name in self.numbers:
            return self.numbers[name]
        base, _, attr = name.partition(".")
        if base in SIGNALS:
            if self.rca is None:
                return Missing((base,), f"{base} is missing: no root-cause analysis for this target")
            sig = (self.rca.get("signals") or {}).get(base)
            if not isinstance(sig, dict):
                why = (self.rca.get("missing_reasons") or {}).get(base)
                return Missing((base,), f"{base} is missing" + (f" ({why})" if why else ""))
            if attr == "change":
                b, w = sig.get("baseline"), sig.get("window")
                if not _isnum(b) or not _isnum(w) or b == 0:
                    return Missing((name,), f"{name} is missing (no baseline to compare with)")
                return w / b
            value = sig.get(attr or "window")
            if not _isnum(value):
                return Missing((name,), f"{name} is missing")
            return float(value)
        if base == "capacity":
            if self.rca is None:
                return Missing((name,), f"{name} is missing: no root-cause analysis for this target")
            value = (self.rca.get("capacity") or {}).get(attr)
            if isinstance(value, bool):
                return value
            if not _isnum(value):
                return Missing((name,), f"{name} is missing (capacity math lacked a term)")
            return float(value)
        if name in _RCA_STRINGS or name == "confidence":
            if self.rca is None:
                return Missing((name,), f"{name} is unknown: no root-cause analysis for this target")
            value = self.rca.get(name)
            if value is None:
                return Missing((name,), f"{name} is not in the root-cause analysis")
            return float(value) if name == "confidence" else str(value)
        if name == "invariants_violated":
            if self.rca is None:
                return Missing((name,), f"{name} is unknown: no root-cause analysis for this target")
            return any(isinstance(i, dict) and i.get("violated") for i in self.rca.get("invariants") or [])
        if name in _FINDING_STRINGS:
            if self.finding is None:
                return Missing((name,), f"{name}: no health finding")
            key = "status" if name == "finding_status" else name
            value = self.finding.get(key)
            return Missing((name,), f"finding has no {key}") if value is None else str(value)
        if name in self.words:
            value = self.words[name]
            return Missing((name,), f"{name} is not known for this target") if value is None else value
        return Missing((name,), f"{name} is not known")


def _isnum(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _minutes(rng: Any) -> float | None:
    from datetime import datetime

    if not isinstance(rng, dict):
        return None
    try:
        start = datetime.fromisoformat(str(rng["start"]).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(rng["end"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
    return (end - start).total_seconds() / 60


def _service_context(rca: Mapping[str, Any] | None, svc: ServiceConfig | None, incident: Incident) -> _Context:
    name = (rca or {}).get("service") or (svc.name if svc else None)
    namespace = (rca or {}).get("namespace") or (svc.namespace if svc else None)
    cfg = svc or (ServiceConfig(name=name, namespace=namespace or "default") if name else None)
    window = _minutes((rca or {}).get("window"))
    words = {
        "service": name,
        "namespace": namespace,
        "deployment": cfg.selector("deployment") if cfg else None,
        "container": cfg.selector("container") if cfg else None,
        "database": cfg.selector("datname") if cfg else None,
        "hpa": cfg.selector("horizontalpodautoscaler") if cfg else None,
        "prometheus_url": incident.prometheus_url or "$PROMETHEUS_URL",
        "alertmanager_url": incident.alertmanager_url or "$ALERTMANAGER_URL",
        "since": f"{max(1, round(window))}m" if window else "15m",
        "at": ((rca or {}).get("window") or {}).get("end") or "now",
        "start": ((rca or {}).get("baseline") or {}).get("start") or ((rca or {}).get("window") or {}).get("start"),
        "bottleneck": (rca or {}).get("bottleneck"),
        "trigger": (rca or {}).get("trigger"),
        "severity": (rca or {}).get("severity"),
        "missing_signals": ",".join((rca or {}).get("missing_signals") or []) or "none",
    }
    numbers: dict[str, Any] = {}
    if window:
        numbers["window_minutes"] = window
    baseline = _minutes((rca or {}).get("baseline"))
    if baseline:
        numbers["baseline_minutes"] = baseline
    return _Context(rca=rca, words=words, numbers=numbers)


def _finding_context(base: _Context | None, finding: Mapping[str, Any], incident: Incident) -> _Context:
    ctx = base if base is not None else _service_context(None, None, incident)
    words = dict(ctx.words)
    ns = finding.get("namespace")
    workload = workload_of(finding)
    if finding.get("kind") == "hpa" and base is not None and base.words.get("hpa") == finding.get("name"):
        workload = base.words.get("deployment")
    words.update({
        "target": str(finding.get("name") or ""),
        "target_kind": str(finding.get("kind") or ""),
        "target_namespace": ns or ctx.words.get("namespace") or "default",
        "workload": workload,
        "reason": finding.get("reason"),
        "check": finding.get("check"),
    })
    if base is None:
        # A finding on its own: its names stand in for the service's.
        words["namespace"] = ns or "default"
        if workload:
            words.update({"service": words.get("service") or workload, "deployment": workload})
        if finding.get("kind") == "container":
            words["container"] = str(finding.get("name"))
        if finding.get("kind") == "hpa":
            words["hpa"] = str(finding.get("name"))
    return _Context(rca=ctx.rca, words=words, numbers=dict(ctx.numbers), finding=finding)


def _owner(finding: Mapping[str, Any], contexts: Sequence[_Context]) -> _Context | None:
    """Which service a finding is about: same namespace and a name of the service."""
    name = str(finding.get("name") or "")
    ns = finding.get("namespace")
    kind = finding.get("kind")
    for ctx in contexts:
        w = ctx.words
        if ns is not None and ns != w.get("namespace"):
            continue
        names = {w.get("service"), w.get("deployment"), w.get("container"), w.get("hpa")} - {None}
        if kind in ("deployment", "hpa") and name in names:
            return ctx
        if kind == "pod" and workload_of(finding) in names:
            return ctx
        if kind == "container" and any(name == n or name.startswith(f"{n}-") or name.endswith(f"-{n}")
                                       or f"-{n}-" in name for n in names):
            return ctx
        if kind == "endpoint":
            host = re.sub(r"^[a-z]+://", "", name).split("/")[0].split(":")[0]
            if host.split(".")[0] in names:
                return ctx
    return None


@dataclass(frozen=True)
class PlannedStep:
    step: Step
    status: str  # "proposed" or "skipped"
    why: str
    service: str | None
    target: Mapping[str, Any] | None
    title: str
    evidence: tuple[Mapping[str, Any], ...] = ()
    numbers: tuple[Mapping[str, Any], ...] = ()
    commands: tuple[str, ...] = ()
    risk: str = ""
    action: Mapping[str, Any] | None = None
    success_metric: str = ""
    verify: str = ""
    findings: tuple[Mapping[str, Any], ...] = ()
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        s = self.step
        out: dict[str, Any] = {
            "id": s.full_id, "playbook": s.playbook, "kind": "mitigation" if s.phase == "mitigations" else "fix",
            "title": self.title, "seed": s.seed, "seeds": s.seeds, "status": self.status, "when": s.when_text,
            "why": self.why, "service": self.service, "target": dict(self.target) if self.target else None,
            "evidence": [dict(e) for e in self.evidence], "numbers": [dict(n) for n in self.numbers],
            "commands": list(self.commands), "risk": self.risk,
        }
        if self.description:
            out["description"] = self.description
        if s.phase == "mitigations":
            out["safe"] = s.safe
            out["action"] = dict(self.action) if self.action else None
        else:
            out.update({"effort": s.effort, "timeline": s.timeline, "priority": s.priority,
                        "success_metric": self.success_metric, "verify": self.verify})
        return out


@dataclass(frozen=True)
class Plan:
    phase: str  # "mitigate", "fix" or "both"
    status: Status
    source: str
    services: tuple[Mapping[str, Any], ...]
    steps: tuple[PlannedStep, ...]
    notes: tuple[str, ...] = ()

    def of(self, phase: str) -> list[PlannedStep]:
        return [p for p in self.steps if p.step.phase == phase]

    @property
    def proposed(self) -> list[PlannedStep]:
        return [p for p in self.steps if p.status == "proposed"]

    @property
    def safe_steps(self) -> list[PlannedStep]:
        return [p for p in self.proposed if p.step.safe and p.action]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema": PLAN_SCHEMA, "phase": self.phase, "status": self.status.value,
                               "source": self.source, "services": [dict(s) for s in self.services]}
        # Proposed steps only under mitigations/fixes (what a post-mortem lists as action items);
        # the ones that could not be decided or rendered are kept apart, each with its why.
        if self.phase in ("mitigate", "both"):
            out["mitigations"] = [p.to_json() for p in self.of("mitigations") if p.status == "proposed"]
        if self.phase in ("fix", "both"):
            out["fixes"] = [p.to_json() for p in self.of("fixes") if p.status == "proposed"]
        out["skipped"] = [p.to_json() for p in self.steps if p.status == "skipped"]
        out["notes"] = list(self.notes)
        return out


def incident_status(incident: Incident) -> Status:
    statuses = []
    for rca in incident.rcas:
        try:
            statuses.append(Status(rca.get("status") or ("unknown" if rca.get("bottleneck") == "unknown" else "ok")))
        except ValueError:
            statuses.append(Status.UNKNOWN)
    for f in (incident.health or {}).get("findings") or []:
        if isinstance(f, dict):
            try:
                statuses.append(Status(f.get("status") or "ok"))
            except ValueError:
                statuses.append(Status.UNKNOWN)
    return Status.worst(statuses)


def make_plan(library: Library, incident: Incident, phase: str) -> Plan:
    """Every step whose `when` holds (proposed) or cannot be decided (skipped, with why)."""
    phases = ["mitigations", "fixes"] if phase == "both" else [PHASES[phase]]
    contexts = [_service_context(rca, incident.services.get(str(rca.get("service"))), incident)
                for rca in incident.rcas]
    findings = [f for f in (incident.health or {}).get("findings") or []
                if isinstance(f, dict) and f.get("reason") and f.get("status") in ("warning", "critical")]
    notes: list[str] = []
    if not incident.rcas:
        notes.append("no root-cause analysis: only the steps for health findings were considered")
    if incident.health is None:
        notes.append("no health checks: the steps for health findings were not considered")
    elif not findings:
        notes.append("the health checks found nothing to act on")
    for skip in (incident.health or {}).get("skipped") or []:
        if isinstance(skip, dict):
            notes.append(f"health: skipped {skip.get('source')}: {skip.get('reason')}")
    bottlenecks = {str(r.get("bottleneck")) for r in incident.rcas}
    planned: list[PlannedStep] = []
    for ph in phases:
        steps = sorted(library.steps(ph), key=lambda s: (0 if s.covers("bottleneck") & bottlenecks else 1))
        for step in steps:
            if step.finding_scoped:
                by_key: dict[tuple, PlannedStep] = {}
                for f in findings:
                    ctx = _finding_context(_owner(f, contexts), f, incident)
                    p = _plan_step(step, ctx)
                    if p is None:
                        continue
                    key = (p.status, p.commands, json.dumps(p.action, sort_keys=True), p.why if p.status ==
                           "skipped" else "")
                    if key in by_key:
                        prev = by_key[key]
                        by_key[key] = PlannedStep(**{**prev.__dict__, "findings": prev.findings + (f,)})
                    else:
                        by_key[key] = p
                planned.extend(by_key.values())
            else:
                for ctx in contexts:
                    p = _plan_step(step, ctx)
                    if p is not None:
                        planned.append(p)
    planned.sort(key=lambda p: (p.status != "proposed",))
    services = tuple({"service": r.get("service"), "namespace": r.get("namespace"), "bottleneck": r.get("bottleneck"),
                      "confidence": r.get("confidence"), "trigger": r.get("trigger"), "severity": r.get("severity"),
                      "status": r.get("status"), "summary": r.get("summary")} for r in incident.rcas)
    return Plan(phase=phase, status=incident_status(incident), source=incident.source, services=services,
                steps=tuple(planned), notes=tuple(notes))


def _plan_step(step: Step, ctx: _Context) -> PlannedStep | None:
    decided = evaluate(step.when, ctx.lookup)
    if decided is False:
        return None
    service = ctx.words.get("service")
    target = _target(step, ctx)
    if isinstance(decided, Missing):
        return PlannedStep(step=step, status="skipped", why=f"cannot decide `{step.when_text}`: {decided.why}",
                           service=service, target=target, title=_plain(step.title, ctx),
                           findings=(ctx.finding,) if ctx.finding else ())
    why = show(step.when, ctx.lookup)
    numbers = []
    values = dict(ctx.numbers)
    for name, text, node in step.compute:
        local = _Context(ctx.rca, ctx.words, values, ctx.finding)
        value = evaluate(node, local.lookup)
        if isinstance(value, Missing):
            # Only what a command, the action or the success metric needs skips the step (below);
            # a number that is only shown is shown as missing.
            value = Missing(value.names, f"cannot compute {name} = {text}: {value.why}")
            numbers.append({"name": name, "formula": show(node), "with": show(node, local.lookup), "value": None,
                            "missing": value.why})
        else:
            numbers.append({"name": name, "formula": show(node), "with": show(node, local.lookup),
                            "value": round(value, 6) if isinstance(value, float) else value})
        values[name] = value
    full = _Context(ctx.rca, ctx.words, values, ctx.finding)
    try:
        title = render_template(step.title, full.lookup, shell=False)
        risk = render_template(step.risk, full.lookup, shell=False)
        description = render_template(step.description, full.lookup, shell=False)
        commands = tuple(render_template(c, full.lookup, shell=True) for c in step.commands)
        metric = render_template(step.success_metric, full.lookup, shell=True) if step.success_metric else ""
        action = _action(step, full)
    except RenderError as exc:
        why = str(exc) if str(exc).startswith("cannot compute") else f"cannot render the commands: {exc}"
        return PlannedStep(step=step, status="skipped", why=why, service=service,
                           target=target, title=_plain(step.title, ctx),
                           findings=(ctx.finding,) if ctx.finding else ())
    verify = ""
    if metric:
        verify = f"promtool query instant {full.words['prometheus_url']} '{metric}'"
    return PlannedStep(step=step, status="proposed", why=why, service=service, target=target, title=title,
                       evidence=tuple(_evidence(step, full)), numbers=tuple(numbers), commands=commands, risk=risk,
                       action=action, success_metric=metric, verify=verify, description=description,
                       findings=(ctx.finding,) if ctx.finding else ())


def _plain(text: str, ctx: _Context) -> str:
    try:
        return render_template(text, ctx.lookup, shell=False, keep_missing=True)
    except RenderError:
        return text


def _target(step: Step, ctx: _Context) -> dict[str, Any] | None:
    if ctx.finding is not None:
        return {"kind": ctx.finding.get("kind"), "name": ctx.finding.get("name"),
                "namespace": ctx.finding.get("namespace")}
    if ctx.words.get("service"):
        return {"kind": "service", "name": ctx.words["service"], "namespace": ctx.words.get("namespace")}
    return None


def _action(step: Step, ctx: _Context) -> dict[str, Any] | None:
    if not step.safe or step.action is None:
        return None
    kind = step.action["kind"]
    out: dict[str, Any] = {"kind": kind}
    if kind in ("scale_deployment", "rollout_restart"):
        name_t = step.action.get("name") or ("{workload}" if step.finding_scoped else "{deployment}")
        ns_t = step.action.get("namespace") or ("{target_namespace}" if step.finding_scoped else "{namespace}")
        out["namespace"] = render_template(ns_t, ctx.lookup, shell=True)
        out["name"] = render_template(name_t, ctx.lookup, shell=True)
        if kind == "scale_deployment":
            value = evaluate(step.action_replicas, ctx.lookup)
            if isinstance(value, Missing):
                raise RenderError(value.why)
            out["replicas"] = int(math.ceil(value - 1e-9))
    else:
        out["name"] = render_template(step.action.get("name") or "{target}", ctx.lookup, shell=True)
    return out


def _evidence(step: Step, ctx: _Context) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    rca = ctx.rca or {}
    for name in step.evidence:
        if name == "finding":
            f = ctx.finding or {}
            where = f"{f.get('namespace')}/{f.get('name')}" if f.get("namespace") else f.get("name")
            text = f"{f.get('kind')} {where}: {f.get('reason')} — {f.get('detail', '')}"
            out.append({"name": "finding", "text": text, "check": f.get("check"), "status": f.get("status")})
        elif name == "summary":
            if rca.get("summary"):
                out.append({"name": "summary", "text": str(rca["summary"])})
        elif name == "capacity.lines":
            for line in (rca.get("capacity") or {}).get("lines") or []:
                out.append({"name": "capacity", "text": str(line)})
        elif name == "missing_signals":
            missing = rca.get("missing_reasons") or {m: "" for m in rca.get("missing_signals") or []}
            for m, why in missing.items():
                out.append({"name": m, "text": f"{m}: missing{' (' + str(why) + ')' if why else ''}"})
        elif name.startswith("capacity."):
            v = ctx.lookup(name)
            out.append({"name": name, "value": None if isinstance(v, Missing) else v,
                        "text": f"{name} = {'missing' if isinstance(v, Missing) else num_text(v)}"})
        elif name in SIGNALS:
            sig = (rca.get("signals") or {}).get(name)
            if isinstance(sig, dict):
                unit = str(sig.get("unit") or "")
                text = f"{name} {fmt(sig.get('window'), unit)} (baseline {fmt(sig.get('baseline'), unit)})"
                out.append({"name": name, "baseline": sig.get("baseline"), "window": sig.get("window"), "unit": unit,
                            "query": sig.get("query"), "text": text})
            else:
                out.append({"name": name, "text": f"{name}: missing"})
        else:
            v = ctx.lookup(name)
            out.append({"name": name, "value": None if isinstance(v, Missing) else v,
                        "text": f"{name} = {'missing' if isinstance(v, Missing) else num_text(v)}"})
    return out


def plan_for_record(rca: Mapping[str, Any] | None, health: Mapping[str, Any] | None, settings: Any) -> dict[str, Any]:
    """The `playbooks` phase of `triage run`: both mitigations and fixes, as JSON."""
    library = load_library(getattr(settings, "playbooks_dirs", ()) or ())
    prom = getattr(settings, "prometheus", None)
    am = getattr(settings, "alertmanager", None)
    incident = Incident(rcas=tuple(rca_documents(rca)), health=check_health(health, "health") if health else None,
                        services=dict(getattr(settings, "services", {}) or {}), source="run",
                        prometheus_url=prom.display_url if prom else None,
                        alertmanager_url=am.display_url if am else None)
    return make_plan(library, incident, "both").to_json()


def check_targets(steps: Sequence[PlannedStep], services: Sequence[ServiceConfig], *, config: str) -> None:
    """Refuse `--apply` when an action's target is not a service the operator names now.

    A record, a health document or a playbook can be edited by anyone it passed through, so
    what an action changes must be what the current config (or the command line: `--service`,
    `--namespace`) names for a service: its namespace and deployment, or a container of it.
    The names the record carries are never enough on their own.
    """
    from triage.health.run import docker_selector

    deployments = {(s.namespace, s.selector("deployment")) for s in services}
    containers = docker_selector(list(services)) if services else None
    for p in steps:
        action = p.action or {}
        kind = action.get("kind")
        if kind in ("scale_deployment", "rollout_restart"):
            ns, name = str(action.get("namespace")), str(action.get("name"))
            if (ns, name) in deployments:
                continue
            shown = ", ".join(sorted(f"{n}/{d}" for n, d in deployments)[:6]) or "none"
            raise UsageError(
                f"refusing to --apply: step {p.step.full_id} targets deployment {ns}/{name}, which is not the "
                f"deployment of a service named by {config} or the command line (named: {shown}); to act on it, "
                f"add it to the config or name it with --service {name} --namespace {ns}")
        if kind == "restart_container":
            name = str(action.get("name"))
            if containers is not None and containers(name, {}):
                continue
            shown = ", ".join(sorted(s.selector("container") for s in services)[:6]) or "none"
            raise UsageError(
                f"refusing to --apply: step {p.step.full_id} targets docker container {name}, which is not a "
                f"container of a service named by {config} or the command line (named: {shown}); "
                "add its service to the config to act on it")


# ---- markdown ------------------------------------------------------------------------------


def plan_markdown(plan: Plan, actions: Sequence[Mapping[str, Any]] = ()) -> str:
    from triage.report import md, md_code

    title = {"mitigate": "Mitigation plan (phase 2)", "fix": "Permanent fixes (phase 4)",
             "both": "Mitigations and permanent fixes"}[plan.phase]
    lines = [f"# {title}", "", f"Status: **{plan.status.value.upper()}**. Source: {md(plan.source)}.", ""]
    for s in plan.services:
        lines.append(f"- {md(s.get('service'))} ({md(s.get('namespace'))}): **{md(s.get('bottleneck'))}**, "
                     f"confidence {s.get('confidence')}, trigger {md(s.get('trigger'))}, "
                     f"severity {md(s.get('severity') or 'none')}")
    if plan.services:
        lines.append("")
    for ph, head in (("mitigations", "Mitigations"), ("fixes", "Permanent fixes")):
        if plan.phase not in ("both", "mitigate" if ph == "mitigations" else "fix"):
            continue
        proposed = [p for p in plan.of(ph) if p.status == "proposed"]
        lines += [f"## {head}", ""]
        if not proposed:
            lines += ["Nothing in the playbooks applies to what was found.", ""]
        for i, p in enumerate(proposed, 1):
            lines += _md_step(i, p, md, md_code)
        skipped = [p for p in plan.of(ph) if p.status == "skipped"]
        if skipped:
            lines += ["### Skipped", ""]
            for p in skipped:
                lines.append(f"- {md(p.title)} ({md(p.step.full_id)}): {md(p.why)}")
            lines.append("")
    if actions:
        lines += ["## Actions", "", "| time | action | target | before | after | result |", "|---|---|---|---|---|---|"]
        for a in actions:
            lines.append(f"| {md(a.get('time', ''))} | {md(a.get('what', ''))} | {md(a.get('target', ''))} | "
                         f"{md(json.dumps(a.get('before')))} | {md(json.dumps(a.get('after')))} | "
                         f"{md(a.get('result', ''))} |")
        lines.append("")
    for note in plan.notes:
        lines.append(f"- note: {md(note)}")
    return "\n".join(lines).rstrip() + "\n"


def _md_step(i: int, p: PlannedStep, md: Callable[[object], str], md_code: Callable[[object], str]) -> list[str]:
    s = p.step
    where = f" — {md(p.target['kind'])} {md(p.target['name'])}" if p.target else ""
    lines = [f"### {i}. {md(p.title)}{where}", "",
             f"*{md(s.full_id)}, seed {md(s.seed)}*", ""] + ([md(p.description), ""] if p.description else []) + [
             f"- when: {md_code(s.when_text)} → {md_code(p.why)}"]
    for ev in p.evidence:
        lines.append(f"- evidence: {md(ev['text'])}" + (f" — {md_code(ev['query'])}" if ev.get("query") else ""))
    for f in p.findings[1:]:
        lines.append(f"- also: {md(f.get('kind'))} {md(f.get('name'))}: {md(f.get('reason'))}")
    for n in p.numbers:
        result = f"**{num_text(n['value'])}**" if n["value"] is not None else f"n/a ({md(n.get('missing', ''))})"
        lines.append(f"- {md_code(n['name'] + ' = ' + n['formula'])} = {md_code(n['with'])} = {result}")
    lines.append(f"- risk: {md(p.risk)}")
    if s.phase == "fixes":
        prio = f", priority {md(s.priority)}" if s.priority else ""
        lines.append(f"- effort: {md(s.effort)}; timeline: {md(s.timeline)}{prio}")
        lines.append(f"- success metric: {md_code(p.success_metric)}")
    if p.action:
        lines.append(f"- safe to apply with `--apply`: {md(describe_action(p.action))}")
    body = "\n".join(list(p.commands) + ([f"# verify\n{p.verify}"] if p.verify else []))
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    lines += ["", f"{fence}sh", body, fence, ""]
    return lines


def describe_action(action: Mapping[str, Any]) -> str:
    kind = action.get("kind")
    if kind == "scale_deployment":
        return f"scale deployment {action.get('namespace')}/{action.get('name')} to {action.get('replicas')} replicas"
    if kind == "rollout_restart":
        return f"rollout restart deployment {action.get('namespace')}/{action.get('name')}"
    if kind == "restart_container":
        return f"restart Docker container {action.get('name')}"
    return f"unknown action {kind!r}"
