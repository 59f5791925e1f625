"""Catalog + metrics source → named signal series per service, for baseline and window.

Built-in queries are fleet queries: one query per signal answers for every service (the
result is grouped by a key label). Alternatives are tried in rounds, only for the
services the previous alternative left without data, so the number of queries depends
on the number of signals, not of services. Per-service overrides from the config are
single-service queries and run per service. A one-service pass sends all the alternatives left
after its first round in one wave and takes the same ones the rounds would have.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from triage.batch import BATCH_LABEL, BATCH_SIZE, Arriving, batch_size_for, run_batched
from triage.catalog import Catalog
from triage.config import ServiceConfig, Settings, config_line
from triage.discovery import discover_services
from triage.ensure import ensure_data, ensure_decided
from triage.errors import ConfigError, SourceError, UsageError
from triage.models import (
    RangeQuery,
    Series,
    SignalSeries,
    SignalSet,
    TimeRange,
)
from triage.promql import alternation, escape_label_value, render
from triage.series_match import edges_of, found_by_service, merge_max
from triage.sources.interface import MetricsSource
from triage.timeutil import parse_duration

# and what is defined here
__all__ = ["BATCH_LABEL", "BATCH_SIZE", "batch_size_for", "discover_services", "ensure_data", "ensure_decided",
           "run_batched"]

MAX_POINTS = 11000
MIN_STEP = 15.0
TARGET_POINTS = 300
# A fleet pass reads every service at once: half the resolution halves what crosses the wire.
FLEET_POINTS = 150


@dataclass(frozen=True)
class Windows:
    """The incident window, the baseline before it and the step both are read at."""

    window: TimeRange
    baseline: TimeRange
    step: float

    @property
    def start(self) -> float:
        return self.baseline.start.timestamp()

    @property
    def end(self) -> float:
        return self.window.end.timestamp()


def make_windows(at: datetime, window: timedelta, baseline: timedelta, step: float | None = None, *,
                 points: int = TARGET_POINTS) -> Windows:
    """The incident window ending at `at`, and the baseline just before it."""
    win = TimeRange(at - window, at)
    base = TimeRange(at - window - baseline, at - window)
    span = (window + baseline).total_seconds()
    chosen = step if step else max(MIN_STEP, math.ceil(span / points / 5) * 5)
    if span / chosen > MAX_POINTS:
        raise UsageError(
            f"window + baseline of {span:g}s at a {chosen:g}s step is more than {MAX_POINTS} points; "
            "shorten them or raise prometheus.step"
        )
    return Windows(window=win, baseline=base, step=float(chosen))


@dataclass
class _Job:
    """One query of a collection round: a signal's alternative for some services."""

    signal: str
    alternative: int
    query: str
    key: str | None
    services: tuple[ServiceConfig, ...]
    override: bool = False
    made: dict[str, SignalSeries] | None = None     # its services' series, made as its answer arrived


@dataclass
class Collection:
    """Everything one collection pass learnt, per service."""

    windows: Windows
    signals: dict[str, dict[str, SignalSeries]] = field(default_factory=dict)
    missing: dict[str, dict[str, str]] = field(default_factory=dict)
    queries: list[dict] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)
    # service -> signal -> the error of the last query that failed for it, when no alternative answered
    failed: dict[str, dict[str, SourceError]] = field(default_factory=dict)

    def signal_set(self, service: ServiceConfig) -> SignalSet:
        return SignalSet(
            service=service.name,
            namespace=service.namespace,
            window=self.windows.window,
            baseline=self.windows.baseline,
            signals=dict(self.signals.get(service.name, {})),
            missing=dict(self.missing.get(service.name, {})),
        )


def placeholders(services: Sequence[ServiceConfig], rate: str, fleet: bool) -> dict[str, str]:
    def alt(key: str) -> str:
        return ".+" if fleet else alternation(s.selector(key) for s in services)

    return {
        "service_re": alt("service"),
        "container_re": alt("container"),
        "deployment_re": alt("deployment"),
        "hpa_re": alt("horizontalpodautoscaler"),
        "database_re": alt("datname"),
        "namespace_re": ".+" if fleet else alternation(s.namespace for s in services),
        "rate": rate,
    }


def _override_values(service: ServiceConfig, rate: str) -> dict[str, str]:
    return {
        "service": escape_label_value(service.name),
        "namespace": escape_label_value(service.namespace),
        "database": escape_label_value(service.database or service.name),
        "container": escape_label_value(service.selector("container")),
        "deployment": escape_label_value(service.selector("deployment")),
        "rate": rate,
    }


def collect(source: MetricsSource, catalog: Catalog, settings: Settings, services: Sequence[ServiceConfig],
            windows: Windows, names: Sequence[str], *, fleet: bool = False, also: Sequence[RangeQuery] = (),
            on_series: Callable[[Sequence[SignalSeries]], None] | None = None) -> Collection:
    """Fetch `names` for `services`; a signal nobody answers becomes missing with its reason.

    Each round asks, per signal, every service still without data for its next alternative
    (built-in alternatives batched over the services, a user's override one per service),
    until every service has data or has run out of alternatives. `also` (the ALERTS read) is sent
    with the first round, so a source that keeps answers has it without a second wave. A fleet's
    first round is read as each answer arrives; `on_series` is told each answer's series when made."""
    parse_duration(settings.rate_interval, what="rate interval")
    run = _Collect(catalog, settings, Collection(windows=windows), fleet, on_series)
    run.overridden = frozenset(name for svc in services for name in svc.signals)
    if fleet:
        _backend(source, "expect_services", len(services))
    pending: dict[str, list[ServiceConfig]] = {name: list(services) for name in names}
    # One service or a fleet: after the first round, every alternative left to the signals still
    # without data goes out in one wave, and the rounds below read their answers from it: the same
    # alternatives taken, in the same order, as if each round had been sent in turn. One service's
    # are scoped to it (few and cheap); a fleet's are whole-fleet queries whose text does not name
    # the services, so the round that would ask one for fewer services asks the same query (issue
    # 17: four round trips after the signal wave became one). Several named services keep their
    # rounds: each round's query names the services the previous one left without data.
    ahead = fleet or len(services) == 1
    early: dict[str, list[Series] | SourceError] = {}
    while pending:
        jobs = run.jobs(pending)
        if not jobs:
            break
        if also:
            _backend(source, "send_with_next", also)
            also = ()
        if all(j.query in early for j in jobs):
            answers = [early[j.query] for j in jobs]
        elif fleet:     # one query a request: each answer's series made while the others are out
            answers = run.arriving(source, jobs, windows)
        else:
            answers = run_batched(source, [j.query for j in jobs], windows,
                                  1 if fleet else batch_size_for(len(services)))
        still: dict[str, list[ServiceConfig]] = {}
        for job, answer in zip(jobs, answers):
            for svc in run.take(job, answer):
                run.next_alt[(job.signal, svc.name)] = job.alternative + 1
                still.setdefault(job.signal, []).append(svc)
        pending = still
        if ahead and pending:
            early, ahead = _ahead(source, run, pending, windows, 1 if fleet else None), False
            early.update(run.asked)
    _missing_of(run, names, services)
    return run.result


def _missing_of(run: _Collect, names: Sequence[str], services: Sequence[ServiceConfig]) -> None:
    """Each signal nobody answered for a service, with its reason (and its error, when it failed)."""
    reasons: dict[str, str] = {}
    got, missing = run.result.signals, run.result.missing
    failed = {name for name, _ in run.failures}
    for name in names:
        if name not in failed and run.nobody_overrides(name):
            # no override and no failure: the same reason for every service without it
            reason = ""
            for svc in services:
                if name not in got.get(svc.name, {}):
                    if not reason:
                        said = run.missing_reason(name, svc)
                        reason = reasons.setdefault(said, said)
                    missing.setdefault(svc.name, {})[name] = reason
            continue
        for svc in services:
            if name not in got.get(svc.name, {}):
                reason = run.missing_reason(name, svc)
                # one string for each distinct reason: 10,000 services share a handful
                missing.setdefault(svc.name, {})[name] = reasons.setdefault(reason, reason)
                if (name, svc.name) in run.errors:
                    run.result.failed.setdefault(svc.name, {})[name] = run.errors[(name, svc.name)]


def _ahead(source: MetricsSource, run: _Collect, pending: Mapping[str, Sequence[ServiceConfig]],
           windows: Windows, batch: int | None = None) -> dict[str, list[Series] | SourceError]:
    """Every query the next rounds could ask for the services in `pending`, sent at once, their
    answers by query. Each round's alternatives (the next, the one after, …) are batched apart:
    the next round's requests are exactly those it would send on its own."""
    queries: dict[str, None] = {}
    groups: list[int] = []
    step = 0
    while True:
        jobs = run.jobs(pending, ahead=step)
        if not jobs:
            break
        before = len(queries)
        queries.update((j.query, None) for j in jobs if j.query not in run.asked)   # not those asked already
        groups.append(len(queries) - before)
        step += 1
    order = list(queries)
    if batch is None:
        batch = batch_size_for(len({s.name for group in pending.values() for s in group}))
    return dict(zip(order, run_batched(source, order, windows, batch, groups=groups)))


def _backend(source: object, method: str, arg: object) -> None:
    """Tell the backend itself (under any recording wrapper) what the pass is about to ask: how many
    services each query answers for, or queries to send in the same wave as the next ones (whose
    answers it keeps until they are asked, so a recording sees them where it always did)."""
    while not hasattr(source, method) and hasattr(source, "inner"):
        source = source.inner
    fn = getattr(source, method, None)
    if callable(fn):
        fn(arg)


class _Collect:
    """The state of one `collect`: which alternative each (signal, service) is at, what failed."""

    def __init__(self, catalog: Catalog, settings: Settings, result: Collection, fleet: bool,
                 on_series: Callable[[Sequence[SignalSeries]], None] | None = None) -> None:
        self.catalog, self.settings, self.result, self.fleet = catalog, settings, result, fleet
        self.on_series = on_series
        self.asked: dict[str, list[Series] | SourceError] = {}     # a fleet's alternatives asked early
        self.next_alt: dict[tuple[str, str], int] = {}
        self.failures: dict[tuple[str, str], list[str]] = {}
        self.errors: dict[tuple[str, str], SourceError] = {}
        # Each service's overrides, merged once a pass (every round asks them for every signal).
        self._overrides: dict[str, dict[str, tuple[str, ...]]] = {}
        self._reasons: dict[str, str] = {}
        self.overridden: frozenset[str] = frozenset()    # the signals some service of the pass overrides

    def nobody_overrides(self, name: str) -> bool:
        return not self.settings.signals.get(name) and name not in self.overridden

    def overrides(self, svc: ServiceConfig) -> dict[str, tuple[str, ...]]:
        got = self._overrides.get(svc.name)
        if got is None:
            got = self._overrides[svc.name] = self.settings.signal_overrides(svc)
        return got

    def jobs(self, pending: Mapping[str, Sequence[ServiceConfig]], ahead: int = 0) -> list[_Job]:
        """The next round's queries; with `ahead`, those of the round that many after it."""
        jobs: list[_Job] = []
        for name, waiting in pending.items():
            spec = self.catalog.spec(name)
            builtin: dict[int, list[ServiceConfig]] = {}
            if self.nobody_overrides(name) or (not self.settings.signals.get(name)
                                               and not any(name in svc.signals for svc in waiting)):
                # Nobody overrides this signal (a fleet of 10,000 services, mostly): each service
                # is at its next built-in alternative, and that is all there is to look up.
                last, nxt = len(spec.alternatives), self.next_alt
                for svc in waiting:
                    idx = nxt.get((name, svc.name), 0) + ahead
                    if idx < last:
                        builtin.setdefault(idx, []).append(svc)
                waiting = ()
            for svc in waiting:
                overrides = self.overrides(svc).get(name)
                idx = self.next_alt.get((name, svc.name), 0) + ahead
                if overrides:
                    if idx < len(overrides):
                        query = render_override(overrides[idx], svc, name, self.settings)
                        jobs.append(_Job(name, idx, query, None, (svc,), override=True))
                elif idx < len(spec.alternatives):
                    builtin.setdefault(idx, []).append(svc)
            for idx, group in builtin.items():
                alt = spec.alternatives[idx]
                query = render(alt.query, placeholders(group, self.settings.rate_interval, self.fleet))
                jobs.append(_Job(name, idx, query, alt.key, tuple(group)))
        return jobs

    def later(self, job: _Job) -> list[str]:
        """The alternatives after `job`'s of a signal nobody overrides, as `jobs` renders them."""
        name = job.signal
        if self.settings.signals.get(name) or any(name in svc.signals for svc in job.services):
            return []
        holes = placeholders(job.services, self.settings.rate_interval, self.fleet)
        return [render(alt.query, holes) for alt in self.catalog.spec(name).alternatives[job.alternative + 1:]]

    def take(self, job: _Job, answer: list[Series] | SourceError) -> list[ServiceConfig]:
        """Record one answer; return the services it left without data (they try the next alternative)."""
        self.result.queries.append({"signal": job.signal, "alternative": job.alternative, "query": job.query,
                                    "ok": not isinstance(answer, SourceError)})
        if isinstance(answer, SourceError):
            self.result.errors.append(answer)
            own = SourceError(answer.message, backend=answer.backend, query=job.query, detail=answer.detail,
                              transient=answer.transient, fatal=answer.fatal)    # the signal's query, not its batch's
            if job.override and answer.detail and answer.detail.startswith("HTTP 4"):
                raise self._bad_override(job, answer)
            for svc in job.services:
                self.failures.setdefault((job.signal, svc.name), []).append(answer.message)
                self.errors[(job.signal, svc.name)] = own
            return list(job.services)
        made = job.made if job.made is not None else self.series_of(job, answer)
        job.made = None
        left = []
        for svc in job.services:
            got = made.get(svc.name)
            if got is not None:
                self.result.signals.setdefault(svc.name, {})[job.signal] = got
            else:
                left.append(svc)
        return left

    def series_of(self, job: _Job, answer: Sequence[Series]) -> dict[str, SignalSeries]:
        """The series one answer gives its job's services (told to `on_series`), by service."""
        found = found_by_service(job, answer)
        made = {}
        for svc in job.services:
            if svc.name in found:
                spec = self.catalog.spec(job.signal)
                made[svc.name] = SignalSeries(name=job.signal, service=svc.name, unit=spec.unit, query=job.query,
                                              alternative=job.alternative, points=merge_max(found[svc.name]),
                                              edges=edges_of(found[svc.name]))
        if made and self.on_series is not None:
            self.on_series(list(made.values()))
        return made

    def arriving(self, source: MetricsSource, jobs: Sequence[_Job],
                 windows: Windows) -> list[list[Series] | SourceError]:
        """One round's answers in the jobs' order; each answer's series made as it arrives. On the
        first round, the later alternatives of a signal nobody overrides are asked in the same
        wave as soon as its answer leaves services without data: the queries `_ahead` sends (a
        fleet's do not name the services), now not after the last answer."""
        answers: list[list[Series] | SourceError] = [[] for _ in jobs]
        wave = Arriving(source, [j.query for j in jobs], windows)
        later: dict[int, str] = {}
        first = not self.next_alt and wave.can_ask
        for i, answer in wave:
            if i >= len(jobs):
                self.asked[later[i]] = answer
                continue
            answers[i] = answer
            job = jobs[i]
            if not isinstance(answer, SourceError):
                job.made = self.series_of(job, answer)
            short = isinstance(answer, SourceError) or len(job.made or ()) < len(job.services)
            if first and short and not job.override:
                queries = self.later(job)
                later.update(zip(wave.ask(queries), queries))
        return answers

    def _bad_override(self, job: _Job, answer: SourceError) -> ConfigError:
        settings, svc = self.settings, job.services[0]
        where = config_line(settings, "services", svc.name, "signals", job.signal) \
            if svc.name in settings.services and job.signal in settings.services[svc.name].signals \
            else config_line(settings, "signals", job.signal)
        return ConfigError(
            f"{where}: the {job.signal} override for service '{svc.name}' is not valid PromQL: "
            f"{answer.message.split(': ', 1)[-1]}"
        )

    def missing_reason(self, name: str, svc: ServiceConfig) -> str:
        errs = self.failures.get((name, svc.name))
        if errs:
            return f"query failed: {errs[-1]}"
        overrides = self.overrides(svc).get(name)
        if not overrides and name in self._reasons:    # the same for every service without overrides
            return self._reasons[name]
        spec = self.catalog.spec(name)
        tried = len(overrides) if overrides else len(spec.alternatives)
        families = sorted({a.family for a in spec.alternatives if a.family}) if not overrides else ["override"]
        reason = f"no data from {tried} quer{'y' if tried == 1 else 'ies'} ({', '.join(families)})"
        if not overrides:
            self._reasons[name] = reason
        return reason


def render_override(template: str, service: ServiceConfig, signal: str, settings: Settings) -> str:
    """A single-service query from the config, its placeholders filled with escaped values."""
    try:
        return render(template, _override_values(service, settings.rate_interval))
    except UsageError as exc:
        where = config_line(settings, "services", service.name, "signals", signal) \
            if signal in settings.services.get(service.name, ServiceConfig(name="")).signals \
            else config_line(settings, "signals", signal)
        raise ConfigError(f"{where}: the {signal} override for service '{service.name}': {exc}") from None
