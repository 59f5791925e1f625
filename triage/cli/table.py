"""`--output table`: the terminal renderings (Rich), one function per document.

Every value from outside goes through `clean` (render.escape): a label, a log line or a user's
playbook is shown, never acted on by the terminal.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from triage.analysis.rca import RcaResult
from triage.cli import console
from triage.health.text import ok_summary, where
from triage.models import DetectReport, HealthReport, Status, iso
from triage.render.escape import strip_control as clean
from triage.render.markdown.catalog import QUERIES_LEGEND, action_kind, covers, families, threshold
from triage.render.markdown.detect import DETECT_LEGEND
from triage.render.markdown.rca import OWN_SIGNALS, missing_lines, number, shown_why
from triage.render.slo import slo_lines
from triage.render.units import change_text, fmt

STYLE = {Status.OK: "green", Status.WARNING: "yellow", Status.CRITICAL: "bold red", Status.UNKNOWN: "magenta"}


def _grid() -> Table:
    return Table(show_header=True, header_style="bold", box=None, pad_edge=False)


# A private-use character one cell wide that is no whitespace to the wrapper (a no-break space is).
_GLUE = "\ue000"
# Spaces a line is never broken at on a terminal: a number and its unit ("25.0 %"), a label and
# its value ("severity P0"). Wrapped as if they were one word; printed with the ordinary space.
_KEEP = re.compile(r"(?<=\d) (?=%|ms\b|s\b|req/s|×)|"
                   + "|".join(rf"(?<=\b{w}) (?=\S)" for w in ("confidence", "trigger", "severity", "priority")))


def _hang(out: Any, prefix: str, body: str | Text, style: str = "") -> None:
    """A labelled line whose continuation, on a terminal narrower than it, starts under its text
    rather than at column 0 (an "evidence" line wrapped at 80 columns must still read as one), and
    is never broken between a number and its unit. Piped output is never wrapped (console.out):
    there it is the one plain line."""
    text = body.copy() if isinstance(body, Text) else Text(body)
    if style:
        text.stylize(style)
    head = Text(prefix, style=style)
    width = out.width - len(prefix)
    if not out.is_terminal or width < 20:
        out.print(head + text, soft_wrap=True)
        return
    text.plain = _KEEP.sub(_GLUE, text.plain)  # same length: the styles stay where they were
    for k, line in enumerate(text.wrap(out, width, no_wrap=False)):
        line.plain = line.plain.replace(_GLUE, " ").rstrip()
        out.print((head if k == 0 else Text(" " * len(prefix))) + line, soft_wrap=True)


DETECT_COLUMNS = ("signal", "baseline", "sustained", "now", "change", "status")
# What each number is, so a fault minutes old (sustained still at baseline, now far above it) is
# not read as "ok": the status weighs both.


def detect_table(report: DetectReport) -> None:
    out = console.out()
    _hang(out, "", f"Window {iso(report.window.start)} → {iso(report.window.end)}  "
          f"(baseline {iso(report.baseline.start)} → {iso(report.baseline.end)})", style="dim")
    for det in report.services:
        head = Text()
        head.append(clean(det.service), style="bold")
        head.append(f"  {clean(det.namespace)}  tier {det.tier}  ")
        head.append(det.status.value.upper(), style=STYLE[det.status])
        if det.severity:
            head.append(f"  {det.severity}", style=STYLE[det.status])
        out.print()
        out.print(head)
        table = _grid()
        for col in DETECT_COLUMNS:
            table.add_column(col, justify="left" if col in ("signal", "status") else "right")
        for v in det.signals:
            if v.query is None:
                table.add_row(v.name, "", "", "", "", Text("missing", style="dim"))
                continue
            table.add_row(v.name, fmt(v.baseline, v.unit), fmt(v.window, v.unit),
                          fmt(v.now, v.unit) if v.now is not None else "",
                          change_text(v.change, v.baseline, v.window),
                          Text(v.status.value, style=STYLE[v.status]))
        out.print(table)
        _hang(out, "", DETECT_LEGEND, style="dim")
        _hang(out, "affected: ", clean(det.affected))
        for line in slo_lines(det):
            _hang(out, "", clean(line), style=STYLE[det.slo.status] if det.slo else "")
        for a in det.alerts:
            since = f" since {iso(a.starts_at)}" if a.starts_at else ""
            _hang(out, "alert: ", f"{clean(a.name)} ({clean(a.severity or 'no severity')}, "
                  f"{clean(a.source)}){since}", style="yellow")
        for name, reason in sorted(det.missing_signals.items()):
            _hang(out, "missing: ", f"{name}: {clean(reason)}", style="dim")
    for source, reason in report.skipped:
        console.err().print(Text(f"skipped {clean(source)}: {clean(reason)}", style="dim"))


def health_table(report: HealthReport, status: Status) -> None:
    out = console.out()
    for level in (Status.CRITICAL, Status.WARNING, Status.UNKNOWN):
        group = [f for f in report.findings if f.status is level]
        if not group:
            continue
        out.print(Text(f"{level.value.upper()} ({len(group)})", style=STYLE[level]))
        table = _grid()
        # A name is copied (a URL, a pod): whole on its line up to 40 columns; the detail wraps instead.
        whole = ["kind", "reason"] + (["name"] if max(len(clean(where(f))) for f in group) <= 40 else [])
        for col in ("kind", "name", "reason", "detail"):
            table.add_column(col, overflow="fold", no_wrap=col in whole)
        for f in group:
            detail = Text(clean(f.detail))
            for line in f.evidence:
                if line not in f.detail:
                    detail.append("\n  " + clean(line), style="dim")
            table.add_row(Text(f.kind), Text(clean(where(f))), Text(f.reason or "", style=STYLE[level]), detail)
        out.print(table)
        out.print()
    summary = ok_summary(report.findings)
    if summary:
        out.print(Text(f"OK: {summary}", style="green"))
    for skip in report.skipped:
        out.print(Text(f"skipped {clean(skip.source)}: {clean(skip.reason)}", style="dim"))
    if not report.findings and not report.skipped:
        out.print(Text("nothing to check", style="dim"))
    out.print(Text(f"status: {status.value.upper()}", style=STYLE[status]))


def rca_table(result: RcaResult) -> None:
    out = console.out()
    v = result.verdict
    style = {"none": "green", "unknown": "magenta"}.get(v.bottleneck, "bold red")
    head = Text()
    head.append(f"{clean(result.service.name)}: ", style="bold")
    head.append(v.bottleneck, style=style)
    head.append(f"  confidence {v.confidence:.2f}  trigger {v.trigger}  severity {result.severity or 'none'}")
    _hang(out, "", head)
    _hang(out, "", clean(v.sentence))
    for cand in v.candidates[:4]:
        out.print(Text(f"\n{cand.bottleneck}  {cand.score:.2f}", style="bold"))
        for ev in cand.evidence:
            sig = f"[{ev['signal']}] " if ev["signal"] else ""
            _hang(out, "  - ", f"{sig}{clean(ev['summary'])}")
    if result.capacity.get("lines"):
        out.print(Text("\ncapacity", style="bold"))
    for line in result.capacity.get("lines", []):
        _hang(out, "  - ", clean(line), style="cyan")
    for inv in result.invariants:
        out.print(Text(f"invariant {clean(inv.name)}: {'VIOLATED' if inv.violated else 'holds'} "
                       f"(observed {number(inv.minimum)}..{number(inv.maximum)})",
                       style="bold red" if inv.violated else "green"))
    missing, extras = missing_lines(result)
    if missing:
        _hang(out, "missing: ", ", ".join(missing), style="dim")
    if extras:
        _hang(out, "optional signals without data: ", ", ".join(extras), style="dim")


def fleet_lines(ranking: Sequence[Mapping[str, Any]]) -> None:
    """The fleet as plain lines, one a service: they are read in a grep or a CI log as often as on a TTY."""
    sys.stdout.write("rank. service: bottleneck, ranking score (not the verdict's confidence), severity — why\n")
    own = 0
    for i, row in enumerate(ranking, 1):
        own += row.get("why") == OWN_SIGNALS
        why = f" — {clean(shown_why(row))}" if shown_why(row) else ""
        sys.stdout.write(f"{i:>3}. {clean(row['service'])}: {row['bottleneck']}, ranking score "
                         f"{row['score']:.2f}{', ' + row['severity'] if row['severity'] else ''}{why}\n")
    if own:
        sys.stdout.write(f"(no reason given: {OWN_SIGNALS})\n")


def queries_table(catalog: Any) -> None:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("signal", "unit", "warning", "critical", "exporters"):
        table.add_column(col, overflow="fold", no_wrap=col != "exporters", justify="right" if col in (
            "warning", "critical") else "left")
    for s in catalog.signals.values():
        table.add_row(Text(clean(s.name)), Text(clean(s.unit)), threshold(s.threshold.warning, s.unit),
                      threshold(s.threshold.critical, s.unit), Text(clean(families(s))))
    console.out().print(table)
    console.out().print(Text(QUERIES_LEGEND, style="dim"))


def queries_check_table(results: Sequence[Mapping[str, Any]], covered: Sequence[str], signals: Sequence[str]) -> None:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("signal", "#", "family", "result", "by key"):
        table.add_column(col, overflow="fold", no_wrap=col != "by key")
    for r in results:
        style = {"data": "green", "empty": "dim", "error": "red"}[r["status"]]
        detail = f"{r['series']} series" if r["status"] == "data" else clean(r.get("error", "no data"))
        shown = ", ".join(clean(k) for k in r["services"][:5])
        table.add_row(Text(clean(r["signal"])), str(r["alternative"] + 1), Text(clean(r["family"])),
                      Text(detail, style=style), Text(f"{clean(r['key'])}: {shown}") if shown else "")
    out = console.out()
    out.print(table)
    out.print(f"{len(covered)} of {len(signals)} signals have data; "
              f"missing: {', '.join(n for n in signals if n not in covered) or 'none'}")


def playbooks_table(books: Sequence[Any]) -> None:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("playbook", "covers", "mitigations", "fixes", "origin"):
        table.add_column(col, overflow="fold", no_wrap=col == "playbook")
    for p in books:
        table.add_row(clean(p.name), clean(covers(p)), str(len(p.mitigations)), str(len(p.fixes)),
                      "built-in" if p.bundled else clean(p.path))
    console.out().print(table)


def _commands(out: Any, commands: Sequence[str], style: str = "") -> None:
    """Each line of a command whole on one line of output, at any width: a newline the renderer put
    inside one would run half of it when pasted (soft_wrap: neither wrapped nor cropped; a narrow
    terminal folds it on screen and a copy still gives the one line)."""
    for cmd in commands:
        for k, cl in enumerate(clean(cmd).split("\n")):
            out.print(Text((("    $ " if k == 0 else "      ") + cl).rstrip(), style=style), soft_wrap=True)


def _query(out: Any, prefix: str, query: str) -> None:
    """A PromQL expression is pasted as a command is: whole, on one line (soft_wrap, as _commands)."""
    out.print(Text(prefix + clean(query).replace("\n", " "), style="green"), soft_wrap=True)


def playbook_table(book: Any) -> None:
    out = console.out()
    out.print(Text(f"{clean(book.name)}: {clean(book.title)}", style="bold"))
    out.print(Text(f"{clean(book.path)}", style="dim"))
    if book.description:
        out.print(Text(clean(book.description)))
    for phase, steps in (("MITIGATIONS", book.mitigations), ("PERMANENT FIXES", book.fixes)):
        if not steps:
            continue
        out.print(Text(f"\n{phase}", style="bold"))
        for s in steps:
            out.print()
            _hang(out, f"  {s.id}: ", clean(s.title) + ("  [safe]" if s.safe else ""), style="bold")
            _hang(out, "    when      ", clean(s.when_text))
            for name_, text, _ in s.compute:
                _hang(out, "    compute   ", f"{name_} = {clean(text)}", style="cyan")
            if s.evidence:
                _hang(out, "    evidence  ", ", ".join(s.evidence))
            _hang(out, "    risk      ", clean(s.risk), style="yellow")
            if s.phase == "fixes":
                _hang(out, "    effort    ", f"{clean(s.effort)} · timeline {clean(s.timeline)}"
                      + (f" · priority {s.priority}" if s.priority else ""))
                _query(out, "    success   ", s.success_metric)
            if s.action:
                _hang(out, "    --apply   ", f"{clean(action_kind(s.action))} (asks first)", style="green")
            _commands(out, s.commands)


def _plan_head(out: Any, services: Sequence[Mapping[str, Any]]) -> None:
    for s in services:
        head = Text()
        head.append(f"{clean(s.get('service'))} ({clean(s.get('namespace'))}): ", style="bold")
        head.append(str(s.get("bottleneck")), style="bold red" if s.get("bottleneck") not in ("none", "unknown")
                    else "magenta")
        head.append(f"  confidence {s.get('confidence')}  trigger {s.get('trigger')}  "
                    f"severity {s.get('severity') or 'none'}")
        _hang(out, "", head)


def _planned_step(out: Any, i: int, p: Any) -> None:
    from triage.playbooks import num_text
    from triage.render.plan import describe_action

    line = Text(clean(p.title), style="bold")
    if p.target and p.target.get("kind") != "service":
        line.append(f"  [{clean(p.target.get('kind'))} {clean(p.target.get('name'))}]", style="cyan")
    if p.action:
        line.append("  [safe]", style="green")
    out.print()
    _hang(out, f"{i:>2}. ", line, style="bold")
    out.print(Text(f"    {p.step.full_id}", style="dim"))
    if p.description:
        _hang(out, "    ", clean(p.description))
    _hang(out, "    when ", clean(p.step.when_text), style="dim")
    for ev in p.evidence:
        _hang(out, "    evidence  ", clean(ev["text"]))
    for f in p.findings[1:]:
        _hang(out, "    also      ", f"{clean(f.get('kind'))} {clean(f.get('name'))}: {clean(f.get('reason'))}")
    for n in p.numbers:
        result = num_text(n["value"]) if n["value"] is not None else f"n/a ({clean(n.get('missing', ''))})"
        _hang(out, "    number    ", f"{n['name']} = {n['formula']} = {n['with']} = {result}", style="cyan")
    _hang(out, "    risk      ", clean(p.risk), style="yellow")
    if p.step.phase == "fixes":
        prio = f"  priority {p.step.priority}" if p.step.priority else ""
        _hang(out, "    effort    ", f"{clean(p.step.effort)}  ·  timeline {clean(p.step.timeline)}{prio}")
        _query(out, "    success   ", p.success_metric)
    if p.action:
        _hang(out, "    --apply   ", describe_action(p.action), style="green")
    _commands(out, p.commands)
    if p.verify:
        _commands(out, [p.verify], style="dim")


def plan_table(plan: Any) -> None:
    out = console.out()
    _plan_head(out, plan.services)
    for ph, title in (("mitigations", "MITIGATIONS"), ("fixes", "PERMANENT FIXES")):
        if plan.phase not in ("both", "mitigate" if ph == "mitigations" else "fix"):
            continue
        proposed = [p for p in plan.of(ph) if p.status == "proposed"]
        out.print(Text(f"\n{title} ({len(proposed)})", style="bold"))
        if not proposed:
            out.print(Text("  nothing in the playbooks applies to what was found", style="dim"))
        for i, p in enumerate(proposed, 1):
            _planned_step(out, i, p)
        skipped = [p for p in plan.of(ph) if p.status == "skipped"]
        if skipped:
            out.print(Text(f"\nskipped ({len(skipped)})", style="magenta"))
            for p in skipped:
                _hang(out, "  - ", f"{clean(p.title)} ({p.step.full_id}): {clean(p.why)}", style="magenta")
    for note in plan.notes:
        _hang(out, "note: ", clean(note), style="dim")
    out.print(Text(f"status: {plan.status.value.upper()}", style=STYLE.get(plan.status, "")))


def _before_after(action: Mapping[str, Any]) -> str:
    """"(before 2, after 4)" where the action has them; nothing where it does not (a restart)."""
    parts = [f"{key} {clean(action[key])}" for key in ("before", "after") if action.get(key) is not None]
    return f"  ({', '.join(parts)})" if parts else ""


def actions_table(actions: Sequence[Mapping[str, Any]]) -> None:
    if not actions:
        return
    out = console.out()
    out.print(Text("\nACTIONS", style="bold"))
    for a in actions:
        ok = str(a.get("result", "")).startswith("ok")
        out.print(Text(f"  {clean(a.get('time'))}  {clean(a.get('what'))} of {clean(a.get('target'))}: "
                       f"{clean(a.get('result'))}{_before_after(a)}",
                       style="green" if ok else "yellow"))
