"""JSON as every command prints it: the same value for any JSON reader, inert on a terminal."""

from __future__ import annotations

import json
import re

# In JSON text C0 is always \\u-escaped by json.dumps; the rest of the set is not (ensure_ascii=False).
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def inert_json(payload: object, *, indent: int | None = 2) -> str:
    """json.dumps, with every control character that render.escape makes visible \\u-escaped inside strings: JSON
    piped to a terminal, `less` or a review tool is as inert as the table. The document is the
    same value for any JSON reader."""
    text = json.dumps(payload, indent=indent, ensure_ascii=False, allow_nan=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
