"""Numbers as an on-call engineer reads them."""

from __future__ import annotations


def fmt(value: float | None, unit: str) -> str:
    """A value as an on-call engineer reads it: 3.5 s, 120 ms, 6.1 %, 325 req/s."""
    if value is None:
        return "n/a"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if abs(value) < 1 else f"{value:.2f} s"
    if unit == "ratio":
        return f"{value * 100:.1f} %"
    if unit == "req/s":
        return f"{value:.1f} req/s" if value < 100 else f"{value:.0f} req/s"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:.0f} {unit}"
    return f"{value:.2f} {unit}"
