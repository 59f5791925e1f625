"""Phases 1 and 3 (detect, rca) on a target. Sources come in as parameters: nothing here builds
a client, so tests and replays drive the same code with other sources."""

from __future__ import annotations

import importlib
import math
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from triage.alertseries import alerts_for, alerts_from_series, alerts_query
from triage.catalog import Catalog
from triage.config import ServiceConfig, Settings
from triage.errors import SourceError, UsageError
from triage.models import Alert, DetectReport, RangeQuery, SignalSeries
from triage.signals import (
    Collection,
    Windows,
    collect,
    discover_services,
    ensure_data,
    ensure_decided,
    render_override,
)
from triage.sources.interface import AlertSource, MetricsSource

if TYPE_CHECKING:
    from triage.analysis.early import Early
    from triage.analysis.rca import InvariantResult, RcaResult

# What an rca pass runs once its answers are in: imported on a thread while the first waves of
# requests are out (the main thread only waits for them then), not before the first request
# (~25 ms of a one-service `rca`'s ~60 ms of imports; issue 17). `detect` needs its module's
# signal names before it asks, so it imports them first.
RCA_AHEAD = ("triage.analysis.rca", "triage.pipeline.documents")

# Live alert APIs only describe "now"; for an older window the ALERTS series is the record.
LIVE_ALERTS_MAX_AGE = 300.0
# A fleet's freed series are given back to the system every this many services judged.
TRIM_EVERY = 500


@dataclass(frozen=True)
class Target:
    """The services a pass reads, and whether it is the fleet (`--all-services`)."""

    services: tuple[ServiceConfig, ...]
    fleet: bool


Progress = Callable[[str], None]


def quiet(_: str) -> None:
    return None


def resolve_target(settings: Settings, source: MetricsSource, catalog: Catalog, windows: Windows, *,
                   service: str | None, all_services: bool, namespace: str | None) -> Target:
    if service and all_services:
        raise UsageError("give either --service NAME or --all-services, not both")
    if not service and not all_services:
        raise UsageError("which service? give --service NAME (or --all-services for the fleet)")
    if service:
        if namespace is None and service not in settings.services:
            # Not configured: learn its namespace from its own metrics rather than assume `default`.
            found = discover_services(source, settings, windows, only=service)
            namespace = found.get(service)
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


def import_ahead(modules: Sequence[str]) -> threading.Thread | None:
    """`modules` imported on a daemon thread, for a caller about to wait on the network; None when
    they all are already. Python's import lock makes a later `import` of one wait for this
    thread's, and a failure here is left for that import to raise."""
    todo = [m for m in modules if m not in sys.modules]
    if not todo:
        return None

    def run() -> None:
        for module in todo:
            try:
                importlib.import_module(module)
            except Exception:  # noqa: BLE001, S110 - the caller's own import says it
                pass

    thread = threading.Thread(target=run, name="triage-import-ahead", daemon=True)
    thread.start()
    return thread


def gather(source: MetricsSource, catalog: Catalog, settings: Settings, target: Target, windows: Windows,
           names: Sequence[str], data: Sequence[str] | None = None, ahead: Sequence[str] = (),
           on_series: Callable[[Sequence[SignalSeries]], None] | None = None) -> Collection:
    """The signals `names` of the target's services (and the ALERTS series); `data` (default
    detect's DATA_SIGNALS) must have answered for a single service. `ahead`: modules imported
    while the requests are out (see import_ahead); `on_series`: told each answer's series (collect)."""
    if target.fleet:  # recorded series (`triage rules`) first, where they hold the whole pass
        from triage.pipeline.heap import fleet_heap
        from triage.recording.present import prefer_recorded

        fleet_heap()
        catalog = prefer_recorded(source, catalog, settings.rate_interval, windows.start, windows.end, windows.step)
    import_ahead(ahead)
    collection = collect(source, catalog, settings, target.services, windows, names, fleet=target.fleet,
                         also=(alerts_query(windows),), on_series=on_series)
    if collection.errors and not any(collection.signals.values()):
        # Every query failed and nothing answered: the backend is down, not the service quiet.
        raise collection.errors[0]
    if data is None:
        from triage.analysis.detect import DATA_SIGNALS as data
    if not target.fleet and data:
        ensure_data(collection, target.services, data)
    return collection


def _without_users(collection: Collection, services: Sequence[ServiceConfig]) -> list[ServiceConfig]:
    """The services whose user-facing signals all answered with no series (none failed)."""
    from triage.analysis.detect import REQUIRED_ANY

    return [s for s in services if all(n not in collection.signals.get(s.name, {})
                                       and n not in collection.failed.get(s.name, {}) for n in REQUIRED_ANY)]


def _add_database_signals(collection: Collection, source: MetricsSource, catalog: Catalog, settings: Settings,
                          services: Sequence[ServiceConfig], fleet: bool, windows: Windows,
                          names: Sequence[str]) -> None:
    """The database signals of these services, into the collection (their failures too)."""
    more = collect(source, catalog, settings, services, windows, names, fleet=fleet)
    for svc in services:
        for attr in ("signals", "missing", "failed"):
            got = getattr(more, attr).get(svc.name)
            if got:
                getattr(collection, attr).setdefault(svc.name, {}).update(got)
    collection.queries.extend(more.queries)
    collection.errors.extend(more.errors)


def _alerts(source: MetricsSource, target: Target, windows: Windows, alert_sources: Sequence[AlertSource],
            now: float | None) -> tuple[dict[str, list[Alert]], list[Alert], list[tuple[str, str]]]:
    """Alerts of the window from the ALERTS series; the live APIs too when the window is now."""
    skipped: list[tuple[str, str]] = []
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
    return historical, live, skipped


def run_detect(settings: Settings, catalog: Catalog, source: MetricsSource, windows: Windows, target: Target, *,
               alert_sources: Sequence[AlertSource] = (), now: float | None = None,
               progress: Progress = quiet) -> DetectReport:
    from triage.analysis import slo
    from triage.analysis.detect import (
        DATA_SIGNALS,
        DB_FALLBACK_SIGNALS,
        DETECT_SIGNALS,
        REQUIRED_ANY,
        build_report,
        callers_of,
        detect_service,
    )

    progress(f"querying {len(DETECT_SIGNALS)} signals for {len(target.services)} service(s)")
    early = _early(catalog, windows, target, levels=False)
    collection = gather(source, catalog, settings, target, windows, DETECT_SIGNALS, data=(), on_series=early)
    ensure_decided(collection, target.services, REQUIRED_ANY)
    fallback = [n for n in DB_FALLBACK_SIGNALS if n in catalog.signals]
    lacking = _without_users(collection, target.services) if fallback else []
    if lacking:
        # No user-facing signal answered (a Prometheus of database exporters only): judge from the
        # database signals the backend has rather than give up.
        progress(f"no user-facing signal answered for {len(lacking)} service(s); querying the database signals")
        _add_database_signals(collection, source, catalog, settings, lacking, target.fleet, windows, fallback)
        ensure_decided(collection, lacking, fallback)   # now they decide: a failed one calls nobody ok
    if not target.fleet:
        ensure_data(collection, target.services, [*DATA_SIGNALS, *fallback])
    progress("reading alerts")
    historical, live, skipped = _alerts(source, target, windows, alert_sources, now)
    slos = slo.evaluate(source, catalog, settings, target.services, windows)
    detections = []
    sets = []
    for svc in target.services:
        sset = collection.signal_set(svc)
        if target.fleet and not sset.signals:
            continue
        merged = _dedupe([*alerts_for(live, svc), *historical.get(svc.name, [])])
        judged = early.verdicts_for(sset) if early is not None else None
        detections.append(slo.apply(detect_service(svc, sset, catalog.signals, merged,
                                                   callers_of(svc.name, settings.services), judged=judged),
                                    slos.get(svc.name)))
        sets.append(sset)
    if not sets:
        sets = [collection.signal_set(target.services[0])]
    return build_report(detections, sets, skipped)


def run_rca(settings: Settings, catalog: Catalog, source: MetricsSource, windows: Windows, target: Target, *,
            alert_sources: Sequence[AlertSource] = (), now: float | None = None,
            progress: Progress = quiet) -> tuple[list[RcaResult], list[tuple[str, str]]]:
    names = list(catalog.signals)
    progress(f"querying {len(names)} signals for {len(target.services)} service(s)")
    early = _early(catalog, windows, target, levels=True)
    collection = gather(source, catalog, settings, target, windows, names, ahead=RCA_AHEAD, on_series=early)
    from triage.analysis.detect import callers_of
    from triage.analysis.rca import rca_service
    from triage.pipeline.heap import trim

    progress("reading alerts")
    historical, live, skipped = _alerts(source, target, windows, alert_sources, now)
    progress("checking invariants")
    results = []
    for i, svc in enumerate(target.services):
        sset = collection.signal_set(svc)
        # The collection's own hold on a service's series goes once it is judged (its levels keep
        # the series they read), and the heap's freed pages go back every TRIM_EVERY services.
        collection.signals.pop(svc.name, None)
        collection.missing.pop(svc.name, None)
        if target.fleet and i % TRIM_EVERY == TRIM_EVERY - 1:
            trim()
        if target.fleet and not sset.signals:
            continue
        merged = _dedupe([*alerts_for(live, svc), *historical.get(svc.name, [])])
        invariants = check_invariants(source, settings, svc, windows)
        levels = early.levels_for(sset) if early is not None else None
        results.append(rca_service(svc, sset, catalog.signals, merged, callers_of(svc.name, settings.services),
                                   invariants, levels, early.verdicts_for(sset) if early and levels else None))
    return results, skipped


def _early(catalog: Catalog, windows: Windows, target: Target, *, levels: bool) -> Early | None:
    """A fleet's signals judged as each answer arrives (triage.analysis.early), or None."""
    if not target.fleet:
        return None
    from triage.analysis.early import Early

    return Early(catalog.signals, windows.window, windows.baseline, levels=levels)


def check_invariants(source: MetricsSource, settings: Settings, service: ServiceConfig,
                     windows: Windows) -> list[InvariantResult]:
    """Business rules from the config (e.g. `min(tickets_remaining) >= 0`, seed 001's overselling)."""
    from triage.analysis.rca import InvariantResult

    if not service.invariants:
        return []
    queries = [render_override(inv["query"], service, f"invariant {inv['name']}", settings)
               for inv in service.invariants]
    answers = source.query_range_many([RangeQuery(q, windows.window.start.timestamp(), windows.end, windows.step)
                                       for q in queries])
    out = []
    for inv, query, answer in zip(service.invariants, queries, answers):
        low, high = inv.get("min"), inv.get("max")
        if isinstance(answer, SourceError):
            out.append(InvariantResult(inv["name"], query, low, high, None, None, False, answer.message))
            continue
        values = [v for s in answer for _, v in s.points if math.isfinite(v)]
        if not values:
            out.append(InvariantResult(inv["name"], query, low, high, None, None, False, "no data"))
            continue
        lo, hi = min(values), max(values)
        violated = (low is not None and lo < low) or (high is not None and hi > high)
        out.append(InvariantResult(inv["name"], query, low, high, lo, hi, violated))
    return out


def _dedupe(alerts: Sequence[Alert]) -> list[Alert]:
    seen: dict[str, Alert] = {}
    for alert in alerts:
        seen.setdefault(alert.name, alert)
    return list(seen.values())
