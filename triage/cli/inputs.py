"""What an analysing command starts from: settings → catalog → windows → source → target → alerts.

Live, they come from the config, the command line and Prometheus; replayed (`--from`), from an
incident record alone. Every command that reads signals gets them here, in the same order, so
the same mistake gets the same message from `detect`, `rca`, `capacity`, `mitigate`, `fix`, `run`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from triage.catalog import Catalog, load_catalog
from triage.cli import clients, console
from triage.cli.values import Backends, Scope
from triage.config import Settings, load_settings
from triage.errors import UsageError
from triage.pipeline import (
    AlertSource,
    Progress,
    Target,
    quiet,
    resolve_target,
)
from triage.signals import (
    FLEET_POINTS,
    TARGET_POINTS,
    MetricsSource,
    Windows,
    make_windows,
)
from triage.timeutil import parse_duration, window_span

DEFAULT_WINDOW = "15m"


@dataclass(frozen=True)
class Inputs:
    """Everything a phase reads; `now` is the record's time when replayed (None: the clock)."""

    settings: Settings
    catalog: Catalog
    windows: Windows
    target: Target
    source: MetricsSource
    alerts: Sequence[AlertSource]
    now: float | None = None
    progress: Progress = quiet


def settings_from(backends: Backends, *, replayed: bool = False) -> Settings:
    """A replay asks no Prometheus: its URL (and any mistake in it) is not read."""
    return load_settings(config=backends.config, prometheus_url=None if replayed else backends.prometheus_url,
                         alertmanager_url=backends.alertmanager_url)


def windows_from(settings: Settings, at: str | None, window: str | None, baseline: str, *, fleet: bool = False,
                 since: str | None = None, until: str | None = None) -> Windows:
    end, win = window_span(at, window or DEFAULT_WINDOW, since, until, window_given=window is not None)
    base = parse_duration(baseline, what="--baseline")
    # A window (or window + baseline) that starts before 1970 has no data and no date to ask for
    # (3000y is an OverflowError in datetime arithmetic).
    since_epoch = end.timestamp()
    if win.total_seconds() >= since_epoch:
        flag, text = ("--since", since) if since is not None else ("--window", window or DEFAULT_WINDOW)
        raise UsageError(f"{flag}: {text!r} before {end:%Y-%m-%dT%H:%M:%SZ} starts before 1970")
    if (win + base).total_seconds() >= since_epoch:
        raise UsageError(f"--baseline: {baseline!r} before the window starts before 1970")
    return make_windows(end, win, base, settings.step, points=FLEET_POINTS if fleet else TARGET_POINTS)


def replayed(path: str, settings: Settings, catalog: Catalog, service: str | None) -> Inputs:
    """Inputs of a replayed command: everything from the record, nothing from the network."""
    from triage.incident import load
    from triage.pipeline import replay_inputs

    record = load(Path(path))
    replay_settings, windows, target, source, alerts, now = replay_inputs(record, settings)
    if service:
        chosen = tuple(s for s in target.services if s.name == service)
        if not chosen:
            names = ", ".join(s.name for s in target.services)
            raise UsageError(f"service '{service}' is not in the incident record (it has: {names})")
    return Inputs(replay_settings, catalog, windows, target, source, alerts, now)


@contextmanager
def live(settings: Settings, catalog: Catalog, scope: Scope, backends: Backends, *,
         show_progress: bool) -> Iterator[Inputs]:
    """Live inputs, with the spinner on while the target is resolved and the caller's phases run."""
    windows = windows_from(settings, scope.at, scope.window, scope.baseline, fleet=scope.all_services,
                           since=scope.since, until=scope.until)
    source = clients.prometheus(settings, backends.max_concurrency)
    with console.progress(show_progress) as progress:
        answered = getattr(progress, "answered", None)
        if answered is not None and hasattr(source, "on_answer"):
            source.on_answer = answered
        target = resolve_target(settings, source, catalog, windows, service=scope.service,
                                all_services=scope.all_services, namespace=scope.namespace)
        yield Inputs(settings, catalog, windows, target, source, clients.alert_sources(settings, source),
                     progress=progress)


@contextmanager
def analysis(scope: Scope, backends: Backends, from_record: str | None, *, show_progress: bool) -> Iterator[Inputs]:
    """Live or replayed, as `--from` says: the block every signal-reading command starts with."""
    settings = settings_from(backends, replayed=bool(from_record))
    catalog = load_catalog(settings.queries_dirs)
    if from_record:
        yield replayed(from_record, settings, catalog, scope.service)
        return
    with live(settings, catalog, scope, backends, show_progress=show_progress) as inputs:
        yield inputs
