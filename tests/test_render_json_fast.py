"""`inert_json`'s indented writer (issue 17: no generators per value) writes exactly what
json.dumps(indent=2, ensure_ascii=False, allow_nan=False) writes, and whatever it does not know
how to write goes to json.dumps, errors included."""

from __future__ import annotations

import enum
import io
import json
import math
from collections import OrderedDict

import pytest

from triage.render.json import _encode, inert_json, write_inert_json


class Colour(str, enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


def _indented(value: object, indent: int) -> str:
    parts: list[str] = []
    _encode(value, indent, parts.append)
    return "".join(parts)


DOCUMENTS = [
    {},
    [],
    {"a": {}, "b": [], "c": [[]], "d": [{}], "e": ({"x": 1},)},
    {"findings": [{"kind": "pod", "name": "web-0", "status": "critical", "restarts": 9, "ratio": 0.125,
                   "ok": False, "seen": True, "reason": None, "tags": ("a", "b"), "nested": {"deep": [1, [2, [3]]]}}]},
    {"quotes": 'say "hi"\\', "control": "\x00\x1f\t\n", "unicode": "café ☕ \u2028 \U0001f600", "": "empty key"},
    [1, -0.0, 1e300, 2**70, -5, 3.141592653589793, 1e-7],
    # scalars joined with their container around containers and empty ones, in dicts and lists
    {"a": 1, "b": {"c": "x", "d": [], "e": None}, "f": "y", "g": [1, {"h": True}, "z", [], {}, ("t",)], "i": {}},
    [None, {"k": [False, 0.5]}, "s", [[], [1]], 7, {}],
    "just a string",
    42,
    None,
    # small containers of scalars, written by json's C encoder at their place (issue 17)
    {"findings": [{"kind": "pod", "reason": None, "n": 3, "ok": True, "r": 0.5, "s": "a\u2028\"b"}, {"x": 1}, {},
                  ("t", 1, None), [], [2**70, -0.0, 1e300], {"e": ["x"]}], "tail": {"k": "v"}},
    [[[{"deep": "flat"}]]],
    {"wide": {f"k{i}": i for i in range(600)}, "long": list(range(600)), "edge": list(range(512))},
    # runs of dicts with the same keys, written at once (a health document's findings), across the
    # run's bound, broken by a member that is not all plain scalars, another key order, an empty one
    [{"kind": "pod", "name": f"web-{i}", "n": i, "reason": None, "ok": i % 2 == 0, 'q"': "\x00\u2028"}
     for i in range(1300)],
    [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"a": 3, "b": ["z"]}, {"a": 4, "b": "w"}, {"b": "v", "a": 5},
     {"a": 6, "b": "u"}, {}, {}, {"a": 7, "b": None}, {"a": 8, "b": None}, ("t",), {"a": 9, "b": -0.0}],
]


@pytest.mark.parametrize("value", DOCUMENTS)
def test_same_bytes_as_json_dumps(value: object) -> None:
    assert _indented(value, 2) == json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)
    assert _indented(value, 4) == json.dumps(value, indent=4, ensure_ascii=False, allow_nan=False)
    assert _indented(value, 0) == json.dumps(value, indent=0, ensure_ascii=False, allow_nan=False)


@pytest.mark.parametrize("value", [{1: "int key"}, {"c": Colour.RED}, [Level.HIGH], {"x": object()},
                                   [math.nan], {"x": math.inf}, [{"a": 1, 2: "b"}], [{"n": math.nan}], [[-math.inf]],
                                   [OrderedDict(a=1)], [{"s": Colour.RED}], [("t", Level.HIGH)],
                                   [{"a": 1}, {"a": math.nan}], [{"a": 1}, {"a": Colour.RED}, {"a": 2}],
                                   [{1: "a"}, {1: "b"}],
                                   {"before": "a", "c": Colour.RED, "after": [1, Level.HIGH, "b"], "end": 2}])
def test_unusual_values_go_to_json_dumps_at_their_place(value: object) -> None:
    nested = {"services": [{"name": "a", "value": value}]}
    for doc in (value, nested):
        try:
            expected = json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            with pytest.raises(type(exc)):
                _indented(doc, 2)
        else:
            assert _indented(doc, 2) == expected


def test_written_in_pieces_is_the_same_text() -> None:
    big = {"services": [{"name": f"svc-{i}", "status": Colour.RED, "rank": Level.HIGH, "values": [i / 7] * 40,
                         "note": "\u202e" if i % 97 == 0 else "ok"} for i in range(2000)]}
    out = io.StringIO()
    write_inert_json(big, out)
    assert out.getvalue() == inert_json(big) + "\n"
    assert len(out.getvalue()) > 4 * (1 << 16)  # several writes


def test_inert_json_falls_back_with_the_same_text_and_errors() -> None:
    value = {1: Colour.RED, "lvl": Level.HIGH, "s": "\x85"}
    assert inert_json(value) == json.dumps(value, indent=2, ensure_ascii=False).replace("\x85", "\\u0085")
    with pytest.raises(ValueError):
        inert_json({"x": math.nan})
    with pytest.raises(TypeError):
        inert_json({"x": object()})
    deep: list = []
    for _ in range(300):
        deep = [deep]
    assert inert_json(deep) == json.dumps(deep, indent=2)


def test_compact_and_inert() -> None:
    value = {"a": [1, "\u202e"]}
    assert inert_json({"a": 1}, indent=0) == '{\n"a": 1\n}'  # indent 0 is newlines, not compact
    assert inert_json(value, indent=None) == '{"a": [1, "\\u202e"]}'
    assert inert_json(value) == '{\n  "a": [\n    1,\n    "\\u202e"\n  ]\n}'


def test_a_long_list_of_scalars_is_written_as_it_is_encoded() -> None:
    """Scalars are joined with their container, but a long list still reaches the stream in pieces."""
    writes: list[int] = []

    class Counting(io.StringIO):
        def write(self, text: str) -> int:
            writes.append(len(text))
            return super().write(text)

    value = {"values": list(range(200_000)), "names": {f"k{i}": "v" for i in range(50_000)}}
    out = Counting()
    write_inert_json(value, out)
    assert out.getvalue() == json.dumps(value, indent=2, ensure_ascii=False) + "\n"
    assert len(writes) > 10 and max(writes) < 4 * (1 << 16)


def _regex_escaped(text: str) -> str:
    import re

    unsafe = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
    return unsafe.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


@pytest.mark.parametrize("value", [
    {"plain": "ascii only", "n": [1, 2, 3]},
    {"del": "a\x7fb", "c1": "x\x85y", "bidi": "\u202eevil", "sep": "\u2028", "ok": "café"},
    ["\x7f"] + ["filler"] * 20000 + ["\u2066", "end"],     # unsafe characters in more than one write
    ["filler"] * 20000 + ["é"],                            # ASCII writes, then one that is not
])
def test_the_ascii_fast_path_escapes_exactly_what_the_regex_escapes(value):
    want = _regex_escaped(json.dumps(value, indent=2, ensure_ascii=False)) + "\n"
    out = io.StringIO()
    write_inert_json(value, out)
    assert out.getvalue() == want
    assert inert_json(value) + "\n" == want


def test_a_long_run_of_findings_is_written_as_it_is_encoded() -> None:
    """Dicts with the same keys are encoded a run at a time, and each run reaches the stream as it comes."""
    writes: list[int] = []

    class Counting(io.StringIO):
        def write(self, text: str) -> int:
            writes.append(len(text))
            return super().write(text)

    findings = [{"kind": "pod", "name": f"web-{i}", "namespace": "shop", "check": "pod.status", "status": "ok",
                 "reason": None, "detail": "Running, 1/1 ready, 0 restarts"} for i in range(20_000)]
    value = {"schema": "triage.health/v1", "findings": findings, "skipped": []}
    out = Counting()
    write_inert_json(value, out)
    assert out.getvalue() == json.dumps(value, indent=2, ensure_ascii=False) + "\n"
    assert len(writes) > 40 and max(writes) < 2 * (1 << 16)


_ALPHABET = ["a", "b", " ", '"', "\\", "\n", "\x00", "\x7f", "\x85", "\x9f", "é", "—", "×", "≈", "\u061c", "\u200e",
             "\u2028", "\u2029", "\u202a", "\u202e", "\u2066", "\u2069", "\u2070", "\U0001f600"]


def _random_text(rng) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(0, 6)))


def _random_value(rng, depth: int = 0) -> object:
    kind = rng.random()
    if depth > 3 or kind < 0.45:
        return rng.choice([_random_text(rng), _random_text(rng), 1, -0.5, None, True, Colour.RED, Level.HIGH])
    if kind < 0.7:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    if kind < 0.75:    # dicts with the same keys: a run, written by one call of json's C encoder
        keys = [_random_text(rng) for _ in range(3)]
        return [{k: _random_text(rng) for k in keys} for _ in range(rng.randrange(2, 6))]
    if kind < 0.78:    # a key that is not a str: json.dumps writes the dict at its place
        return {1: _random_text(rng), "k": _random_text(rng)}
    return {_random_text(rng): _random_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))}


@pytest.mark.parametrize("seed", range(60))
def test_escaped_text_by_text_is_what_the_regex_escapes_in_the_whole(seed):
    # The indented writer escapes each text it makes that is not all ASCII (and DEL in its
    # writes): the same characters as the regex over the whole document.
    import random

    value = {"doc": [_random_value(random.Random(seed)) for _ in range(40)]}
    want = _regex_escaped(json.dumps(value, indent=2, ensure_ascii=False)) + "\n"
    out = io.StringIO()
    write_inert_json(value, out)
    assert out.getvalue() == want
    assert inert_json(value) + "\n" == want
