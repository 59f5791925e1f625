"""Escaping of values from outside (label values, log lines, names), for every output format.

A terminal, an editor, a markdown viewer and a reviewer's eye each act on different characters;
what any of them would act on is made visible and inert here, once."""

from __future__ import annotations

import re

# Inline values only (newlines are folded first), so list and heading markers need no escape.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#!|<>~$])")
# What must never reach a terminal, an editor or a reviewer's eye raw: C0 (tab and newline aside:
# the callers fold them), DEL, C1 (U+0080-U+009F: 8-bit CSI, OSC, NEL ...), the bidi controls
# (overrides U+202A-U+202E, isolates U+2066-U+2069, marks U+200E/U+200F/U+061C: "Trojan Source")
# and the Unicode line/paragraph separators.
_UNSAFE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
# Compiled on first use (re's own cache): printable ASCII, most of what a run escapes, never needs it.
_CONTROL = f"[{_UNSAFE}]"


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_control(text: object) -> str:
    """Control characters from outside made visible and inert: ESC becomes the four characters
    `\\x1b`, U+202E the six `\\u202e`; everything else (tab and newline included) unchanged.
    Idempotent: what it writes holds no control character."""
    text = str(text)
    if text.isascii() and text.isprintable():
        return text  # none of _UNSAFE is printable ASCII: no regex pass (thousands of names a health run)
    return re.sub(_CONTROL, _visible, text)


# The name every renderer imports; it escapes rather than deletes since issue 13 (the reader
# sees that a label carried an escape sequence, and nothing of it acts).
strip_control = escape_control


def md(text: object) -> str:
    """Inert markdown: control characters made visible (escape_control), every markdown/HTML special escaped."""
    return _MD_SPECIAL.sub(r"\\\1", strip_control(str(text)).replace("\n", " "))


def md_code(text: object) -> str:
    """Inline code that cannot be broken out of: the fence is longer than any backtick run inside."""
    clean = strip_control(str(text)).replace("\n", " ")
    longest = max((len(m) for m in re.findall(r"`+", clean)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if clean.startswith("`") or clean.endswith("`") else ""
    return f"{fence}{pad}{clean}{pad}{fence}"
