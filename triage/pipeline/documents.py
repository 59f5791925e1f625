"""The JSON documents of the analysis, one builder each (CONTRACT.md names their schemas).

Every command, the incident record and the playbooks phase build a document here, so one
service's rca or a fleet reads the same wherever it was written; a key that only one command
adds (`skipped`: what the command could not read) is a parameter, not a second builder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from triage.models import Status

if TYPE_CHECKING:  # `health` builds its document without the analysis imported, `rca` without the health values
    from triage.analysis.rca import RcaResult
    from triage.config import ServiceConfig
    from triage.models import HealthReport
    from triage.signals import Windows

Skipped = Sequence[tuple[str, str]]


def _rank_fleet(results: Sequence[RcaResult], services: Mapping[str, ServiceConfig]) -> list[Any]:
    from triage.analysis.rca import rank_fleet

    return rank_fleet(results, services)


def _skipped(skipped: Skipped) -> list[dict[str, str]]:
    return [{"source": source, "reason": why} for source, why in skipped]


def rca_document(result: RcaResult, *, skipped: Skipped | None = None) -> dict[str, Any]:
    """`triage.rca/v1`: one service's verdict."""
    doc = result.to_json()
    if skipped is not None:
        doc["skipped"] = _skipped(skipped)
    return doc


def fleet_document(results: Sequence[RcaResult], services: Mapping[str, ServiceConfig], windows: Windows, *,
                   skipped: Skipped | None = None) -> dict[str, Any]:
    """`triage.fleet/v1`: every service's verdict and the ranking that puts the root cause first."""
    doc: dict[str, Any] = {
        "schema": "triage.fleet/v1", "window": windows.window.to_json(), "baseline": windows.baseline.to_json(),
        "ranking": _rank_fleet(results, services), "services": {r.service.name: r.to_json() for r in results},
    }
    if skipped is not None:
        doc["skipped"] = _skipped(skipped)
    return doc


def analysis_document(results: Sequence[RcaResult], services: Mapping[str, ServiceConfig], windows: Windows,
                      fleet: bool) -> dict[str, Any]:
    """What the record and a plan keep of phase 3: the fleet document for a fleet, else the one rca."""
    return fleet_document(results, services, windows) if fleet else rca_document(results[0])


def capacity_document(result: RcaResult, windows: Windows) -> dict[str, Any]:
    """`triage.capacity/v1`: Little's law against the pool, max_connections and the HPA."""
    return {"schema": "triage.capacity/v1", "service": result.service.name, "window": windows.window.to_json(),
            "bottleneck": result.verdict.bottleneck, **result.capacity}


def health_document(report: HealthReport, status: Status) -> dict[str, Any]:
    """`triage.health/v1` as `triage health` prints it: its status is the exit code's ("unknown" when
    nothing was checked), where the record keeps the report's own."""
    doc = report.to_json()
    doc["status"] = status.value
    return doc
