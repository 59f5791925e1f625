"""Durations and instants as users type them (`15m`, `1h30m`, RFC 3339, unix seconds, `now-1h`, `-30m`)."""

from __future__ import annotations

import math
import re
import time
from datetime import datetime, timedelta, timezone

from triage.errors import UsageError

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
# ASCII digits only: `\d` alone also matches '٤' or '４', which no one means in a duration
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)", re.ASCII)
_NUMBER = re.compile(r"\d+(\.\d+)?", re.ASCII)
# Longer than any window, step, timeout or interval that can mean something (and timedelta's
# limit is ~2.7 million years): 1,000 years.
MAX_DURATION_SECONDS = 1000 * 31536000

# An --at further ahead than this is a typo, not clock skew.
FUTURE_SLACK_SECONDS = 120


def parse_duration(text: str, *, what: str = "duration") -> timedelta:
    """Prometheus-style durations; a bare number is seconds. Zero and negative are refused."""
    raw = str(text).strip()
    if not raw:
        raise UsageError(f"{what}: empty duration (use e.g. 15m, 1h, 90s)")
    if _NUMBER.fullmatch(raw):
        seconds = float(raw)
    else:
        pos = 0
        seconds = 0.0
        for match in _DURATION.finditer(raw):
            if match.start() != pos:
                break
            seconds += float(match.group(1)) * _UNITS[match.group(2)]
            pos = match.end()
        if pos != len(raw) or pos == 0:
            raise UsageError(f"{what}: {raw!r} is not a duration (use e.g. 15m, 1h, 1h30m, 90s)")
    if seconds <= 0:
        raise UsageError(f"{what}: {raw!r} must be longer than zero")
    if not math.isfinite(seconds) or seconds > MAX_DURATION_SECONDS:
        raise UsageError(f"{what}: {raw[:40]!r} is too long (at most {MAX_DURATION_SECONDS // 31536000}y)")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta | float) -> str:
    """The shortest Prometheus duration for a whole number of seconds (`1h30m`, `15s`)."""
    total = int(round(delta.total_seconds() if isinstance(delta, timedelta) else delta))
    if total <= 0:
        return "0s"
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size:
            out.append(f"{total // size}{unit}")
            total %= size
    return "".join(out)


# `now`, `now-1h`, `now - 1h30m`, `-30m` (a duration before now, as Prometheus and Grafana write it)
_RELATIVE = re.compile(r"(now)?\s*(?:([-+])\s*(\S.*))?", re.ASCII | re.IGNORECASE)


def _relative(raw: str, current: float, what: str) -> datetime | None:
    """A time relative to now, or None when `raw` is not written as one (a bare `-30` is unix seconds)."""
    match = _RELATIVE.fullmatch(raw)
    if match is None or not (match.group(1) or (match.group(2) and not _NUMBER.fullmatch(match.group(3)))):
        return None
    if match.group(2) == "+":
        raise UsageError(f"{what}: {raw!r} is in the future (use now-1h or -30m for the past)")
    ago = parse_duration(match.group(3), what=f"{what} {raw!r}") if match.group(2) else timedelta(0)
    if ago.total_seconds() >= current:
        raise UsageError(f"{what}: {raw!r} is before 1970")
    return datetime.fromtimestamp(int(current - ago.total_seconds()), tz=timezone.utc)


def parse_instant(text: str | None, *, now: float | None = None, what: str = "--at") -> datetime:
    """RFC 3339, unix seconds or relative to now (`now`, `now-1h`, `-30m`), as UTC; None is now.
    The future is refused."""
    current = time.time() if now is None else now
    if text is None or str(text).strip() == "":
        return datetime.fromtimestamp(int(current), tz=timezone.utc)
    raw = str(text).strip()
    relative = _relative(raw, current, what)
    if relative is not None:
        return relative
    if re.fullmatch(r"-?\d+(\.\d+)?", raw, re.ASCII):
        try:
            moment = datetime.fromtimestamp(float(raw), tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise UsageError(f"{what}: {raw!r} is out of range for unix seconds") from None
    else:
        candidate = raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw
        try:
            moment = datetime.fromisoformat(candidate)
        except ValueError:
            raise UsageError(
                f"{what}: {raw!r} is neither RFC 3339 (2026-11-10T20:01:00Z), unix seconds nor relative "
                "(now, now-1h, -30m)"
            ) from None
        if moment.tzinfo is None:
            raise UsageError(f"{what}: {raw!r} has no time zone; add Z or an offset like +07:00")
        moment = moment.astimezone(timezone.utc)
    if moment.timestamp() <= 0:
        raise UsageError(f"{what}: {raw!r} is before 1970")
    if moment.timestamp() > current + FUTURE_SLACK_SECONDS:
        raise UsageError(f"{what}: {raw!r} is in the future")
    return moment


def window_span(at: str | None, window: str, since: str | None, until: str | None, *,
                window_given: bool, now: float | None = None) -> tuple[datetime, timedelta]:
    """The incident window's end and length from --at/--window or their kubectl/Prometheus
    spellings: `--since 30m` is the last 30 minutes ending at --until (default now); --since may
    also be an instant (`now-2h`, RFC 3339). Two options for the same thing are refused."""
    if at is not None and until is not None:
        raise UsageError("--at and --until both set the end of the window; give one")
    if since is not None and window_given:
        raise UsageError("--since and --window both set the length of the window; give one "
                         "(--since 30m is --window 30m ending now or at --until)")
    end = parse_instant(until if until is not None else at, now=now, what="--until" if until is not None else "--at")
    if since is None:
        return end, parse_duration(window, what="--window")
    return end, _since_length(since, end, now)


def _since_length(since: str, end: datetime, now: float | None) -> timedelta:
    """--since as a duration (30m), else as the window's start time (now-2h, RFC 3339)."""
    try:
        return parse_duration(since, what="--since")
    except UsageError:
        pass
    try:
        start = parse_instant(since, now=now, what="--since")
    except UsageError:
        raise UsageError(f"--since: {since!r} is neither a duration (30m, 1h) nor a time "
                         "(now-1h, RFC 3339, unix seconds)") from None
    if start >= end:
        raise UsageError(f"--since: {since!r} is not before the end of the window ({end:%Y-%m-%dT%H:%M:%SZ})")
    return end - start
