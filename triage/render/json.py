"""JSON as every command prints it: the same value for any JSON reader, inert on a terminal."""

from __future__ import annotations

import json
import re
from typing import TextIO

# Characters encoded before each write of write_inert_json.
_WRITE_CHUNK = 1 << 16
# In JSON text C0 is always \\u-escaped by json.dumps; the rest of the set is not (ensure_ascii=False).
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def inert_json(payload: object, *, indent: int | None = 2) -> str:
    """json.dumps, with every control character that render.escape makes visible \\u-escaped inside strings: JSON
    piped to a terminal, `less` or a review tool is as inert as the table. The document is the
    same value for any JSON reader."""
    text = json.dumps(payload, indent=indent, ensure_ascii=False, allow_nan=False)
    return _JSON_UNSAFE.sub(_escape, text)


def write_inert_json(payload: object, out: TextIO, *, indent: int | None = 2) -> None:
    """inert_json(payload) + "\\n" written to `out` as it is encoded, never held whole: a fleet
    document of 10,000 services is ~55 MB of text, and the indented encoder's pieces of it
    several times that. The same characters as inert_json (the escaped characters are single
    characters, so escaping piece by piece escapes the same ones)."""
    encoder = json.JSONEncoder(indent=indent, ensure_ascii=False, allow_nan=False)
    pending: list[str] = []
    size = 0
    for chunk in encoder.iterencode(payload):
        pending.append(chunk)
        size += len(chunk)
        if size >= _WRITE_CHUNK:
            out.write(_JSON_UNSAFE.sub(_escape, "".join(pending)))
            pending, size = [], 0
    pending.append("\n")
    out.write(_JSON_UNSAFE.sub(_escape, "".join(pending)))


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"
