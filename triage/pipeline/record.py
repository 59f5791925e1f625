"""Phases 1 → 4 in order, into one incident record.

Health checks and playbooks come in as callables so this module stays free of their
clients; a phase that cannot run is recorded as skipped with its reason.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

from triage.analysis.rca import RcaResult
from triage.catalog import Catalog
from triage.config import Settings
from triage.errors import TriageError
from triage.incident import incident_id, new_record
from triage.models import Alert, iso
from triage.pipeline.alert_events import read_alert_events
from triage.pipeline.documents import analysis_document
from triage.pipeline.phases import (
    Progress,
    Target,
    quiet,
    run_detect,
    run_rca,
)
from triage.signals import Windows
from triage.sources.interface import AlertSource
from triage.sources.snapshot import RecordingSource

CHART_POINTS = 60
CHART_SIGNALS = ("rps", "latency_p95", "error_ratio")
TIMELINE_SIGNALS = ("deploys", "replicas")

HealthRunner = Callable[[Target], "dict[str, Any] | None"]
PlaybookRunner = Callable[["dict[str, Any]", "dict[str, Any] | None"], "dict[str, Any] | None"]


class _RecordingAlerts:
    def __init__(self, inner: AlertSource, sink: list[dict[str, Any]]) -> None:
        self.inner = inner
        self.name = inner.name
        self.sink = sink

    def alerts(self) -> list[Alert]:
        found = self.inner.alerts()
        self.sink.extend(a.to_json() for a in found)
        return found


def _downsample(points: Sequence[tuple[float, float]], n: int = CHART_POINTS) -> list[list[float | None]]:
    clean = [(t, v) for t, v in points]
    if len(clean) > n:
        stride = math.ceil(len(clean) / n)
        clean = clean[::stride]
    return [[t, v if math.isfinite(v) else None] for t, v in clean]


def chart_series(results: Sequence[RcaResult]) -> dict[str, dict[str, Any]]:
    """Golden signals and the bottleneck's own signal, per service, for the post-mortem charts."""
    out: dict[str, dict[str, Any]] = {}
    for r in results:
        names = list(CHART_SIGNALS) + list(TIMELINE_SIGNALS)
        for cand in r.verdict.candidates[:1]:
            for ev in cand.evidence:
                if ev.get("signal") and ev["signal"] not in names:
                    names.append(ev["signal"])
                    break
        per = {}
        for name in names:
            lv = r.verdict.levels.get(name)
            if lv is not None:
                per[name] = {"unit": lv.unit, "query": lv.query, "points": _downsample(lv.series.points)}
        out[r.service.name] = per
    return out


def run_phases(settings: Settings, catalog: Catalog, source: Any, windows: Windows, target: Target, *,
               alert_sources: Sequence[AlertSource] = (), health: HealthRunner | None = None,
               playbooks: PlaybookRunner | None = None, now: float | None = None,
               progress: Progress = quiet, backend: str = "") -> tuple[dict[str, Any], list[RcaResult]]:
    recorder = RecordingSource(source)
    live: list[dict[str, Any]] = []
    recorded_alerts = [_RecordingAlerts(a, live) for a in alert_sources]
    record = new_record(
        services=target.services, window=windows.window.to_json(), baseline=windows.baseline.to_json(),
        step=windows.step, rate_interval=settings.rate_interval, backend=backend,
        incident=incident_id([s.name for s in target.services], iso(windows.window.end)),
    )
    record["fleet"] = target.fleet
    record["signal_overrides"] = {k: list(v) for k, v in settings.signals.items()}

    def phase(name: str, fn: Callable[[], Any]) -> Any:
        started = time.time()
        progress(f"phase {name}")
        try:
            value = fn()
            record["phases"][name] = {"started": _stamp(started), "seconds": round(time.time() - started, 3),
                                      "status": "done"}
            return value
        except TriageError as exc:
            record["phases"][name] = {"started": _stamp(started), "seconds": round(time.time() - started, 3),
                                      "status": "skipped", "reason": exc.message}
            return None

    report = phase("detect", lambda: run_detect(settings, catalog, recorder, windows, target,
                                                alert_sources=recorded_alerts, now=now, progress=progress))
    if report is None:
        raise TriageError(record["phases"]["detect"]["reason"])
    record["detect"] = report.to_json()
    events = read_alert_events(source, target.services, windows, recorder.entries)
    if events is not None:
        record["alert_events"] = events
    record["health"] = phase("health", lambda: health(target)) if health else None
    if health is None:
        record["phases"]["health"] = {"status": "skipped", "reason": "health checks are not available"}
    rca = phase("rca", lambda: run_rca(settings, catalog, recorder, windows, target, now=now, progress=progress))
    results: list[RcaResult] = rca[0] if rca else []
    record["rca"] = analysis_document(results, settings.services, windows, target.fleet) if results else None
    if playbooks is not None and record["rca"] is not None:
        record["playbooks"] = phase("playbooks", lambda: playbooks(record["rca"], record["health"]))
    else:
        record["phases"]["playbooks"] = {"status": "skipped", "reason": "playbooks are not available"}
    record["queries"] = recorder.entries
    record["live_alerts"] = live
    record["series"] = chart_series(results)
    return record, results


def _stamp(ts: float) -> str:
    return iso(datetime.fromtimestamp(ts, tz=timezone.utc))
