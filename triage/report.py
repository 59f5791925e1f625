"""Reports as markdown text. Every value that came from outside is escaped first."""

from __future__ import annotations

import re

from triage.analysis.detect import fmt
from triage.models import DetectReport, Status, iso

# Inline values only (newlines are folded first), so list and heading markers need no escape.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#!|<>~$])")
# What must never reach a terminal, an editor or a reviewer's eye raw: C0 (tab and newline aside:
# the callers fold them), DEL, C1 (U+0080-U+009F: 8-bit CSI, OSC, NEL ...), the bidi controls
# (overrides U+202A-U+202E, isolates U+2066-U+2069, marks U+200E/U+200F/U+061C: "Trojan Source")
# and the Unicode line/paragraph separators.
_UNSAFE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[{_UNSAFE}]")
# In JSON text C0 is always \\u-escaped by json.dumps; the rest of the set is not (ensure_ascii=False).
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_control(text: object) -> str:
    """Control characters from outside made visible and inert: ESC becomes the four characters
    `\\x1b`, U+202E the six `\\u202e`; everything else (tab and newline included) unchanged.
    Idempotent: what it writes holds no control character."""
    return _CONTROL.sub(_visible, str(text))


# The name every renderer imports; it escapes rather than deletes since issue 13 (the reader
# sees that a label carried an escape sequence, and nothing of it acts).
strip_control = escape_control


def inert_json(payload: object, *, indent: int | None = 2) -> str:
    """json.dumps, with every control character of the set above \\u-escaped inside strings: JSON
    piped to a terminal, `less` or a review tool is as inert as the table. The document is the
    same value for any JSON reader."""
    import json

    text = json.dumps(payload, indent=indent, ensure_ascii=False, allow_nan=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


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


_ICON = {Status.OK: "OK", Status.WARNING: "WARNING", Status.CRITICAL: "CRITICAL", Status.UNKNOWN: "UNKNOWN"}


def detect_markdown(report: DetectReport) -> str:
    lines = [
        "# Detection & triage",
        "",
        f"Window {iso(report.window.start)} → {iso(report.window.end)}, "
        f"baseline {iso(report.baseline.start)} → {iso(report.baseline.end)}. "
        f"Overall: **{_ICON[report.status]}**.",
        "",
    ]
    for det in report.services:
        sev = f", {det.severity}" if det.severity else ""
        lines += [f"## {md(det.service)} ({md(det.namespace)}, tier {det.tier}): {_ICON[det.status]}{sev}", ""]
        lines += [f"Affected: {md(det.affected)}", ""]
        lines += ["| signal | baseline | window | status |", "|---|---|---|---|"]
        for v in det.signals:
            if v.query is None:
                lines.append(f"| {v.name} | n/a | n/a | missing |")
            else:
                lines.append(
                    f"| {v.name} | {md(fmt(v.baseline, v.unit))} | {md(fmt(v.window, v.unit))} | {v.status.value} |"
                )
        lines.append("")
        if det.alerts:
            lines.append("Firing alerts:")
            for a in det.alerts:
                since = f" since {iso(a.starts_at)}" if a.starts_at else ""
                lines.append(f"- {md(a.name)} ({md(a.severity or 'no severity')}, {md(a.source)}){since}")
            lines.append("")
        if det.missing_signals:
            lines.append("Missing signals: " + ", ".join(
                f"{name} ({md(reason)})" for name, reason in sorted(det.missing_signals.items())))
            lines.append("")
    for source, reason in report.skipped:
        lines.append(f"- skipped {md(source)}: {md(reason)}")
    return "\n".join(lines).rstrip() + "\n"
