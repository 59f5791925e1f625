"""`triage rca --output markdown`: one service's verdict with its evidence, or the fleet's ranking."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from triage.analysis.rca import RcaResult
from triage.models import iso
from triage.render.escape import md, md_code
from triage.render.units import fmt


def number(value: Any) -> str:
    """An evidence value without its unit (the table says which signal it is): 4 significant digits."""
    return "" if value is None else f"{value:.4g}"


def _values(result: RcaResult, ev: Mapping[str, Any], seen: set[str]) -> str:
    """An evidence row's baseline and sustained level in the signal's unit (25.0 %, 5.31 s), as its
    sentence says them; a signal's second row in a candidate says "as above" rather than repeat them."""
    name = ev["signal"]
    if name in seen:
        return "as above | as above"
    level = result.verdict.levels.get(name) if name else None
    if name:
        seen.add(name)
    if level is None:
        return f"{number(ev['baseline'])} | {number(ev['window'])}"
    return " | ".join("" if ev[k] is None else md(fmt(ev[k], level.unit)) for k in ("baseline", "window"))


def missing_lines(result: RcaResult) -> tuple[list[str], list[str]]:
    """The contract's missing signals (JSON's `missing_signals`, the table's "missing" line) and,
    apart, the optional signals that had no data: one vocabulary in every output."""
    missing = result.missing_signals()
    return missing, sorted(n for n in result.verdict.missing if n not in missing)


def rca_markdown(result: RcaResult) -> str:
    v = result.verdict
    lines = [f"# Root cause: {md(result.service.name)}", "",
             f"**{v.bottleneck}** (confidence {v.confidence:.2f}, trigger {v.trigger}, "
             f"severity {result.severity or 'none'}) — "
             f"window {iso(result.window.start)} → {iso(result.window.end)}", "",
             md(v.sentence), ""]
    for cand in v.candidates:
        lines += [f"## {cand.bottleneck} ({cand.score:.2f})", "", "| signal | baseline | sustained | evidence |",
                  "|---|---|---|---|"]
        seen: set[str] = set()
        for ev in cand.evidence:
            lines.append(f"| {md(ev['signal'] or '')} | {_values(result, ev, seen)} | {md(ev['summary'])} |")
        lines.append("")
        queries = sorted({ev["query"] for ev in cand.evidence if ev["query"]})
        for q in queries:
            lines.append(f"- {md_code(q)}")
        lines.append("")
    if result.capacity.get("lines"):
        lines += ["## Capacity", ""] + [f"- {md(line)}" for line in result.capacity["lines"]] + [""]
    for inv in result.invariants:
        state = "VIOLATED" if inv.violated else "holds"
        lines.append(f"- invariant {md(inv.name)}: {state} (observed {number(inv.minimum)}..{number(inv.maximum)})")
    if result.invariants:
        lines.append("")
    missing, optional = missing_lines(result)
    if missing:
        lines += ["Missing signals: " + ", ".join(md(n) for n in missing), ""]
    if optional:
        lines += ["Optional signals without data: " + ", ".join(md(n) for n in optional), ""]
    return "\n".join(lines).rstrip() + "\n"


# The reason most services of a fleet share: said once under the ranking, not on every row.
OWN_SIGNALS = "its own signals left their normal range"


def shown_why(row: Mapping[str, Any]) -> str:
    """A ranking row's reason, blank where it is the one most rows share (OWN_SIGNALS)."""
    why = row.get("why") or ""
    return "" if why == OWN_SIGNALS else why


def fleet_markdown(ranking: Sequence[Mapping[str, Any]], results: Sequence[RcaResult]) -> str:
    by_name = {r.service.name: r for r in results}
    lines = ["| rank | service | bottleneck | ranking score | severity | why ranked here | summary |",
             "|---|---|---|---|---|---|---|"]
    for i, row in enumerate(ranking, 1):
        lines.append(f"| {i} | {md(row['service'])} | {row['bottleneck']} | {row['score']:.2f} | "
                     f"{row['severity'] or ''} | {md(shown_why(row))} | "
                     f"{md(by_name[row['service']].verdict.sentence)} |")
    if any(row.get("why") == OWN_SIGNALS for row in ranking):
        lines += ["", f"Where no reason is given: {OWN_SIGNALS}. The ranking score orders the services; "
                      "it is not a verdict's confidence."]
    return "\n".join(lines) + "\n"
