"""Seed 002's first look: do the recent log lines show a crash, a traceback or an OOM?

Patterns are deliberately conservative: a line must look like a crash or an error-level
record, not merely contain the word "error" (a request path `/errors`, a counter
`errors=0` or "the critical path" is not a finding). Level words count in capitals
(`ERROR`, `FATAL`) or as a structured field (`level=error`, `"level":"error"`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from triage.render.escape import strip_control

MAX_QUOTED = 3
MAX_LINE = 200

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("oom", re.compile(
        r"out of memory|OutOfMemoryError|\bMemoryError\b|Cannot allocate memory|\bOOM[- ]?kill|"
        r"JavaScript heap out of memory|Killed process \d+", re.IGNORECASE)),
    ("panic", re.compile(r"^\s*panic:|\bgoroutine \d+ \[running\]|^\s*fatal error:|\bSIGSEGV\b|"
                         r"Segmentation fault|core dumped")),
    ("traceback", re.compile(r"Traceback \(most recent call last\)|Exception in thread \"|"
                             r"^\s*Caused by: |Unhandled(?:Promise)?Rejection|uncaughtException")),
    ("exception", re.compile(r"(?:^|[\s:\[(])(?:[A-Za-z_][\w$]*\.)*[A-Z]\w*(?:Exception|Error)(?::\s|$)")),
    ("fatal", re.compile(r"\b(?:FATAL|PANIC|CRITICAL|SEVERE|EMERG|ALERT)\b|"
                         r"(?i:\blevel\"?\s*[=:]\s*\"?(?:fatal|panic|critical|crit)\b)")),
    ("error", re.compile(r"(?:^|[\s\[|])(?:ERROR|ERR|E\d{4})(?:[\s\]:|]|$)|^\s*(?:Error|error):\s|"
                         r"(?i:\blevel\"?\s*[=:]\s*\"?(?:error|err)\b|\"severity\"\s*:\s*\"error\")")),
)


@dataclass(frozen=True)
class LogScan:
    matched: int
    scanned: int
    kinds: tuple[str, ...]
    quoted: tuple[str, ...]


_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x9b[0-9;?]*[@-~]")


def plain(line: str) -> str:
    """A log line without its colours: ANSI CSI/OSC sequences removed whole, not half."""
    return _ANSI.sub("", line)


def clean_line(line: str, limit: int = MAX_LINE) -> str:
    """One log line made safe to show: escape sequences and control characters gone, length bounded."""
    text = strip_control(plain(line).replace("\t", " ")).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def classify(line: str) -> str | None:
    line = plain(line)
    for kind, pattern in _PATTERNS:
        if pattern.search(line):
            return kind
    return None


def scan(lines: tuple[str, ...] | list[str]) -> LogScan:
    """The error-looking lines among `lines`; quotes the first few, cleaned and truncated."""
    matched = 0
    kinds: list[str] = []
    quoted: list[str] = []
    for raw in lines:
        kind = classify(raw)
        if kind is None:
            continue
        matched += 1
        if kind not in kinds:
            kinds.append(kind)
        if len(quoted) < MAX_QUOTED:
            quoted.append(clean_line(raw))
    return LogScan(matched=matched, scanned=len(lines), kinds=tuple(kinds), quoted=tuple(quoted))
