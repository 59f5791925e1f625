"""PromQL text built safely: label values are escaped, never spliced in raw."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from triage.errors import UsageError

_PLACEHOLDER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_REGEX_META = re.compile(r"([\\.^$|?*+()\[\]{}\-])")


def escape_label_value(value: str) -> str:
    """The inside of a double-quoted PromQL string."""
    return (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )


def regex_literal(value: str) -> str:
    """A RE2 pattern matching exactly `value`."""
    return _REGEX_META.sub(r"\\\1", value)


def alternation(values: Iterable[str]) -> str:
    """A regex matching any of `values` exactly, escaped for a double-quoted string."""
    unique = sorted(set(values))
    if not unique:
        return escape_label_value("$^")
    return escape_label_value("|".join(regex_literal(v) for v in unique))


def render(template: str, values: Mapping[str, str]) -> str:
    """Substitute `$name` placeholders; an unknown placeholder is an error, not an empty string."""
    unknown = sorted({m.group(1) for m in _PLACEHOLDER.finditer(template)} - set(values))
    if unknown:
        known = ", ".join(f"${k}" for k in sorted(values))
        raise UsageError(f"unknown placeholder ${unknown[0]} (known: {known})")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
