"""Small wording helpers shared by the checks, so every finding reads the same way."""

from __future__ import annotations

from triage.report import strip_control
from triage.timeutil import format_duration

MAX_DETAIL = 400


def ago(moment: float | None, now: float, *, suffix: str = " ago") -> str:
    """`4m ago`; empty when the backend gave no time; `just now` under a second."""
    if moment is None:
        return ""
    delta = now - moment
    if delta < 1:
        return "just now" if suffix else "0s"
    return f"{format_duration(delta)}{suffix}"


def clip(text: str, limit: int = MAX_DETAIL) -> str:
    """Text from outside, one line, control characters gone, bounded."""
    flat = " ".join(strip_control(str(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def size(num: float | None) -> str:
    if num is None:
        return "?"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(num) < 1024 or unit == "TiB":
            return f"{num:.0f} {unit}" if unit == "B" else f"{num:.1f} {unit}"
        num /= 1024
    return f"{num:.1f} TiB"
