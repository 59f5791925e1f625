"""The API server's label and field selector grammar, as predicates over stored objects."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

LabelCheck = Callable[[Mapping[str, str]], bool]
ObjectCheck = Callable[[dict], bool]


def _split_terms(selector: str) -> list[str]:
    terms, depth, cur = [], 0, ""
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        terms.append(cur.strip())
    return terms


def _among(key: str, values: set[str], inside: bool) -> LabelCheck:
    return lambda labels: (labels.get(key) in values) == inside


def _equals(key: str, value: str, equal: bool) -> LabelCheck:
    return lambda labels: (labels.get(key) == value) == equal


def _exists(key: str, present: bool) -> LabelCheck:
    return lambda labels: (key in labels) == present


def _label_check(term: str) -> LabelCheck:
    m = re.fullmatch(r"([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)", term)
    if m:
        values = {v.strip() for v in m.group(3).split(",") if v.strip()}
        return _among(m.group(1), values, m.group(2) == "in")
    m = re.fullmatch(r"([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)", term)
    if m:
        key, op, value = m.groups()
        return _equals(key, value, op != "!=")
    m = re.fullmatch(r"(!?)([\w./-]+)", term)
    if m:
        neg, key = m.groups()
        return _exists(key, not neg)
    raise ValueError(f"unable to parse requirement: {term!r}")


def parse_label_selector(selector: str) -> LabelCheck:
    """The selector grammar of the API server: =, ==, !=, in, notin, exists, !exists."""
    checks = [_label_check(term) for term in _split_terms(selector)]
    return lambda labels: all(c(labels) for c in checks)


def _field(obj: dict, dotted: str) -> str:
    cur: Any = obj
    for part in dotted.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    return "" if cur is None else str(cur)


def _field_equals(key: str, value: str, equal: bool) -> ObjectCheck:
    return lambda obj: (_field(obj, key) == value) == equal


def parse_field_selector(selector: str) -> ObjectCheck:
    checks: list[ObjectCheck] = []
    for term in _split_terms(selector):
        m = re.fullmatch(r"([\w.]+)\s*(==|=|!=)\s*(.*)", term)
        if not m:
            raise ValueError(f"invalid field selector: {term!r}")
        key, op, value = m.groups()
        checks.append(_field_equals(key, value, op != "!="))
    return lambda obj: all(c(obj) for c in checks)
