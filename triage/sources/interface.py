"""What the core asks of each backend: the Protocols the sources implement.

Analysis, health checks and playbooks take these as parameters and never build a client
(only `triage/cli/` does), so a replay, a recording or a test's fake stands in for a live
backend unchanged, and a new backend is one module with these methods. A failure is
said in the return value, as a `SourceError` or (for `--apply`) an `ActionFailed`, never
as an SDK's exception.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from triage.errors import SourceError
from triage.models import Alert

if TYPE_CHECKING:  # the health and signal values are imported only by the passes that read them
    from triage.models import RangeQuery, Series
    from triage.models.health import (
        Deployment,
        DockerContainer,
        EndpointProbe,
        KubeSnapshot,
        LogRequest,
        LogText,
    )


class MetricsSource(Protocol):
    """Prometheus, VictoriaMetrics, or a recorded snapshot of either: one answer (or error) per query."""

    name: str

    def query_range_many(self, queries: Sequence[RangeQuery]) -> list[list[Series] | SourceError]: ...


class StreamingMetricsSource(MetricsSource, Protocol):
    """A source that also gives each answer as it arrives, `(index in queries, answer)`: the
    Prometheus source does, so a fleet's pass judges one signal while the others are still out.
    Only a source whose class defines it is asked so (a wrapper that keeps answers does not)."""

    def query_range_each(self, queries: Sequence[RangeQuery]) -> Iterable[tuple[int, list[Series] | SourceError]]: ...


class AlertSource(Protocol):
    """Alertmanager's (or Prometheus') alerts as they stand now."""

    name: str

    def alerts(self) -> list[Alert]: ...


class KubeSource(Protocol):
    def default_namespace(self) -> str: ...

    def snapshot(self, namespaces: Sequence[str] | None, *,
                 pod_selectors: Callable[[str, Sequence[Deployment]], Sequence[str]] | None = None,
                 nodes: bool = True) -> KubeSnapshot: ...

    def logs(self, requests: Sequence[LogRequest]) -> list[LogText]: ...


class DockerSource(Protocol):
    def containers(self, select: Callable[[str, Mapping[str, str]], bool] | None = None) -> list[DockerContainer]: ...

    def logs(self, requests: Sequence[LogRequest]) -> list[LogText]: ...


class HttpProber(Protocol):
    def probe(self, urls: Sequence[str]) -> list[EndpointProbe]: ...


class ActionFailed(Exception):
    """An `--apply` action that did not happen, or may have: `result` is the record's line for it
    (`failed: …`, `refused: …`), `before` what was read before the change, when anything was.
    The runner turns it into the record; it never reaches the CLI."""

    def __init__(self, result: str, before: Any = None) -> None:
        super().__init__(result)
        self.result = result
        self.before = before
