"""Numbers as an on-call engineer reads them."""

from __future__ import annotations


def _count(value: float, unit: str) -> str:
    """A count with its noun: "1 pod", "0 restarts", "149 requests" (a word unit in the plural)."""
    text = f"{value:.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:.2f}"
    if text == "1" and unit.isalpha() and unit.endswith("s") and len(unit) > 2:
        unit = unit[:-1]
    return f"{text} {unit}"


def change_text(change: float | None, baseline: float | None, window: float | None) -> str:
    """sustained ÷ baseline to the precision it is read at (×3.11, ×14.4, ×149); "from 0" where the
    baseline was zero and the window is not (the ratio would be infinite, a blank reads as missing)."""
    if change is None:
        return "from 0" if baseline == 0 and window else ""
    return f"×{change:.2f}" if change < 10 else f"×{change:.1f}" if change < 100 else f"×{change:.0f}"


def fmt(value: float | None, unit: str) -> str:
    """A value as an on-call engineer reads it: 3.5 s, 120 ms, 2.13 ms, 6.1 %, 325 req/s, 1 pod."""
    if value is None:
        return "n/a"
    if unit == "s":
        if value != 0 and abs(value) < 0.01:  # 2.13 ms of DB time is not "2 ms", 0.5 ms not "0 ms"
            return f"{value * 1000:.3g} ms"
        return f"{value * 1000:.0f} ms" if abs(value) < 1 else f"{value:.2f} s"
    if unit == "ratio":
        return f"{value * 100:.1f} %"
    if unit == "req/s":
        return f"{value:.1f} req/s" if value < 100 else f"{value:.0f} req/s"
    return _count(value, unit)
