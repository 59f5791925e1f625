"""JSON as every command prints it: the same value for any JSON reader, inert on a terminal."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from json.encoder import encode_basestring as _str
from typing import Any, TextIO, cast

_c_encoder: Any
try:
    from _json import make_encoder as _c_encoder
except ImportError:  # an interpreter without json's C speedups
    _c_encoder = None

# Characters encoded before each write of write_inert_json.
_WRITE_CHUNK = 1 << 16
# In JSON text C0 is always \\u-escaped by json.dumps; the rest of the set is not (ensure_ascii=False).
# Compiled on first use (re's own cache): only a text with non-ASCII characters or DEL needs it.
_JSON_UNSAFE = "[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"

_INF = float("inf")
# Past this depth json.dumps itself writes the rest (its recursion and circular checks decide).
_FAST_DEPTH = 200
# At most this many of a container's scalars are joined into one piece: a list of a million numbers
# still reaches write_inert_json's writes as it is encoded, not whole.
_JOINED = 512
# At most this many dicts are written in one call of json's C encoder (`_flat_run`), and a piece
# longer than _RUN_TEXT is written at once: what the encoder holds stays a few tens of kB.
_RUN = 128
_RUN_TEXT = 1 << 14
# The value types json's C encoder writes as json.dumps' indented Python encoder does, character for
# character (str through the same encode_basestring, int and float through their own __repr__).
_FLAT = frozenset({str, int, float, bool, type(None)})
_STR_KEYS = frozenset({str})


def _scalar(o: object) -> str | None:
    """A plain scalar as json.dumps writes it, or None for anything else (json.dumps writes that)."""
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
    return None


def _flat(o: Any, inner: str, outer: str, writers: dict[str, Any]) -> str | None:
    """A small dict or list of plain scalars as json.dumps writes it, its members on lines that start
    with `inner` and its closing bracket on one that starts with `outer`, by json's C encoder (no
    indent there: the line break and indent are in its item separator); None for anything else.
    An out-of-range float is left to json.dumps at its place (its own error)."""
    if (_c_encoder is None or not o or len(o) > _JOINED
            or not _FLAT.issuperset(map(type, o.values() if type(o) is dict else o))
            or (type(o) is dict and not _STR_KEYS.issuperset(map(type, o)))):
        return None
    encoder = writers.get(inner)
    if encoder is None:
        encoder = writers[inner] = _c_encoder(None, None, _str, None, ": ", "," + inner, False, False, False)
    try:
        text = "".join(encoder(o, 0))
    except ValueError:
        return None
    return text[0] + inner + text[1:-1] + outer + text[-1]


def _list_members(items: list | tuple, inner: str, outer: str, writers: dict[str, Any],
                  fast: bool) -> Iterator[tuple[str, object, str | None]]:
    """A list's members as ("", member, its JSON or None for the writer to write it). A run of
    small dicts with the same keys (the findings of a health document) is one item: the run, and
    its members' JSON with the list's separators between them, by `_flat_run` (a run that is not
    all plain scalars is left to the writer member by member)."""
    i, n = 0, len(items)
    while i < n:
        d = items[i]
        if fast and type(d) is dict and d and len(d) <= _JOINED:
            keys = tuple(d)
            j = i + 1
            while j < n and j - i < _RUN and type(items[j]) is dict and tuple(items[j]) == keys:
                j += 1
            if j - i > 1:
                run = items[i:j]
                text = _flat_run(run, keys, inner, outer, writers)
                if text is not None:
                    yield "", run, text
                else:
                    for member in run:
                        yield "", member, None
                i = j
                continue
        yield "", d, None
        i += 1


def _flat_run(run: list | tuple, keys: tuple, inner: str, outer: str, writers: dict[str, Any]) -> str | None:
    """Dicts with these keys written as `_flat` writes each, with the list's separator (`,` and
    `outer`) between them, or None unless every key is a str and every value a plain scalar: all
    their values in one call of json's C encoder, each after a NUL (no JSON text holds a raw one:
    a string's is \\u0000), split there and joined once with the keys' text."""
    if _c_encoder is None or not _STR_KEYS.issuperset(map(type, keys)):
        return None
    values = [v for d in run for v in d.values()]
    if not _FLAT.issuperset(map(type, values)):
        return None
    encoder = writers.get("\0")
    if encoder is None:
        encoder = writers["\0"] = _c_encoder(None, None, _str, None, ": ", "\0", False, False, False)
    try:
        text = "".join(encoder(values, 0))
    except ValueError:
        return None
    parts = text[1:-1].split("\0")
    heads = [inner + _str(k) + ": " for k in keys]
    later = [outer + "},", outer + "{"]  # the previous member closed, the list's separator, this one opened
    first = ["{" + heads[0]] + ["," + h for h in heads[1:]]
    again = ["".join(later) + heads[0]] + first[1:]
    return "".join(map(str.__add__, first + again * (len(run) - 1), parts)) + outer + "}"


def _encode(value: object, indent: int, add: Callable[[str], None], *, inert: bool = False) -> None:
    """json.dumps(value, indent=indent, ensure_ascii=False, allow_nan=False), byte for byte, in
    pieces, for the values documents are made of (dicts with str keys, lists, tuples, str, int,
    float, bool, None) without the pure-Python encoder's generators (json.dumps has no C path with
    an indent): ~40 % less time on `health -o json` over thousands of pods (issue 17). Anything
    else (enums, non-str keys, NaN, very deep nesting) is written by json.dumps at its place:
    JSON text holds no raw newline, so its lines take the place's indent by a replace. `inert`: see `_made`."""
    step = " " * indent
    keys: dict[str, str] = {}  # a key's JSON text and ": " (the same few keys, thousands of times)
    writers: dict[str, Any] = {}  # json's C encoder, by the item separator of a flat container

    def dumped(o: object, pad: str) -> None:
        add(_made(json.dumps(o, indent=indent, ensure_ascii=False, allow_nan=False).replace("\n", "\n" + pad), inert))

    def enc(o: object, pad: str, depth: int) -> None:
        t = type(o)
        if t is not dict and t is not list and t is not tuple:
            text = _scalar(o)
            if text is None:
                dumped(o, pad)
            else:
                add(_made(text, inert))
            return
        if not o:
            add("{}" if t is dict else "[]")
            return
        if depth > _FAST_DEPTH or (t is dict and any(type(k) is not str for k in cast(dict, o))):
            dumped(o, pad)
            return
        inner = "\n" + pad + step
        # A container's scalars are joined into one piece with it: a finding is one `add`, not
        # one per key and value (issue 17: 6,000 findings were ~100,000 calls).
        opening, closing = ("{", "}") if t is dict else ("[", "]")
        members: Iterable[tuple[str, object, str | None]] = [
            (keys.get(k) or keys.setdefault(k, _key(k, inert)), v, None) for k, v in cast(dict, o).items()
        ] if t is dict else _list_members(cast(list, o), inner + step, inner, writers, depth < _FAST_DEPTH)
        pieces: list[str] = []
        sep = opening + inner
        for key, v, text in members:
            if text is None:
                tv = type(v)
                text = (_str(cast(str, v)) if tv is str else _scalar(v)
                        if tv is not dict and tv is not list and tv is not tuple else
                        _flat(v, inner + step, inner, writers) if depth < _FAST_DEPTH else None)
            if text is not None:
                text = _made(text, inert)
                pieces.append(sep + key + text)
                if len(pieces) >= _JOINED or len(text) > _RUN_TEXT:  # a run of dicts is written as it comes
                    add("".join(pieces))
                    pieces.clear()
            else:
                pieces.append(sep + key)
                add("".join(pieces))
                pieces.clear()
                enc(v, pad + step, depth + 1)
            sep = "," + inner
        pieces.append("\n" + pad + closing)
        add("".join(pieces))

    enc(value, "", 0)


def _made(text: str, inert: bool) -> str:
    """A text made of one value (a key, a scalar, a small container, json.dumps' text), with the
    characters of _JSON_UNSAFE but DEL \\u-escaped when `inert` and it is not all ASCII (a flag of
    the string, no scan): only those texts are scanned, not the whole document (a fleet's is
    ~2.7 MB, a few % of it in texts that are not ASCII; the scan was ~20 ms of `rca
    --all-services -o json`). DEL, the set's one ASCII character, is left for `_inert_del`."""
    return _inert(text) if inert and not text.isascii() else text


def _key(k: str, inert: bool) -> str:
    return _made(_str(k) + ": ", inert)


def inert_json(payload: object, *, indent: int | None = 2) -> str:
    """json.dumps, with every control character that render.escape makes visible \\u-escaped inside strings: JSON
    piped to a terminal, `less` or a review tool is as inert as the table. The document is the
    same value for any JSON reader."""
    if indent is None:
        text = json.dumps(payload, ensure_ascii=False, allow_nan=False)
    else:
        parts: list[str] = []
        _encode(payload, indent, parts.append, inert=True)
        return _inert_del("".join(parts))
    return _inert(text)


def _inert(text: str) -> str:
    """`text` with the characters of _JSON_UNSAFE \\u-escaped. Of them only DEL is ASCII, and an
    ASCII text (a flag of the string, no scan) without one is returned as it is: the regex's scan of
    a 5,000-pod health document was ~4 ms."""
    if text.isascii() and "\x7f" not in text:
        return text
    return re.sub(_JSON_UNSAFE, _escape, text)


def _inert_del(text: str) -> str:
    """`text`, whose other characters of _JSON_UNSAFE are escaped already, with DEL escaped."""
    return text.replace("\x7f", "\\u007f") if "\x7f" in text else text


def write_inert_json(payload: object, out: TextIO, *, indent: int | None = 2) -> None:
    """inert_json(payload) + "\\n" written to `out` as it is encoded, never held whole: a fleet
    document of 10,000 services is ~55 MB of text, and the indented encoder's pieces of it
    several times that. The same characters as inert_json (the escaped characters are single
    characters, so escaping piece by piece escapes the same ones)."""
    if indent is None:
        out.write(inert_json(payload, indent=None) + "\n")
        return
    pending: list[str] = []
    size = 0

    def add(piece: str) -> None:
        nonlocal size
        pending.append(piece)
        size += len(piece)
        if size >= _WRITE_CHUNK:
            out.write(_inert_del("".join(pending)))
            pending.clear()
            size = 0

    _encode(payload, indent, add, inert=True)
    pending.append("\n")
    out.write(_inert_del("".join(pending)))


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"
