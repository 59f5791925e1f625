"""Small wording helpers shared by the checks, so every finding reads the same way."""

from __future__ import annotations

from collections import Counter

from triage.models import Finding, Status
from triage.render.escape import strip_control

MAX_DETAIL = 400


def ago(moment: float | None, now: float, *, suffix: str = " ago") -> str:
    """`4m ago`; empty when the backend gave no time; `just now` under a second."""
    if moment is None:
        return ""
    return f"{duration(now - moment)}{suffix}" if now - moment >= 1 or not suffix else "just now"


def duration(seconds: float) -> str:
    """Two significant units at most, like kubectl's AGE column: `45s`, `4m`, `2h10m`, `3d4h`."""
    total = int(max(0, seconds))
    if total < 60:
        return f"{total}s"
    if total < 600:
        minutes, secs = divmod(total, 60)
        return f"{minutes}m{secs}s" if secs and minutes < 2 else f"{minutes}m"
    if total < 3600:
        return f"{total // 60}m"
    if total < 86400:
        hours, rest = divmod(total, 3600)
        return f"{hours}h{rest // 60}m" if rest >= 60 else f"{hours}h"
    days, rest = divmod(total, 86400)
    return f"{days}d{rest // 3600}h" if rest >= 3600 else f"{days}d"


def clip(text: str, limit: int = MAX_DETAIL) -> str:
    """Text from outside, one line, control characters gone, bounded."""
    text = str(text)
    if (text.isascii() and text.isprintable() and len(text) <= limit and "  " not in text
            and text[:1] != " " and text[-1:] != " "):
        return text  # already one line of printable ASCII, single-spaced (a detail of each of thousands of pods)
    flat = " ".join(strip_control(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def size(num: float | None) -> str:
    if num is None:
        return "?"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(num) < 1024 or unit == "TiB":
            return f"{num:.0f} {unit}" if unit == "B" else f"{num:.1f} {unit}"
        num /= 1024
    return f"{num:.1f} TiB"


def where(f: Finding) -> str:
    return f"{f.namespace}/{f.name}" if f.namespace else f.name


_NOUN = {"pod": ("pod", "pods"), "container": ("container", "containers"), "endpoint": ("endpoint", "endpoints"),
         "deployment": ("deployment", "deployments"), "hpa": ("HPA", "HPAs"), "node": ("node", "nodes")}


def ok_summary(findings: list[Finding] | tuple[Finding, ...]) -> str:
    """`12 pods, 1 HPA`: the objects that passed every check (a pod with no finding but ok counts once)."""
    seen = {(f.kind, f.namespace, f.name) for f in findings if f.status is not Status.OK}
    counts = Counter(f.kind for f in findings if f.status is Status.OK and (f.kind, f.namespace, f.name) not in seen)
    return ", ".join(f"{n} {_NOUN.get(k, (k, k))[n != 1]}" for k, n in counts.items())
