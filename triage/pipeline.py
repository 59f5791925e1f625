"""The phases wired together. Sources come in as parameters: nothing here builds a client,
so tests and replays drive the same code with other sources."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

from triage.analysis.detect import (
    DATA_SIGNALS, DETECT_SIGNALS, build_report, callers_of, detect_service,
)
from triage.catalog import Catalog
from triage.config import ServiceConfig, Settings
from triage.errors import SourceError, UsageError
from triage.models import Alert, DetectReport
from triage.signals import (
    Collection, MetricsSource, Windows, alerts_for, alerts_from_series, collect, discover_services, ensure_data,
)

# Live alert APIs only describe "now"; for an older window the ALERTS series is the record.
LIVE_ALERTS_MAX_AGE = 300.0


class AlertSource(Protocol):
    name: str

    def alerts(self) -> list[Alert]: ...


@dataclass(frozen=True)
class Target:
    services: tuple[ServiceConfig, ...]
    fleet: bool


Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def resolve_target(settings: Settings, source: MetricsSource, catalog: Catalog, windows: Windows, *,
                   service: str | None, all_services: bool, namespace: str | None) -> Target:
    if service and all_services:
        raise UsageError("give either --service NAME or --all-services, not both")
    if not service and not all_services:
        raise UsageError("which service? give --service NAME (or --all-services for the fleet)")
    if service:
        return Target(services=(settings.service(service, namespace),), fleet=False)
    found = discover_services(source, settings, windows)
    names = set(settings.services) | set(found)
    if not names:
        raise UsageError("--all-services: no service in the config and none with traffic data in the window")
    services = [settings.service(n, None if n in settings.services else found.get(n)) for n in sorted(names)]
    if namespace:
        services = [s for s in services if s.namespace == namespace]
        if not services:
            raise UsageError(f"--all-services: no service in namespace '{namespace}'")
    return Target(services=tuple(services), fleet=True)


def gather(source: MetricsSource, catalog: Catalog, settings: Settings, target: Target, windows: Windows,
           names: Sequence[str]) -> Collection:
    collection = collect(source, catalog, settings, target.services, windows, names, fleet=target.fleet)
    if collection.errors and not any(collection.signals.values()):
        # Every query failed and nothing answered: the backend is down, not the service quiet.
        raise collection.errors[0]
    if not target.fleet:
        ensure_data(collection, target.services, DATA_SIGNALS)
    return collection


def run_detect(settings: Settings, catalog: Catalog, source: MetricsSource, windows: Windows, target: Target, *,
               alert_sources: Sequence[AlertSource] = (), now: float | None = None,
               progress: Progress = _quiet) -> DetectReport:
    progress(f"querying {len(DETECT_SIGNALS)} signals for {len(target.services)} service(s)")
    collection = gather(source, catalog, settings, target, windows, DETECT_SIGNALS)
    skipped: list[tuple[str, str]] = []
    progress("reading alerts")
    historical: dict[str, list[Alert]] = {}
    try:
        historical = alerts_from_series(source, target.services, windows)
    except SourceError as exc:
        skipped.append(("ALERTS series", exc.message))
    live: list[Alert] = []
    current = time.time() if now is None else now
    if current - windows.end <= LIVE_ALERTS_MAX_AGE:
        for alert_source in alert_sources:
            try:
                live.extend(alert_source.alerts())
            except SourceError as exc:
                skipped.append((alert_source.name, exc.message))
    detections = []
    sets = []
    for svc in target.services:
        sset = collection.signal_set(svc)
        if target.fleet and not sset.signals:
            continue
        merged = _dedupe([*alerts_for(live, svc), *historical.get(svc.name, [])])
        detections.append(detect_service(svc, sset, catalog.signals, merged, callers_of(svc.name, settings.services)))
        sets.append(sset)
    if not sets:
        sets = [collection.signal_set(target.services[0])]
    return build_report(detections, sets, skipped)


def _dedupe(alerts: Sequence[Alert]) -> list[Alert]:
    seen: dict[str, Alert] = {}
    for alert in alerts:
        seen.setdefault(alert.name, alert)
    return list(seen.values())
