"""Settings, windows and output shared by the signal-reading commands."""

from __future__ import annotations

import json
import sys
from typing import Any

from triage.config import Settings, load_settings
from triage.errors import UsageError
from triage.signals import FLEET_POINTS, TARGET_POINTS, Windows, make_windows
from triage.timeutil import parse_duration, parse_instant


def settings_from(config: str | None, prometheus_url: str | None, alertmanager_url: str | None = None) -> Settings:
    return load_settings(config=config, prometheus_url=prometheus_url, alertmanager_url=alertmanager_url)


def windows_from(settings: Settings, at: str | None, window: str, baseline: str, *, fleet: bool = False) -> Windows:
    end = parse_instant(at, what="--at")
    win = parse_duration(window, what="--window")
    base = parse_duration(baseline, what="--baseline")
    # A window (or window + baseline) that starts before 1970 has no data and no date to ask for
    # (3000y is an OverflowError in datetime arithmetic).
    since_epoch = end.timestamp()
    if win.total_seconds() >= since_epoch:
        raise UsageError(f"--window: {window!r} before --at {end:%Y-%m-%dT%H:%M:%SZ} starts before 1970")
    if (win + base).total_seconds() >= since_epoch:
        raise UsageError(f"--baseline: {baseline!r} before the window starts before 1970")
    return make_windows(end, win, base, settings.step, points=FLEET_POINTS if fleet else TARGET_POINTS)


def print_json(payload: Any) -> None:
    """JSON on stdout with every control character from outside \\u-escaped (C1, DEL, bidi)."""
    from triage.report import inert_json

    sys.stdout.write(inert_json(payload) + "\n")
    sys.stdout.flush()


def replay(path: str, settings: Settings, service: str | None):
    """Inputs of a replayed command: everything from the record, nothing from the network."""
    from pathlib import Path

    from triage.errors import UsageError
    from triage.incident import load
    from triage.runner import replay_inputs

    record = load(Path(path))
    replay_settings, windows, target, source, alerts, now = replay_inputs(record, settings)
    if service:
        chosen = tuple(s for s in target.services if s.name == service)
        if not chosen:
            names = ", ".join(s.name for s in target.services)
            raise UsageError(f"service '{service}' is not in the incident record (it has: {names})")
    return replay_settings, windows, target, source, alerts, now
