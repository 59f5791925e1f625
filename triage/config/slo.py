"""A service's `slo:` in triage.yaml: objective, SLI (error ratio or latency threshold), period.

Read by `triage/analysis/slo.py` for burn rates on the SRE workbook's windows. The period
scales the workbook's burn-rate thresholds (14.4/6/1 are for 30 days), so it is bounded to
what a budget can mean: a day to a year.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from triage.config.values import in_range
from triage.errors import ConfigError
from triage.yamlschema import Choice, Field, OneOf

DEFAULT_PERIOD = "30d"
PERIOD_RANGE = (86400.0, 366 * 86400.0)
LATENCY_RANGE = (0.001, 3600.0)

SLO_SCHEMA = {
    "objective": Field(float, required=True),
    "sli": Field(Choice("errors", "latency")),
    "latency": Field({"threshold": Field(OneOf(float, str), required=True)}),
    "period": Field(str),
    "name": Field(str),
}


@dataclass(frozen=True)
class SloConfig:
    """`objective` is the share of good events (0.999); `name` is the SLO's name in Sloth
    (`sloth_slo`) or Pyrra (`slo`), when its recording rules are read."""

    objective: float
    sli: str = "errors"
    latency_threshold: float | None = None
    period: float = 30 * 86400.0
    name: str | None = None

    @property
    def budget(self) -> float:
        return 1.0 - self.objective


def load_slo(raw: Any, where: str) -> SloConfig | None:
    """`where` is `file:line: services.NAME.slo`, the start of every message."""
    if not raw:
        return None
    objective = float(raw["objective"])
    if not 0.0 < objective < 1.0:
        hint = f" (write {objective / 100:g} for {objective:g} %)" if 1.0 < objective < 100.0 else ""
        raise ConfigError(f"{where}.objective: must be a ratio between 0 and 1 like 0.999, not {objective:g}{hint}")
    latency = raw.get("latency")
    sli = raw.get("sli") or ("latency" if latency else "errors")
    threshold = None
    if sli == "latency":
        if not latency:
            raise ConfigError(f"{where}: sli: latency needs latency.threshold (e.g. latency: {{threshold: 0.5s}})")
        threshold = in_range(latency["threshold"], f"{where}.latency.threshold", LATENCY_RANGE)
    elif latency:
        raise ConfigError(f"{where}: latency.threshold is set but sli is errors (drop one of them)")
    period = in_range(raw.get("period") or DEFAULT_PERIOD, f"{where}.period", PERIOD_RANGE)
    name = raw.get("name")
    if name is not None and not name.strip():
        raise ConfigError(f"{where}.name: must not be empty")
    return SloConfig(objective=objective, sli=sli, latency_threshold=threshold, period=period, name=name)
