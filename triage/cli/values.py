"""The values of the shared options (CONTRACT.md, "Common options") without typer: the choices of
`--output` and the frozen objects a command hands its options on as. triage/cli/options.py spells
the options themselves (typer's); triage/cli/fast.py builds these values for a command line it
parses without typer (issue 17).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum


class Output(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


class ChatOutput(str, Enum):
    """The choices of the commands whose output is also posted to a chat: `detect`, `rca`, the status update."""

    table = "table"
    json = "json"
    markdown = "markdown"
    slack = "slack"


class DraftOutput(str, Enum):
    """`postmortem`'s: the draft as its template writes it, or the status update in Slack's mrkdwn."""

    markdown = "markdown"
    slack = "slack"


@dataclass(frozen=True)
class Backends:
    """Where the settings and the metrics come from."""

    config: str | None = None
    prometheus_url: str | None = None
    alertmanager_url: str | None = None
    max_concurrency: int | None = None


@dataclass(frozen=True)
class Scope:
    """Which services, and when: the incident window ending at `at`, after its baseline."""

    service: str | None = None
    all_services: bool = False
    namespace: str | None = None
    at: str | None = None
    window: str | None = None  # 15m
    baseline: str = "1h"
    since: str | None = None
    until: str | None = None


# All of a health source's requests end within this many --timeouts of its first.
RUN_BUDGET = 30


@dataclass(frozen=True)
class HealthChecks:
    """What the health phase may check, and the deadline of each call."""

    no_kubernetes: bool = False
    no_docker: bool = False
    urls: Sequence[str] = ()
    context: str | None = None
    timeout: float = 10.0
