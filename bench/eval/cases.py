"""What every labelled set is made of: cases (a service and the answer it must get), the
answers triage gave, and the runs (one way of asking) that hold them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from testing.scenarios.rca_library import CLASSES, LabelledScenario

SHORT = {
    "cpu_saturation": "cpu", "memory_pressure": "mem", "db_pool_exhaustion": "pool",
    "db_latency": "dblat", "lock_contention": "lock", "connection_churn": "churn",
    "external_dependency": "dep", "application_errors": "app", "none": "none", "unknown": "unk",
}
NO_ANSWER = "(err)"     # no parsable JSON: a crash, a usage error, no data

__all__ = ["CLASSES", "NO_ANSWER", "SHORT", "Answer", "Case", "Run", "cases_of"]


@dataclass
class Case:
    source: str                      # "library" or the recording's path
    service: str
    label: str
    acceptable: tuple[str, ...] = ()
    trigger: str | None = None
    note: str = ""

    def right(self, verdict: str | None) -> bool:
        return verdict == self.label or verdict in self.acceptable


@dataclass
class Answer:
    verdict: str
    confidence: float | None
    trigger: str | None
    code: int
    seconds: float
    payload: dict | None = None


@dataclass
class Run:
    """The answers of one way of asking (per service, or the fleet pass) over some cases."""
    name: str
    answers: dict[tuple[str, str], Answer] = field(default_factory=dict)
    per_service_exit: bool = True    # the fleet pass has one exit code for all

    def of(self, case: Case) -> Answer:
        return self.answers[(case.source, case.service)]


def cases_of(scenarios: Iterable[LabelledScenario]) -> list[Case]:
    return [Case("library", s.name, s.bottleneck, tuple(a for a in s.answers if a != s.bottleneck),
                 s.trigger, s.note) for s in scenarios]
