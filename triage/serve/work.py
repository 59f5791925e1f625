"""The one place where `serve` calls the phases of `triage run` for one service. Everything the
run needs comes in through `Deps` (built by the CLI, the only place that builds clients), so the
receiver, its tests and a future re-shaping of the pipeline meet at `run_incident` alone."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from triage.catalog import Catalog
from triage.config import Settings
from triage.errors import SourceError, TriageError
from triage.incident import new_record
from triage.models import iso
from triage.pipeline import Target, resolve_target, run_phases
from triage.playbooks import plan_for_record
from triage.signals import Windows, make_windows
from triage.sources.interface import AlertSource

HealthFactory = Callable[[Settings, Windows], "Callable[[Target], dict[str, Any] | None] | None"]


@dataclass(frozen=True)
class Deps:
    settings: Settings
    catalog: Catalog
    # A new metrics source per run: a source's overall deadline (prometheus.deadline) counts from
    # its creation, and a receiver lives for weeks.
    metrics: Callable[[], Any]
    alerts: Callable[[Any], Sequence[AlertSource]]
    health: HealthFactory | None = None
    backend: str = ""


@dataclass(frozen=True)
class RunRequest:
    service: str
    namespace: str | None
    end: float
    window: float
    baseline: float


class _Watched:
    """The metrics source, remembering the first failed query: the phases turn a backend that
    cannot be asked into a failed detect phase, and the receiver must tell that (retry later)
    from a service without data (no retry helps)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.failure: SourceError | None = None

    def query_range_many(self, queries: Sequence[Any]) -> list[Any]:
        answers = self.inner.query_range_many(queries)
        if self.failure is None:
            self.failure = next((a for a in answers if isinstance(a, SourceError)), None)
        return answers

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def windows_for(settings: Settings, request: RunRequest) -> Windows:
    end = datetime.fromtimestamp(int(request.end), tz=timezone.utc)
    return make_windows(end, timedelta(seconds=request.window), timedelta(seconds=request.baseline), settings.step)


def run_incident(deps: Deps, request: RunRequest) -> dict[str, Any]:
    """The record of phases 1-4 for one service, as `triage run --service S --at END` writes it.
    Raises SourceError when the backend cannot be asked (the caller retries)."""
    settings = deps.settings
    windows = windows_for(settings, request)
    raw = deps.metrics()
    source = _Watched(raw)
    try:
        target = resolve_target(settings, source, deps.catalog, windows, service=request.service, all_services=False,
                                namespace=request.namespace)
        health = deps.health(settings, windows) if deps.health else None
        record, _ = run_phases(settings, deps.catalog, source, windows, target, alert_sources=deps.alerts(raw),
                               health=health, playbooks=lambda rca, h: plan_for_record(rca, h, settings),
                               backend=deps.backend)
    except TriageError:
        if source.failure is not None:
            raise source.failure from None
        raise
    finally:
        close = getattr(raw, "close", None)
        if close is not None:
            close()
    return record


def failed_record(deps: Deps, request: RunRequest, reason: str, started: float) -> dict[str, Any]:
    """A record for a run that never got its data (the backend stayed down past the retry
    deadline): the phase that failed and why, so the incident is not silently lost."""
    settings = deps.settings
    windows = windows_for(settings, request)
    service = settings.service(request.service, request.namespace)
    record = new_record(services=[service], window=windows.window.to_json(), baseline=windows.baseline.to_json(),
                        step=windows.step, rate_interval=settings.rate_interval, backend=deps.backend,
                        incident="")
    stamp = iso(datetime.fromtimestamp(started, tz=timezone.utc))
    record["phases"]["detect"] = {"started": stamp, "seconds": round(time.time() - started, 3), "status": "failed",
                                  "reason": reason}
    for name in ("health", "rca", "playbooks"):
        record["phases"][name] = {"status": "skipped", "reason": "detect failed"}
    return record


def verdict(record: Mapping[str, Any]) -> dict[str, Any]:
    """The few facts a message and GET /incidents show: bottleneck, confidence, severity, the
    summary sentence and the top evidence."""
    from triage.postmortem import primary_rca

    rca = primary_rca(record) or {}
    top = (rca.get("candidates") or [{}])[0] or {}
    evidence = [ev for ev in top.get("evidence") or [] if isinstance(ev, dict)][:3]
    failed = [f"{name}: {p.get('reason')}" for name, p in (record.get("phases") or {}).items()
              if p.get("status") == "failed"]
    return {"bottleneck": rca.get("bottleneck"), "confidence": rca.get("confidence"),
            "severity": rca.get("severity"), "summary": rca.get("summary") or (failed[0] if failed else ""),
            "evidence": [{"signal": ev.get("signal"), "summary": ev.get("summary")} for ev in evidence]}
