"""An SLO's burn rates on the SRE workbook's multiwindow alerts, and its error budget."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from triage.models.core import Status, json_number


@dataclass(frozen=True)
class BurnWindow:
    """The SLI's error ratio over one rate window, as read (`sloth`, `pyrra`) or computed."""

    window: str
    error_ratio: float | None
    burn_rate: float | None
    source: str
    query: str | None = None


@dataclass(frozen=True)
class BurnAlert:
    """One window pair: it fires when both windows burn faster than `threshold`."""

    long: str
    short: str
    threshold: float
    severity: str            # "page" or "ticket"
    burn_long: float | None
    burn_short: float | None

    @property
    def firing(self) -> bool:
        return (self.burn_long is not None and self.burn_short is not None
                and self.burn_long > self.threshold and self.burn_short > self.threshold)

    def to_json(self) -> dict[str, Any]:
        return {"long": self.long, "short": self.short, "threshold": round(self.threshold, 6),
                "severity": self.severity, "burn_long": json_number(self.burn_long),
                "burn_short": json_number(self.burn_short),
                "firing": self.firing}


@dataclass(frozen=True)
class SloReport:
    """One service's SLO: its objective, the burn rates of its windows and the alerts they raise."""

    objective: float
    sli: str
    period: str
    status: Status
    alerts: tuple[BurnAlert, ...]
    windows: Mapping[str, BurnWindow] = field(default_factory=dict)
    latency_threshold: float | None = None
    name: str | None = None
    # Budget: the share left over the period, and the share the incident window spent.
    budget_remaining: float | None = None
    budget_spent_in_window: float | None = None
    budget_source: str | None = None
    missing: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "objective": self.objective, "sli": self.sli, "latency_threshold": self.latency_threshold,
            "period": self.period, "name": self.name, "status": self.status.value,
            "alerts": [a.to_json() for a in self.alerts],
            "windows": {w.window: {"error_ratio": json_number(w.error_ratio), "burn_rate": json_number(w.burn_rate),
                                   "source": w.source,
                                   "query": w.query} for w in self.windows.values()},
            "budget": {"remaining": json_number(self.budget_remaining),
                       "spent_in_window": json_number(self.budget_spent_in_window),
                       "source": self.budget_source},
            "missing": self.missing,
        }
