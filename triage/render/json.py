"""JSON as every command prints it: the same value for any JSON reader, inert on a terminal."""

from __future__ import annotations

import json
import re
from json.encoder import encode_basestring as _str
from typing import cast

# In JSON text C0 is always \\u-escaped by json.dumps; the rest of the set is not (ensure_ascii=False).
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


_INF = float("inf")


class _Unusual(Exception):
    """Something the fast path does not write exactly as json.dumps would: json.dumps writes it."""


def _scalar(o: object) -> str:
    t = type(o)
    if t is str:
        return _str(cast(str, o))
    if o is None:
        return "null"
    if t is bool:
        return "true" if o else "false"
    if t is int:
        return int.__repr__(cast(int, o))
    if t is float and o == o and o not in (_INF, -_INF):
        return float.__repr__(cast(float, o))
    raise _Unusual


def _indented(value: object, indent: int) -> str:
    """json.dumps(value, indent=indent, ensure_ascii=False, allow_nan=False), byte for byte, for
    the values documents are made of (dicts with str keys, lists, tuples, str, int, float, bool,
    None), without the pure-Python encoder's generators (json.dumps has no C path with an indent):
    ~40 % less time on `health -o json` over thousands of pods (issue 17). Anything else raises
    `_Unusual` and json.dumps writes the whole value."""
    parts: list[str] = []
    add = parts.append
    step = " " * indent

    def enc(o: object, pad: str, depth: int) -> None:
        t = type(o)
        if t is not dict and t is not list and t is not tuple:
            add(_scalar(o))
            return
        if not o:
            add("{}" if t is dict else "[]")
            return
        if depth > 200:  # json.dumps' own recursion limit and circular check decide
            raise _Unusual
        inner = "\n" + pad + step
        if t is dict:
            sep = "{" + inner
            for k, v in cast(dict, o).items():
                if type(k) is not str:
                    raise _Unusual
                add(sep + _str(k) + ": ")
                sep = "," + inner
                enc(v, pad + step, depth + 1)
            add("\n" + pad + "}")
            return
        sep = "[" + inner
        for v in cast(list, o):
            add(sep)
            sep = "," + inner
            enc(v, pad + step, depth + 1)
        add("\n" + pad + "]")

    enc(value, "", 0)
    return "".join(parts)


def inert_json(payload: object, *, indent: int | None = 2) -> str:
    """json.dumps, with every control character that render.escape makes visible \\u-escaped inside strings: JSON
    piped to a terminal, `less` or a review tool is as inert as the table. The document is the
    same value for any JSON reader."""
    if indent is None:
        text = json.dumps(payload, ensure_ascii=False, allow_nan=False)
    else:
        try:
            text = _indented(payload, indent)
        except _Unusual:
            text = json.dumps(payload, indent=indent, ensure_ascii=False, allow_nan=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
