"""Burn rates of a service's SLO on the SRE workbook's multiwindow, multi-burn-rate alerts, and
what is left of its error budget.

The workbook (ch. 5, "Alerting on SLOs") pages when 2 % of a 30-day budget burns in an hour
(14.4× over 1 h and 5 m) or 5 % in six hours (6× over 6 h and 30 m), and opens a ticket when
10 % burns in three days (1× over 3 d and 6 h). The thresholds here are those budget shares, so
another period scales them the same way (`threshold = share × period ÷ long window`).

Each window's error ratio is read, in this order, from Sloth's recording rules
(`slo:sli_error:ratio_rate<w>{sloth_service, sloth_slo}`), from Pyrra's (`<metric>:burnrate<w>
{slo}`, whose value is the error ratio too), or computed from the catalog's SLI with the window
as the rate range: the `error_ratio` signal's queries, or for a latency SLI the share of the
`latency_p95` histogram above the threshold's bucket. The queries go through the one
`MetricsSource` the rest of the pass uses, as single-point range queries at the window's end.

Severity, per the workbook's own split: a firing page pair makes the service at least
critical, a firing ticket pair at least warning; a missing window never changes it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from triage.analysis.detect import severity
from triage.catalog import Catalog
from triage.config import ServiceConfig, Settings
from triage.config.slo import SloConfig
from triage.errors import SourceError
from triage.models import RangeQuery, Series, ServiceDetection, Status
from triage.models.slo import BurnAlert, BurnWindow, SloReport
from triage.promql import alternation, escape_label_value, render
from triage.signals import Windows, placeholders, render_override
from triage.sources.interface import MetricsSource
from triage.timeutil import format_duration

# (long window, short window, share of the period's budget, what the workbook does)
ALERT_PAIRS = (("1h", "5m", 0.02, "page"), ("6h", "30m", 0.05, "page"), ("3d", "6h", 0.10, "ticket"))
WINDOWS = ("5m", "30m", "1h", "6h", "3d")
_SECONDS = {"5m": 300, "30m": 1800, "1h": 3600, "6h": 21600, "3d": 259200}
_STATUS = {"page": Status.CRITICAL, "ticket": Status.WARNING}
# A single point at the window's end; the step only has to be valid.
_STEP = 60.0
_BUCKET = re.compile(r"rate\(\s*([A-Za-z_:][A-Za-z0-9_:]*)_bucket\s*\{([^}]*)\}\s*\[\$rate\]\s*\)")
_LE = re.compile(r",?\s*le\s*=~?\s*\"[^\"]*\"")


def thresholds(slo: SloConfig) -> list[tuple[str, str, float, str]]:
    """The workbook's pairs with their burn-rate thresholds for this SLO's period."""
    return [(long, short, share * slo.period / _SECONDS[long], kind) for long, short, share, kind in ALERT_PAIRS]


@dataclass(frozen=True)
class _Ask:
    """One query: which window it answers, from which source, and the label naming the service."""

    service: str
    window: str
    source: str
    query: str
    key: str | None = None
    alternative: int = 0


def _latency_template(template: str, key: str | None, threshold: float) -> str | None:
    """The share of requests slower than `threshold`, from the histogram a p95 query reads."""
    found = _BUCKET.search(template)
    if not found:
        return None
    name, selector = found.group(1), _LE.sub("", found.group(2)).strip().strip(",")
    value = threshold * 1000 if name.endswith("_milliseconds") else threshold
    le = alternation({f"{value:g}", repr(float(value))})
    by = f" by ({key})" if key else ""
    sel = f"{selector}, " if selector else ""
    count = f"sum{by} (rate({name}_count{{{selector}}}[$rate]))"
    fast = f"sum{by} (rate({name}_bucket{{{sel}le=~\"{le}\"}}[$rate]))"
    return f"({count} - {fast}) / {count}"


def _sli_templates(svc: ServiceConfig, slo: SloConfig, catalog: Catalog,
                   settings: Settings) -> list[tuple[str, str | None, bool]]:
    """(template, key label, from the user's overrides) for the SLI, tried in order."""
    signal = "latency_p95" if slo.sli == "latency" else "error_ratio"
    overrides = settings.signal_overrides(svc).get(signal) or ()
    found: list[tuple[str, str | None, bool]] = [(q, None, True) for q in overrides]
    spec = catalog.signals.get(signal)
    if not found and spec is not None:
        found = [(alt.query, alt.key, False) for alt in spec.alternatives]
    if slo.sli != "latency":
        return found
    out = []
    for template, key, override in found:
        text = _latency_template(template, key, slo.latency_threshold or 0.0)
        if text is not None:
            out.append((text, key, override))
    return out


def _computed(svc: ServiceConfig, slo: SloConfig, catalog: Catalog, settings: Settings,
              windows: Sequence[str], only: int | None = None) -> list[_Ask]:
    """The SLI over each window, for every alternative or `only` the one that answered."""
    signal = "latency_p95" if slo.sli == "latency" else "error_ratio"
    asks = []
    for i, (template, key, override) in enumerate(_sli_templates(svc, slo, catalog, settings)):
        if only is not None and i != only:
            continue
        for w in windows:
            if override:
                query = render_override(template, svc, signal, replace(settings, rate_interval=w))
            else:
                query = render(template, placeholders([svc], w, fleet=False))
            asks.append(_Ask(svc.name, w, "computed", query, key, i))
    return asks


def _recorded(svc: ServiceConfig, slo: SloConfig, windows: Sequence[str], incident: str) -> list[_Ask]:
    """Sloth's and Pyrra's recorded error ratios; the incident window is the 5 m series' mean over it."""
    sloth = f'sloth_service="{escape_label_value(svc.name)}"'
    if slo.name:
        sloth += f', sloth_slo="{escape_label_value(slo.name)}"'
    pyrra = f'slo="{escape_label_value(slo.name or svc.name)}"'
    asks = []
    for w in windows:
        asks.append(_Ask(svc.name, w, "sloth", f"max(slo:sli_error:ratio_rate{w}{{{sloth}}})"))
        if w in _SECONDS:
            asks.append(_Ask(svc.name, w, "pyrra", f'max({{__name__=~".+:burnrate{w}", {pyrra}}})'))
    asks.append(_Ask(svc.name, incident, "sloth", f"max(avg_over_time(slo:sli_error:ratio_rate5m{{{sloth}}}"
                                                  f"[{incident}]))"))
    asks.append(_Ask(svc.name, incident, "pyrra", f'max(avg_over_time({{__name__=~".+:burnrate5m", {pyrra}}}'
                                                  f"[{incident}]))"))
    return asks


def _value(answer: list[Series] | SourceError, ask: _Ask, svc: ServiceConfig) -> float | None:
    if isinstance(answer, SourceError):
        return None
    series = list(answer)
    if ask.key and len(series) > 1:
        series = [s for s in series if s.labels.get(ask.key) == svc.selector(ask.key)]
    for s in series:
        values = [v for _, v in s.points if math.isfinite(v)]
        if values:
            return max(0.0, values[-1])
    return None


_PREFERENCE = {"sloth": 0, "pyrra": 1, "computed": 2}


def _choose(asks: Sequence[_Ask], values: Sequence[float | None]) -> dict[str, tuple[_Ask, float]]:
    """Per window: a recorded series before a computed one, the catalog's first alternative first."""
    chosen: dict[str, tuple[_Ask, float]] = {}
    for ask, value in sorted(zip(asks, values), key=lambda av: (_PREFERENCE[av[0].source], av[0].alternative)):
        if value is not None and ask.window not in chosen:
            chosen[ask.window] = (ask, value)
    return chosen


def _report(slo: SloConfig, chosen: Mapping[str, tuple[_Ask, float]], period: str, incident: str,
            incident_seconds: float) -> SloReport:
    windows = {w: BurnWindow(w, chosen[w][1], chosen[w][1] / slo.budget, chosen[w][0].source, chosen[w][0].query)
               for w in WINDOWS if w in chosen}
    alerts = tuple(BurnAlert(long, short, threshold, kind,
                             windows[long].burn_rate if long in windows else None,
                             windows[short].burn_rate if short in windows else None)
                   for long, short, threshold, kind in thresholds(slo))
    status = Status.worst([_STATUS[a.severity] for a in alerts if a.firing])
    remaining = source = spent = None
    if period in chosen:
        remaining = 1.0 - chosen[period][1] / slo.budget
        source = chosen[period][0].source
    if incident in chosen:
        spent = chosen[incident][1] / slo.budget * incident_seconds / slo.period
    missing = None
    if not windows:
        what = "latency histogram" if slo.sli == "latency" else "error ratio"
        missing = f"no {what} and no Sloth or Pyrra recording rules for this service"
    return SloReport(objective=slo.objective, sli=slo.sli, period=period, status=status, alerts=alerts,
                     windows=windows, latency_threshold=slo.latency_threshold, name=slo.name,
                     budget_remaining=remaining, budget_spent_in_window=spent, budget_source=source, missing=missing)


def _ask(source: MetricsSource, asks: Sequence[_Ask], services: Mapping[str, ServiceConfig],
         end: float) -> list[tuple[_Ask, float | None]]:
    answers = source.query_range_many([RangeQuery(a.query, end, end, _STEP) for a in asks])
    return [(ask, _value(answer, ask, services[ask.service])) for ask, answer in zip(asks, answers)]


def evaluate(source: MetricsSource, catalog: Catalog, settings: Settings, services: Sequence[ServiceConfig],
             windows: Windows) -> dict[str, SloReport]:
    """Every configured SLO of `services`, in two batches: the recording rules and each SLI
    alternative over 5 m first, then the longer windows no rule recorded, with the one
    alternative that answered (a 30-day range is not asked of an alternative without data)."""
    with_slo = {svc.name: svc for svc in services if svc.slo is not None}
    if not with_slo:
        return {}
    incident = format_duration(windows.window.seconds)
    wanted = {name: [*WINDOWS, format_duration(svc.slo.period), incident]
              for name, svc in with_slo.items() if svc.slo is not None}
    first: list[_Ask] = []
    for name, svc in with_slo.items():
        assert svc.slo is not None
        first += _recorded(svc, svc.slo, wanted[name][:-1], incident)
        first += _computed(svc, svc.slo, catalog, settings, ["5m"])
    got = _ask(source, first, with_slo, windows.end)
    second: list[_Ask] = []
    for name, svc in with_slo.items():
        assert svc.slo is not None
        answered = sorted(a.alternative for a, v in got if a.service == name and a.source == "computed"
                          and v is not None)
        recorded = {a.window for a, v in got if a.service == name and a.source != "computed" and v is not None}
        rest = [w for w in dict.fromkeys(wanted[name]) if w not in recorded and w != "5m"]
        if answered and rest:
            second += _computed(svc, svc.slo, catalog, settings, rest, only=answered[0])
    if second:
        got += _ask(source, second, with_slo, windows.end)
    out = {}
    for name, svc in with_slo.items():
        assert svc.slo is not None
        mine = [(a, v) for a, v in got if a.service == name]
        chosen = _choose([a for a, _ in mine], [v for _, v in mine])
        out[name] = _report(svc.slo, chosen, format_duration(svc.slo.period), incident, windows.window.seconds)
    return out


def _graver(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return min(a, b)


def apply(detection: ServiceDetection, report: SloReport | None) -> ServiceDetection:
    """The detection with its SLO: a firing page pair makes it at least critical, a ticket at least warning."""
    if report is None:
        return detection
    status = Status.worst([detection.status, report.status]) if report.status is not Status.OK else detection.status
    sev = detection.severity
    if report.status is not Status.OK:
        sev = _graver(sev, severity(report.status, detection.tier, False))
    return replace(detection, status=status, severity=sev, slo=report)
