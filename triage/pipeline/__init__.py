"""The phases wired together, the incident record's documents and the status roll-up.

Sources, health checks and playbooks come in as parameters: nothing here builds a client, so the
CLI, tests, benchmarks and replays drive the same code.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from triage.pipeline.documents import (
        analysis_document,
        capacity_document,
        fleet_document,
        health_document,
        rca_document,
    )
    from triage.pipeline.phases import (
        AlertSource,
        Progress,
        Target,
        check_invariants,
        gather,
        quiet,
        resolve_target,
        run_detect,
        run_rca,
    )
    from triage.pipeline.record import (
        HealthRunner,
        PlaybookRunner,
        chart_series,
        run_phases,
    )
    from triage.pipeline.replay import replay_inputs, replay_record
    from triage.pipeline.status import record_status

# Each name is imported from its module on first use (PEP 562): `triage health` needs one
# document builder, not the rca/detect phases, records and replays (~40 ms; issue 17).
_WHERE = {
    "analysis_document": "documents",
    "capacity_document": "documents",
    "fleet_document": "documents",
    "health_document": "documents",
    "rca_document": "documents",
    "AlertSource": "phases",
    "Progress": "phases",
    "Target": "phases",
    "check_invariants": "phases",
    "gather": "phases",
    "quiet": "phases",
    "resolve_target": "phases",
    "run_detect": "phases",
    "run_rca": "phases",
    "HealthRunner": "record",
    "PlaybookRunner": "record",
    "chart_series": "record",
    "run_phases": "record",
    "replay_inputs": "replay",
    "replay_record": "replay",
    "record_status": "status",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f"triage.pipeline.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AlertSource", "HealthRunner", "PlaybookRunner", "Progress", "Target", "analysis_document", "capacity_document",
    "chart_series", "check_invariants", "fleet_document", "gather", "health_document", "quiet", "rca_document",
    "record_status", "replay_inputs", "replay_record", "resolve_target", "run_detect", "run_phases", "run_rca",
]
