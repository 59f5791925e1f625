"""What the health sources observed, as plain frozen values, and the findings judged from them.

The sources (`triage/sources/kubernetes/`, `docker.py`, `http.py`) translate SDK objects
and HTTP answers into these, so the checks in `triage/health/` never see a `V1Pod`, a docker
`Container` or a `requests.Response`. Times are unix seconds (None when the backend did
not say).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from triage.models.core import Status

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Condition:
    type: str
    status: str
    reason: str = ""
    message: str = ""
    last_transition: float | None = None

    @property
    def true(self) -> bool:
        return self.status == "True"

    @property
    def false(self) -> bool:
        return self.status == "False"


@dataclass(frozen=True, slots=True)
class KubeContainer:
    """One entry of a pod's `containerStatuses` (or `initContainerStatuses`)."""

    name: str
    ready: bool
    restarts: int
    state: str                       # running | waiting | terminated | unknown
    reason: str = ""                 # waiting/terminated reason
    message: str = ""
    exit_code: int | None = None
    started_at: float | None = None
    finished_at: float | None = None
    last_reason: str = ""            # lastState.terminated
    last_exit_code: int | None = None
    last_finished_at: float | None = None
    last_message: str = ""
    init: bool = False


@dataclass(frozen=True, slots=True)
class Pod:
    namespace: str
    name: str
    phase: str
    reason: str = ""
    message: str = ""
    node: str = ""
    created_at: float | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    owner: str = ""                  # "ReplicaSet/checkout-7d9f" of the controller
    conditions: tuple[Condition, ...] = ()
    containers: tuple[KubeContainer, ...] = ()
    spec_containers: tuple[str, ...] = ()

    def condition(self, kind: str) -> Condition | None:
        for c in self.conditions:
            if c.type == kind:
                return c
        return None


@dataclass(frozen=True, slots=True)
class KubeEvent:
    namespace: str
    object_kind: str
    object_name: str
    reason: str
    message: str
    type: str = "Normal"
    count: int = 1
    last_seen: float | None = None


@dataclass(frozen=True, slots=True)
class Deployment:
    namespace: str
    name: str
    replicas: int
    ready: int = 0
    available: int = 0
    unavailable: int = 0
    updated: int = 0
    generation: int = 0
    observed_generation: int = 0
    selector: Mapping[str, str] = field(default_factory=dict)
    conditions: tuple[Condition, ...] = ()

    def condition(self, kind: str) -> Condition | None:
        for c in self.conditions:
            if c.type == kind:
                return c
        return None


@dataclass(frozen=True, slots=True)
class Hpa:
    namespace: str
    name: str
    target_kind: str
    target_name: str
    min_replicas: int
    max_replicas: int
    current_replicas: int
    desired_replicas: int
    metrics: tuple[str, ...] = ()    # "cpu 55% (target 70%)", one per spec metric
    conditions: tuple[Condition, ...] = ()

    def condition(self, kind: str) -> Condition | None:
        for c in self.conditions:
            if c.type == kind:
                return c
        return None


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    conditions: tuple[Condition, ...] = ()
    unschedulable: bool = False

    def condition(self, kind: str) -> Condition | None:
        for c in self.conditions:
            if c.type == kind:
                return c
        return None


@dataclass(frozen=True)
class KubeSnapshot:
    """Everything one `health` run read from the cluster; `problems` are (what, why) that could not be read."""

    pods: tuple[Pod, ...] = ()
    events: tuple[KubeEvent, ...] = ()
    deployments: tuple[Deployment, ...] = ()
    hpas: tuple[Hpa, ...] = ()
    nodes: tuple[Node, ...] = ()
    nodes_read: bool = False
    problems: tuple[tuple[str, str], ...] = ()
    requests: int = 0


@dataclass(frozen=True, slots=True)
class LogRequest:
    """The log of one container; `previous` is the instance before the last restart (`kubectl logs -p`)."""

    namespace: str | None
    owner: str                       # pod name, or docker container id/name
    container: str
    previous: bool = False
    since_seconds: int | None = None


@dataclass(frozen=True)
class LogText:
    request: LogRequest
    lines: tuple[str, ...] = ()
    error: str | None = None
    too_large: bool = False  # the answer was past the source's cap: said as a skipped line, not dropped


@dataclass(frozen=True)
class DockerStats:
    memory_usage: int | None = None  # bytes, page cache excluded
    memory_limit: int | None = None  # bytes; None when unlimited
    cpu_seconds: float | None = None
    throttled_periods: int = 0
    periods: int = 0


@dataclass(frozen=True)
class HealthProbe:
    exit_code: int
    output: str
    end: float | None = None


@dataclass(frozen=True)
class DockerContainer:
    id: str
    name: str
    image: str
    state: str                       # created | running | restarting | paused | exited | dead
    exit_code: int | None = None
    oom_killed: bool = False
    restart_count: int = 0
    restart_policy: str = ""
    health: str | None = None        # starting | healthy | unhealthy; None without HEALTHCHECK
    failing_streak: int = 0
    health_log: tuple[HealthProbe, ...] = ()
    started_at: float | None = None
    finished_at: float | None = None
    error: str = ""
    memory_limit: int | None = None
    nano_cpus: int | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    stats: DockerStats | None = None


@dataclass(frozen=True)
class EndpointProbe:
    """One GET of a health/readiness URL. `url` is already safe to print (no credentials, no query)."""

    url: str
    status_code: int | None
    latency: float | None
    error: str | None = None
    timed_out: bool = False
    timeout: float = 0.0
    body: Any = None                 # the decoded JSON body, when it was JSON
    text: str = ""                   # the start of a non-JSON body


@dataclass(frozen=True, slots=True)
class Finding:
    """One health check result (CONTRACT.md `triage.health/v1`)."""

    kind: str
    name: str
    namespace: str | None
    check: str
    status: Status
    reason: str | None
    detail: str
    evidence: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "name": self.name,
            "namespace": self.namespace,
            "check": self.check,
            "status": self.status._value_,  # .value without the enum's descriptor (6,000 findings a run)
            "reason": self.reason,
            "detail": self.detail,
        }
        if self.evidence:
            out["evidence"] = list(self.evidence)
        return out


@dataclass(frozen=True)
class Skipped:
    source: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"source": self.source, "reason": self.reason}


@dataclass(frozen=True)
class HealthReport:
    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...] = ()

    @property
    def status(self) -> Status:
        return Status.worst([f.status for f in self.findings])

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "triage.health/v1",
            "status": self.status.value,
            "findings": [f.to_json() for f in self.findings],
            "skipped": [s.to_json() for s in self.skipped],
        }


def builder(cls: type[_T]) -> Callable[..., _T]:
    """`cls(*values)` for one of this module's slotted values, every field given in its order,
    without the dataclass `__init__` (issue 17): the slots are set by their own descriptors where
    `__init__` goes through `object.__setattr__` once a field, in half the time, for the ~20,000
    values a 5,000-pod namespace is read into. No defaults: for the readers that set every field."""
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    if getattr(cls, "__slots__", None) != tuple(names) or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: not a slotted value without __post_init__")
    scope: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    scope.update({f"_set_{name}": getattr(cls, name).__set__ for name in names})
    lines = [f"def build({', '.join(names)}):", "    value = _new(_cls)"]
    lines += [f"    _set_{name}(value, {name})" for name in names]
    exec("\n".join([*lines, "    return value"]), scope)  # noqa: S102 - the source is made of field names
    build: Callable[..., _T] = scope["build"]
    build.__qualname__ = build.__name__ = f"build_{cls.__name__}"
    return build
