"""Mermaid xychart blocks that read: a palette with contrast on white, one x label per sample
(clock time to the second, so no two samples share a position), the baseline before the window,
the thresholds as lines and the units a person reads (a ratio in %)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from triage.postmortem.series import Points, clock
from triage.postmortem.timeline import Facts
from triage.render.escape import strip_control
from triage.render.units import fmt

# The signal, then the critical and the warning threshold: blue, red, amber (all legible on white).
PALETTE = ("#1f77b4", "#d62728", "#ff7f0e")
INIT = ('%%{init: {"theme": "base", "xyChart": {"width": 900, "height": 400}, '
        '"themeVariables": {"xyChart": {"plotColorPalette": "' + ", ".join(PALETTE)
        + '", "backgroundColor": "#ffffff"}}}}%%')
CHARTS = (("latency_p95", "p95 latency"), ("rps", "requests per second"), ("error_ratio", "error ratio"))


def _scale(unit: str, values: Sequence[float]) -> tuple[float, str]:
    if unit == "ratio":
        return 100.0, "percent"
    if unit == "s":
        return (1000.0, "milliseconds") if values and max(values) < 1 else (1.0, "seconds")
    return 1.0, unit or "value"


def _safe(text: str) -> str:
    return "".join(ch for ch in strip_control(text) if ch not in '"`\\{}[]<>;%')


def x_axis(points: Points, w0: float | None) -> str:
    """Minutes from the window's start when the samples are evenly spaced (mermaid spreads a line's
    points evenly over a numeric axis: the baseline is left of 0, the window right of it); one
    clock label per sample otherwise (unique, so no two samples share a position)."""
    gaps = [b - a for (a, _), (b, _) in zip(points, points[1:])]
    if w0 is not None and gaps and max(gaps) - min(gaps) < 1e-6 * max(1.0, max(gaps)):
        lo, hi = (points[0][0] - w0) / 60, (points[-1][0] - w0) / 60
        return f'    x-axis "minutes from the window start, {clock(w0)} UTC" {lo:.4g} --> {hi:.4g}'
    labels = ", ".join(f'"{clock(t)}"' for t, _ in points)
    return f'    x-axis "time (UTC)" [{labels}]'


def chart(title: str, unit: str, points: Points, thresholds: Mapping[str, Any],
          w0: float | None = None) -> dict[str, str] | None:
    """One xychart: the signal, then each threshold as a flat line, and a legend in words."""
    if len(points) < 2:
        return None
    bounds = [(k, float(v)) for k, v in sorted(thresholds.items()) if isinstance(v, (int, float))]
    scale, axis = _scale(unit, [v for _, v in points] + [v for _, v in bounds])
    values = [v * scale for _, v in points]
    highest = max(values + [v * scale for _, v in bounds])
    # A share of something full at 100 % is drawn to 100 %, not past it.
    top = 100.0 if unit == "ratio" and 50 < highest <= 100 else (highest * 1.1 or 1.0)
    lines = [f"    line [{', '.join(f'{v:.4g}' for v in values)}]"]
    lines += [f"    line [{', '.join(f'{v * scale:.4g}' for _ in points)}]" for _, v in bounds]
    block = "\n".join(["```mermaid", INIT, "xychart-beta", f'    title "{_safe(title)}"',
                       x_axis(points, w0), f'    y-axis "{_safe(axis)}" 0 --> {top:.4g}',
                       *lines, "```"])
    legend = ["blue: the signal"] + [f"{'red' if k == 'critical' else 'amber'}: the {k} threshold, "
                                     f"{fmt(v, unit)}" for k, v in bounds]
    return {"block": block, "legend": "; ".join(legend)}


def charts(f: Facts, marks: str) -> list[dict[str, str]]:
    """The golden signals, and the bottleneck's own signal when it is another one."""
    wanted = list(CHARTS)
    lead = next((ev.get("signal") for cand in (f.rca.get("candidates") or [])[:1]
                 for ev in cand.get("evidence") or [] if ev.get("signal")), None)
    if lead and lead not in dict(CHARTS):
        wanted.append((lead, f"{lead} (the bottleneck's signal)"))
    out = []
    for name, title in wanted:
        sig = f.signals.get(name) or {}
        thresholds = {k: sig.get(k) for k in ("warning", "critical")}
        one = chart(f"{f.service} {title}", f.unit(name) or _series_unit(f, name), f.points(name), thresholds, f.w0)
        if one:
            out.append({"title": title, "block": one["block"], "legend": f"{one['legend']}. {marks}"})
    return out


def _series_unit(f: Facts, name: str) -> str:
    raw = ((f.record.get("series") or {}).get(f.service) or {}).get(name) or {}
    return str(raw.get("unit") or "") if isinstance(raw, dict) else ""
