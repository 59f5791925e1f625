"""Settings, windows and output shared by the signal-reading commands."""

from __future__ import annotations

import json
import sys
from typing import Any

from triage.config import Settings, load_settings
from triage.signals import FLEET_POINTS, TARGET_POINTS, Windows, make_windows
from triage.timeutil import parse_duration, parse_instant


def settings_from(config: str | None, prometheus_url: str | None, alertmanager_url: str | None = None) -> Settings:
    return load_settings(config=config, prometheus_url=prometheus_url, alertmanager_url=alertmanager_url)


def windows_from(settings: Settings, at: str | None, window: str, baseline: str, *, fleet: bool = False) -> Windows:
    return make_windows(
        parse_instant(at, what="--at"),
        parse_duration(window, what="--window"),
        parse_duration(baseline, what="--baseline"),
        settings.step,
        points=FLEET_POINTS if fleet else TARGET_POINTS,
    )


def print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    sys.stdout.flush()
