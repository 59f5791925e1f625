"""A range answer's JSON into triage's Series, fast: each series' labels are decoded as JSON, its
`values` (only numbers and quoted numbers) are split and turned into two `array('d')` in C,
without building a Python list per point. Anything the fast path does not recognise (other
fields, native histograms, odd spacing) is decoded by `json.loads` instead, with the same result.
"""

from __future__ import annotations

import math
import re
from array import array
from typing import Any

from triage.errors import SourceError
from triage.models import Points, Series

_HEAD = re.compile(rb'^\{"status":"success",(?:"isPartial":(?:true|false),)?"data":\{"resultType":"matrix","result":\[')
_VALUES = b'"values":['
_STRIP = bytes.maketrans(b"", b"")
_DROP = b'[]"'
# Label names, shared by every series that has them (a fleet answer repeats the same few names).
_KEYS: dict[str, str] = {}
MAX_KEYS = 4096


class _Slow(Exception):
    """The answer is not in the shape the fast path reads."""


def matrix(body: bytes, query: str, backend: str) -> list[Series]:
    """The series of a 200 answer to a range query."""
    try:
        return _fast(body)
    except (_Slow, ValueError, UnicodeDecodeError):
        import json

        return parse_matrix(json.loads(body)["data"]["result"], query, backend)


def _fast(body: bytes) -> list[Series]:
    head = _HEAD.match(body)
    if head is None:
        raise _Slow()
    pos = head.end()
    out: list[Series] = []
    shared: list = [None, None, None]   # the last timestamps read, as text, as an array and whether they rise
    if body[pos:pos + 1] == b"]":
        return _tail(body, pos, out)
    while True:
        if body[pos:pos + 10] != b'{"metric":':
            raise _Slow()
        labels, end = _labels(body, pos + 10)
        if body[end:end + 11] != b"," + _VALUES:
            raise _Slow()
        start = end + 11
        if body[start:start + 1] != b"[":
            raise _Slow()
        stop = body.find(b"]]", start)
        if stop < 0 or body[stop + 2:stop + 3] != b"}":
            raise _Slow()
        out.append(Series(labels=labels, points=_points(body[start:stop + 1], shared)))
        pos = stop + 3
        sep = body[pos:pos + 1]
        if sep == b",":
            pos += 1
            continue
        if sep == b"]":
            return _tail(body, pos, out)
        raise _Slow()


def _labels(body: bytes, pos: int) -> tuple[dict[str, str], int]:
    """The `metric` object at `pos`: its labels and where it ends."""
    import json  # here, not before the first request goes out (issue 17)

    stop = body.find(b"}", pos)
    while stop >= 0:
        try:
            raw = json.loads(body[pos:stop + 1])
        except ValueError:          # a `}` inside a label value: look further
            stop = body.find(b"}", stop + 1)
            continue
        if not isinstance(raw, dict):
            raise _Slow()
        return {_key(k): str(v) for k, v in raw.items()}, stop + 1
    raise _Slow()


def _key(raw: Any) -> str:
    """A label name as one string for every series (`json.loads` makes a new one per object)."""
    key = str(raw)
    return _KEYS.setdefault(key, key) if len(_KEYS) < MAX_KEYS else key


def _points(raw: bytes, shared: list) -> Points:
    """`[t,"v"],[t,"v"]...` (the outer brackets' content) into timestamps and values; timestamps
    equal to the previous series' are that series' (read-only) array."""
    if b"{" in raw or b":" in raw or b" " in raw:
        raise _Slow()
    fields = raw.translate(_STRIP, _DROP).split(b",")
    if len(fields) % 2:
        raise _Slow()
    stamps = fields[0::2]
    if stamps == shared[0]:
        ts = shared[1]
    else:
        ts = array("d", map(float, stamps))
        shared[0], shared[1] = stamps, ts
        shared[2] = None
    try:
        vs = array("d", map(float, fields[1::2]))
    except ValueError:
        vs = array("d", (_value(v) for v in fields[1::2]))
    points = Points(ts, vs, shared[2])
    shared[2] = points.rising()     # found once for the series that share the timestamps
    return points


def _tail(body: bytes, pos: int, out: list[Series]) -> list[Series]:
    """After the result list: `}` closes `data`; the rest (warnings, stats) must be valid JSON."""
    rest = body[pos + 1:].strip()
    if not rest.startswith(b"}") or not rest.endswith(b"}"):
        raise _Slow()
    if rest != b"}}":
        import json

        json.loads(b'{"x":0' + rest[1:])
    return out


def _value(raw: Any) -> float:
    try:
        return float(raw)
    except (TypeError, ValueError):
        return math.nan


def parse_matrix(data: Any, query: str, backend: str) -> list[Series]:
    if not isinstance(data, list):
        raise SourceError(f"{backend} answered a range query without a result list", backend="prometheus",
                          query=query)
    out = []
    for item in data:
        if not isinstance(item, dict):
            continue
        labels = {str(k): str(v) for k, v in (item.get("metric") or {}).items()}
        ts = array("d")
        vs = array("d")
        for pair in item.get("values") or ():
            if isinstance(pair, (list, tuple)) and len(pair) == 2:
                ts.append(float(pair[0]))
                vs.append(_value(pair[1]))
        out.append(Series(labels=labels, points=Points(ts, vs)))
    return out


def parse_vector(data: Any, query: str, backend: str) -> list[Series]:
    if not isinstance(data, list):
        raise SourceError(f"{backend} answered a query without a result list", backend="prometheus", query=query)
    out = []
    for item in data:
        if not isinstance(item, dict):
            continue
        labels = {str(k): str(v) for k, v in (item.get("metric") or {}).items()}
        pair = item.get("value")
        if isinstance(pair, (list, tuple)) and len(pair) == 2:
            out.append(Series(labels=labels, points=((float(pair[0]), _value(pair[1])),)))
    return out
