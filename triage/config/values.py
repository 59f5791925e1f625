"""Durations, sizes and their sensible ranges, as the config file and the environment give them.

Every message names where the value came from (`file:line: key` or the variable), and a value
that parses but makes no sense (a step of a week) is refused the same way as one that does not.
"""

from __future__ import annotations

import math
import re
from typing import Any

from triage.errors import ConfigError, UsageError
from triage.timeutil import format_duration, parse_duration

# Sensible ranges for values that parse but may make no sense: (low, high) seconds.
STEP_RANGE = (1.0, 86400.0)
RATE_RANGE = (1.0, 30 * 86400.0)
DEADLINE_RANGE = (1.0, 7 * 86400.0)
RESPONSE_BYTES_RANGE = (1024, 64 * 1024 ** 3)


def shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else f"{value:g}" if isinstance(value, float) else str(value)


def to_seconds(value: Any, where: str) -> float:
    """A number of seconds or a duration string, finite; `where` names file:line and key."""
    if isinstance(value, bool):
        raise ConfigError(f"{where}: must be a duration like 30s or a number of seconds, not {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
        if not math.isfinite(seconds):
            raise ConfigError(f"{where}: must be a finite number of seconds, not {shown(value)}")
        return seconds
    try:
        return parse_duration(value, what=where).total_seconds()
    except UsageError as exc:
        raise ConfigError(str(exc)) from None


def in_range(value: Any, where: str, bounds: tuple[float, float]) -> float:
    seconds = to_seconds(value, where)
    lo, hi = bounds
    if not lo <= seconds <= hi:
        raise ConfigError(f"{where}: must be from {format_duration(lo)} to {format_duration(hi)}, not {shown(value)}")
    return seconds


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB|TB|TiB)?", re.ASCII)
_SIZE_UNITS = {None: 1, "B": 1, "KB": 1000, "KiB": 1 << 10, "MB": 1000 ** 2, "MiB": 1 << 20,
               "GB": 1000 ** 3, "GiB": 1 << 30, "TB": 1000 ** 4, "TiB": 1 << 40}


def parse_size(value: Any, where: str) -> int:
    """Bytes: a whole number, or a size like 256MiB / 64MB."""
    lo, hi = RESPONSE_BYTES_RANGE
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ConfigError(f"{where}: must be a size like 256MiB or a number of bytes, not {value!r}")
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE.fullmatch(value.strip())
        if not match or len(match.group(1)) > 30:
            raise ConfigError(f"{where}: {value[:40]!r} is not a size (use e.g. 256MiB, 64MB or bytes)")
        size = int(float(match.group(1)) * _SIZE_UNITS[match.group(2)])
    if not lo <= size <= hi:
        raise ConfigError(f"{where}: must be from 1 KiB to 64 GiB, not {value!r}")
    return size
