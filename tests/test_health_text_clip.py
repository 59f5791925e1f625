"""`triage.health.text.clip`'s shortcut (issue 17: a detail that is already one line of printable,
single-spaced ASCII is returned as it is) gives what folding and escaping every text gives."""

from __future__ import annotations

import pytest

from triage.health.text import MAX_DETAIL, clip
from triage.render.escape import strip_control


def _folded(text: str, limit: int = MAX_DETAIL) -> str:
    flat = " ".join(strip_control(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


TEXTS = ["", " ", "  ", "a", " a", "a ", "a  b", "a b", "Running, 1/1 ready, 0 restarts", "x" * MAX_DETAIL,
         "x" * (MAX_DETAIL + 1), "y " * 250, "tab\there", "new\nline", "cr\r", "\x0b\x0c", "\x1c\x1d\x1e\x1f",
         "\x1b[31mred", "del\x7f", "café", "nbsp\xa0x", "\u2028", "\u3000wide", "\u202eevil"]


@pytest.mark.parametrize("text", TEXTS)
def test_clip_is_the_folded_escaped_text(text: str) -> None:
    assert clip(text) == _folded(text)
    assert clip(text, 5) == _folded(text, 5)


def test_every_character_alone_and_between_words() -> None:
    for code in range(0x3000):
        ch = chr(code)
        for text in (ch, f"a{ch}b", f"{ch} x", f"x {ch}", f"a {ch} b"):
            assert clip(text) == _folded(text), repr(text)


def test_not_a_str_is_its_str() -> None:
    assert clip(42) == "42" and clip(None) == "None"  # type: ignore[arg-type]
