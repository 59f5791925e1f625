"""The phases wired together, the incident record's documents and the status roll-up.

Sources, health checks and playbooks come in as parameters: nothing here builds a client, so the
CLI, tests, benchmarks and replays drive the same code.
"""

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

__all__ = [
    "AlertSource", "HealthRunner", "PlaybookRunner", "Progress", "Target", "analysis_document", "capacity_document",
    "chart_series", "check_invariants", "fleet_document", "gather", "health_document", "quiet", "rca_document",
    "record_status", "replay_inputs", "replay_record", "resolve_target", "run_detect", "run_phases", "run_rca",
]
