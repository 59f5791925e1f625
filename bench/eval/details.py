"""A miss in detail: the top candidates with their scores and evidence, the missing signals and
every signal baseline -> window, so a miss can be read without rerunning anything."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bench.eval.cases import Case, Run


def num(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, (int, float)):
        ax = abs(x)
        if ax == 0:
            return "0"
        if ax >= 100:
            return f"{x:.0f}"
        if ax >= 1:
            return f"{x:.2f}"
        return f"{x:.3g}"
    return str(x)


def _ranked(payload: dict | None) -> list[dict]:
    cands = [c for c in (payload or {}).get("candidates") or [] if isinstance(c, dict)]
    return sorted(cands, key=lambda c: -(c.get("score") or 0.0))


def candidates_line(payload: dict | None, n: int = 2) -> str:
    return ", ".join(f"{c.get('bottleneck')} {num(c.get('score'))}" for c in _ranked(payload)[:n]) or "(none)"


def evidence_lines(payload: dict | None, n: int = 2) -> list[str]:
    """The summaries of the top candidates' evidence (what the classifier said it saw)."""
    out = []
    for c in _ranked(payload)[:n]:
        summ = []
        for ev in c.get("evidence") or []:
            if isinstance(ev, dict):
                summ.append(ev.get("summary") or f"{ev.get('signal')} {num(ev.get('baseline'))}->"
                            f"{num(ev.get('window'))}")
            else:
                summ.append(str(ev))
        if summ:
            out.append(f"{c.get('bottleneck')}: " + "; ".join(summ))
    return out


def signals_lines(payload: dict | None, width: int = 110) -> list[str]:
    sigs = (payload or {}).get("signals") or {}
    parts = []
    for name, v in sigs.items():
        if isinstance(v, dict):
            unit = v.get("unit") or ""
            parts.append(f"{name} {num(v.get('baseline'))}->{num(v.get('window'))}"
                         + (f" {unit}" if unit and unit not in ("ratio",) else ""))
        else:
            parts.append(f"{name} {v}")
    lines, cur = [], ""
    for p in parts:
        if cur and len(cur) + len(p) + 3 > width:
            lines.append(cur)
            cur = ""
        cur = f"{cur} | {p}" if cur else p
    if cur:
        lines.append(cur)
    return lines


def miss_details(title: str, cases: list[Case], run: Run, only: set | None = None, *, top: int = 2,
                 expected_trigger: bool = False) -> None:
    wrong = [c for c in cases if not c.right(run.of(c).verdict)]
    if only is not None:
        wrong = [c for c in wrong if c.service in only]
    print(f"\n{title}: {len(wrong)} misses in detail")
    for c in wrong:
        a = run.of(c)
        p = a.payload or {}
        print(f"\n  MISS {c.service}: label {c.label}" + (f" (or {', '.join(c.acceptable)})" if c.acceptable else "")
              + f" -> verdict {a.verdict}, confidence {num(a.confidence)}, trigger {a.trigger}"
              + (f" (expected {c.trigger})" if expected_trigger and c.trigger else "")
              + (f", exit {a.code}" if run.per_service_exit else ""))
        print(f"    note: {c.note}")
        print(f"    top candidates: {candidates_line(p, top)}")
        for line in evidence_lines(p, top):
            print(f"    evidence {line}")
        if p.get("missing_signals"):
            print(f"    missing_signals: {', '.join(map(str, p['missing_signals']))}")
        for i, line in enumerate(signals_lines(p)):
            print(f"    {'signals' if i == 0 else '       '}: {line}")


def disagreements(cases: list[Case], single: Run, fleet: Run, *, top: int = 2, expected_trigger: bool = False) -> None:
    """The fleet misses where the fleet pass answered otherwise than the per-service run."""
    differ = {c.service for c in cases if fleet.of(c).verdict != single.of(c).verdict}
    if differ:
        miss_details("fleet pass (only where it disagrees with the per-service verdict)", cases, fleet, differ,
                     top=top, expected_trigger=expected_trigger)


def missing_named(run: Run, wanted: Mapping[str, tuple[str, ...]]) -> None:
    """For the honest `unknown`s: does `missing_signals` name what decides?"""
    if not wanted:
        return
    print("\nunknown scenarios: does missing_signals name what decides?")
    for name, want in wanted.items():
        a = run.answers[("library", name)]
        got = set((a.payload or {}).get("missing_signals") or [])
        lacking = [w for w in want if w not in got]
        print(f"  {name}: verdict {a.verdict}; expected among missing {list(want)}; "
              + ("all named" if not lacking else f"not named: {lacking}")
              + f"; reported {sorted(got)}")
