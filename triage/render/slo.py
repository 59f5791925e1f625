"""A few plain lines on a service's SLO for `detect`'s table and markdown: burn rate per window
pair against the workbook's threshold, and the error budget left."""

from __future__ import annotations

from triage.models import ServiceDetection
from triage.models.slo import BurnAlert, SloReport
from triage.render.escape import md


def _percent(value: float) -> str:
    return f"{value * 100:.{max(0, min(3, len(f'{value * 100:g}'.partition('.')[2])))}f} %"


def _share(value: float) -> str:
    return f"{value * 100:.0f} %" if abs(value) >= 0.1 else f"{value * 100:.2g} %"


def _burn(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def _pair(a: BurnAlert) -> str:
    verdict = f"{a.severity.upper()}" if a.firing else "ok"
    return f"{a.long}/{a.short} {_burn(a.burn_long)}/{_burn(a.burn_short)} (>{a.threshold:g}: {verdict})"


def headline(slo: SloReport) -> str:
    sli = f"latency ≤ {slo.latency_threshold:g}s" if slo.sli == "latency" and slo.latency_threshold else slo.sli
    return f"SLO {_percent(slo.objective)} ({sli}, {slo.period}): {slo.status.value}"


def budget(slo: SloReport) -> str:
    parts = []
    if slo.budget_remaining is not None:
        left = slo.budget_remaining
        parts.append(f"budget left over {slo.period}: {_share(left)}" if left >= 0 else
                     f"budget left over {slo.period}: none ({_share(1 - left)} spent)")
    if slo.budget_spent_in_window is not None:
        parts.append(f"this window spent {_share(slo.budget_spent_in_window)} of it")
    sources = sorted({w.source for w in slo.windows.values()})
    if sources:
        parts.append("from " + ", ".join(sources))
    return "SLO " + ("; ".join(parts) if parts else "budget: n/a")


def slo_lines(det: ServiceDetection) -> list[str]:
    """Plain text; empty when the service has no SLO configured."""
    slo = det.slo
    if slo is None:
        return []
    if slo.missing:
        return [f"{headline(slo)}; {slo.missing}"]
    return [headline(slo), "SLO burn rate long/short: " + "  ".join(_pair(a) for a in slo.alerts), budget(slo)]


def slo_markdown(det: ServiceDetection) -> list[str]:
    lines = slo_lines(det)
    if not lines:
        return []
    return [f"**{md(lines[0])}**", "", *(f"- {md(line)}" for line in lines[1:]), ""]
