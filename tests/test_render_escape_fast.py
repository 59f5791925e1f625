"""`escape_control` returns printable ASCII as it is (no regex pass) and escapes everything else as
the regex does: every one of the first 0x3000 code points, alone and inside ASCII text."""

from __future__ import annotations

import re

import pytest

from triage.render.escape import escape_control

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _regex(text: str) -> str:
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                       else f"\\u{ord(m.group()):04x}", text)


@pytest.mark.parametrize("wrap", ["{}", "pod web-0 {} ready", "{}{}"])
def test_each_character_is_escaped_as_the_regex_escapes_it(wrap):
    for code in range(0x3000):
        text = wrap.replace("{}", chr(code))
        assert escape_control(text) == _regex(text), hex(code)


def test_printable_ascii_comes_back_as_it_is_and_non_strings_as_their_str():
    text = "".join(chr(c) for c in range(0x20, 0x7f))
    assert escape_control(text) is text
    assert escape_control(42) == "42"
    assert escape_control(None) == "None"
