"""Playbooks: reviewed YAML turned into the mitigations (phase 2) and permanent fixes
(phase 4) of one incident, with the numbers computed from its evidence.

The inputs are documents, never live objects (`inputs`), so a plan made live and a plan made
from a record a week later are the same plan. Conditions and sizes are written in a tiny
expression language (`expr`); every name is checked against the vocabulary (`names`) when a
file is loaded (`load`), so a typo is an error with file and line rather than a step that
silently never fires. A value that is missing from the incident makes a condition *unknown*
(Kleene logic): a step whose condition is unknown is listed as skipped, with what was missing
(`context`, `plan`). A plan's markdown is `triage.render.plan`; the record it may add
actions to is `triage.incident`.
"""

from triage.playbooks.expr import num_text
from triage.playbooks.inputs import (
    PlanInputs,
    check_health,
    incident_from_record,
    rca_documents,
)
from triage.playbooks.load import load_library, load_playbook, validate_paths
from triage.playbooks.plan import (
    Plan,
    PlannedStep,
    check_targets,
    make_plan,
    plan_for_record,
)
from triage.playbooks.schema import Library, Playbook, Step, coverage

__all__ = [
    "Library", "Plan", "PlanInputs", "PlannedStep", "Playbook", "Step", "check_health", "check_targets", "coverage",
    "incident_from_record", "load_library", "load_playbook", "make_plan", "num_text", "plan_for_record",
    "rca_documents", "validate_paths",
]
