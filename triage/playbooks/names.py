"""The names a playbook's expressions and placeholders may use, and what type each has.

This is the vocabulary a playbook speaks about an incident: signals of the catalog (with
their baseline, window and change), the capacity math, the rca's and a health finding's
words. Checking a name against it when a file is loaded is what turns a typo into an error
with file and line, instead of a step that silently never fires.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from triage.models import (
    BOTTLENECKS,
    EXTRA_SIGNALS,
    HEALTH_KINDS,
    HEALTH_REASONS,
    SIGNAL_NAMES,
    TRIGGERS,
)
from triage.playbooks.expr import ExprError

SEVERITIES = ("P0", "P1", "P2", "P3")
STATUSES = ("ok", "warning", "critical", "unknown")

SIGNALS = SIGNAL_NAMES + EXTRA_SIGNALS
SIGNAL_ATTRS = ("baseline", "window", "change")
CAPACITY_NUMBERS = ("db_connections_needed", "pool_per_pod", "max_pods_for_max_connections", "mean_latency_s")
CAPACITY_BOOLS = ("hpa_at_max",)

# name → domain of its string values (None: any text)
RCA_STRINGS = {"bottleneck": BOTTLENECKS, "trigger": TRIGGERS, "severity": SEVERITIES, "status": STATUSES}
FINDING_STRINGS = {"reason": HEALTH_REASONS, "kind": HEALTH_KINDS, "check": None, "finding_status": STATUSES}
# The database's engine: `mysql` when the database signals came from mysqld_exporter, else `postgres`.
WORD_STRINGS = {"database_engine": ("postgres", "mysql")}
PLAIN_NUMBERS = ("confidence", "window_minutes", "baseline_minutes")
PLAIN_BOOLS = ("invariants_violated",)
FINDING_NAMES = tuple(FINDING_STRINGS)

# Variables of templates that are words, not numbers.
IDENTITY_VARS = ("service", "namespace", "deployment", "container", "database", "hpa", "prometheus_url",
                 "alertmanager_url", "since", "start", "at", "bottleneck", "trigger", "severity", "missing_signals",
                 "database_engine")
FINDING_VARS = ("target", "target_kind", "target_namespace", "workload", "reason", "check")


class Scope:
    """Which names an expression may use, and their types.

    Types: "num", "bool", or ("str", domain-or-None, name)."""

    def __init__(self, computed: Iterable[str] = (), *, finding: bool = True) -> None:
        self.computed = tuple(computed)
        self.finding = finding

    def type_of_name(self, name: str) -> Any:
        if name in self.computed:
            return "num"
        base, _, attr = name.partition(".")
        if base in SIGNALS:
            if attr and attr not in SIGNAL_ATTRS:
                raise ExprError(f"'{name}': a signal has .baseline, .window or .change, not .{attr}")
            return "num"
        if base == "capacity":
            return _capacity_type(name, attr)
        if name in RCA_STRINGS:
            return ("str", RCA_STRINGS[name], name)
        if name in FINDING_STRINGS:
            return ("str", FINDING_STRINGS[name], name)
        if name in WORD_STRINGS:
            return ("str", WORD_STRINGS[name], name)
        if name in PLAIN_NUMBERS:
            return "num"
        if name in PLAIN_BOOLS:
            return "bool"
        close = [s for s in SIGNALS if s.startswith(base[:4])] if len(base) >= 4 else []
        hint = f"; did you mean {', '.join(close[:3])}?" if close else ""
        raise ExprError(f"unknown signal or name '{name}'{hint} (signals: {', '.join(SIGNALS)}; also "
                        f"{', '.join([*RCA_STRINGS, *FINDING_STRINGS, *WORD_STRINGS, *PLAIN_NUMBERS, *PLAIN_BOOLS])}, "
                        "capacity.*)")


def _capacity_type(name: str, attr: str) -> str:
    if attr in CAPACITY_NUMBERS:
        return "num"
    if attr in CAPACITY_BOOLS:
        return "bool"
    raise ExprError(f"unknown capacity value '{name}' (known: "
                    f"{', '.join('capacity.' + k for k in CAPACITY_NUMBERS + CAPACITY_BOOLS)})")
