"""The incident's timeline, to the second: the surge, each signal leaving its baseline, the
thresholds crossed, alerts, rollouts, scaling, actions and recovery — and the times to detect,
mitigate and resolve that follow from them. The tool's own phases are not events of the incident."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from statistics import median
from typing import Any

from triage.analysis.classify.levels import normal_of
from triage.postmortem.series import Points, alert_spans, query_end, signal_points, stamp, ts
from triage.render.escape import md
from triage.render.units import fmt

GOLDEN = ("rps", "latency_p95", "error_ratio")
USER_FACING = ("latency_p95", "error_ratio")
HELD = 3  # points in a row that make an onset or a recovery


def onset(points: Points, w0: float, unit: str, window_level: float | None) -> tuple[float, float, float] | None:
    """(time, baseline, value) of the first of HELD points clearly above the baseline's normal."""
    base = [v for t, v in points if t < w0]
    win = [v for t, v in points if t >= w0]
    if len(base) < HELD or not win:
        return None
    centre, spread = normal_of(base, unit)
    level = window_level if window_level is not None else median(win)
    # Three spreads out and a tenth of the way to the window's level: a quiet baseline (1 ms of pool
    # wait) has a spread so small that noise would count; a quarter (the analysis' rule) comes late.
    step = max(3 * spread, 0.1 * (level - centre))
    if level - centre <= step:
        return None
    run: list[tuple[float, float]] = []
    for t, v in points:
        run = [*run, (t, v)] if v - centre > step else []
        if len(run) >= HELD:
            return run[0][0], centre, run[0][1]
    return None


def first_above(points: Points, bound: Any) -> float | None:
    """When the signal went above `bound` and stayed there for HELD points (a blip is not a crossing)."""
    if not isinstance(bound, (int, float)):
        return None
    run: list[float] = []
    for t, v in points:
        run = [*run, t] if v > bound else []
        if len(run) >= HELD:
            return run[0]
    return None


def recovery(points: Points, bound: Any) -> float | None:
    """The start of the last run below `bound` that follows a crossing and holds HELD points."""
    start = first_above(points, bound)
    if start is None:
        return None
    last_above = max(t for t, v in points if v > bound and t >= start)
    tail = [t for t, _ in points if t > last_above]
    return tail[0] if len(tail) >= HELD else None


class Facts:
    """What the record's data say about one service's incident, computed once."""

    def __init__(self, record: Mapping[str, Any], service: str, det: Mapping[str, Any],
                 rca: Mapping[str, Any], alerts: Sequence[Mapping[str, Any]]) -> None:
        self.record, self.service, self.rca, self.alerts = record, service, rca, alerts
        self.signals: dict[str, Any] = dict(det.get("signals") or {})
        self.w0 = ts((record.get("window") or {}).get("start"))
        self.w1 = ts((record.get("window") or {}).get("end"))
        self._points: dict[str, Points] = {}

    def points(self, name: str) -> Points:
        if name not in self._points:
            sig = self.signals.get(name) or (self.rca.get("signals") or {}).get(name) or {}
            self._points[name] = signal_points(self.record, self.service, name, sig.get("query"))
        return self._points[name]

    def unit(self, name: str) -> str:
        sig = self.signals.get(name) or (self.rca.get("signals") or {}).get(name) or {}
        return str(sig.get("unit") or "")

    def threshold(self, name: str, which: str) -> Any:
        return (self.signals.get(name) or {}).get(which)

    def impact_start(self) -> float | None:
        times = [first_above(self.points(n), self.threshold(n, "warning")) for n in USER_FACING]
        return min((t for t in times if t is not None), default=None)

    def impact_end(self) -> float | None:
        crossed = [n for n in USER_FACING if first_above(self.points(n), self.threshold(n, "warning")) is not None]
        ends = [recovery(self.points(n), self.threshold(n, "warning")) for n in crossed]
        return max(ends) if ends and all(e is not None for e in ends) else None  # type: ignore[type-var]

    def first_alert(self) -> float | None:
        """When the first alert fired: from the ALERTS series' transitions when the record has them (a
        live alert's start is when it went pending, before anyone was paged), else the alerts' start."""
        fired = [ts(m.get("time")) for row in self.record.get("alert_events") or []
                 if isinstance(row, dict) and row.get("service") == self.service
                 for m in row.get("transitions") or []
                 if isinstance(m, dict) and m.get("state") == "firing" and not m.get("already")]
        found = [t for t in fired if t]
        if found:
            return min(found)
        return min((t for t in (ts(a.get("starts_at")) for a in self.alerts) if t), default=None)

    def first_action(self) -> float | None:
        return min((t for t in (ts(a.get("time")) for a in self.record.get("actions") or []
                                if isinstance(a, dict)) if t), default=None)

    def onset_signals(self) -> list[str]:
        names = list(GOLDEN)
        for cand in (self.rca.get("candidates") or [])[:1]:
            names += [ev.get("signal") for ev in cand.get("evidence") or [] if ev.get("signal")]
        return list(dict.fromkeys(names))


def signal_onset(f: Facts, name: str) -> tuple[float, float, float] | None:
    level = ((f.rca.get("signals") or {}).get(name) or {}).get("window")
    return onset(f.points(name), f.w0, f.unit(name), level if isinstance(level, (int, float)) else None) \
        if f.w0 else None


def _signal_events(f: Facts) -> list[tuple[float, str]]:
    events = []
    for name in f.onset_signals():
        unit = f.unit(name)
        found = signal_onset(f, name)
        if found:
            t, base, value = found
            what = "traffic surge begins" if name == "rps" and f.rca.get("trigger") == "traffic_surge" \
                else f"{md(name)} leaves its baseline"
            events.append((t, f"{what}: {fmt(value, unit)} (baseline {fmt(base, unit)})"))
    for name, sig in f.signals.items():
        for which in ("warning", "critical"):
            crossed = first_above(f.points(name), sig.get(which))
            if crossed is not None:
                events.append((crossed, f"{md(name)} above its {which} threshold {fmt(sig[which], f.unit(name))}"))
        back = recovery(f.points(name), sig.get("warning"))
        if back is not None:
            events.append((back, f"{md(name)} back under its warning threshold {fmt(sig['warning'], f.unit(name))}"))
    return events


_STATE_WORDS = {"pending": "pending (its rule's condition holds, not yet for long enough)",
                "firing": "firing", "resolved": "resolved (no longer firing)",
                "inactive": "no longer pending (cleared before it fired)"}


def _alert_state_events(f: Facts) -> tuple[list[tuple[float, str]], set[str]]:
    """Pending → firing → resolved of each alert of the service, from the record's ALERTS answer;
    and the names they cover (their firing and resolution are not said twice)."""
    events: list[tuple[float, str]] = []
    names: set[str] = set()
    for row in f.record.get("alert_events") or []:
        if not isinstance(row, dict) or row.get("service") != f.service:
            continue
        name = str(row.get("alertname") or "?")
        names.add(name)
        sev = md(row.get("severity") or "no severity")
        for move in row.get("transitions") or []:
            t = ts(move.get("time")) if isinstance(move, dict) else None
            words = _STATE_WORDS.get(str(move.get("state"))) if t else None
            if t and words and move.get("already"):
                events.append((t, f"alert {md(name)} ({sev}) already {move.get('state')} when the record's data "
                                  "begin"))
            elif t and words:
                events.append((t, f"alert {md(name)} ({sev}) {words}"))
    return events, names


def _alert_events(f: Facts) -> list[tuple[float, str]]:
    events, covered = _alert_state_events(f)
    for a in f.alerts:
        t = ts(a.get("starts_at"))
        if t and a.get("alertname") not in covered:
            events.append((t, f"alert {md(a.get('alertname'))} ({md(a.get('severity') or 'no severity')}) firing"))
    end, step = query_end(f.record), float(f.record.get("step") or 15)
    for name, _, last in alert_spans(f.record, f.service):
        if end is not None and last + step < end and name not in covered:
            events.append((last + step, f"alert {md(name)} resolved (no longer firing)"))
    return events


def _change_events(f: Facts) -> list[tuple[float, str]]:
    events = _alert_events(f)
    for signal, text in (("deploys", "rollout: deployment generation {old:.0f} → {new:.0f}"),
                         ("replicas", "scaling: replicas {old:.0f} → {new:.0f}")):
        pts = f.points(signal)
        for (_, old), (t, new) in zip(pts, pts[1:]):
            if (new > old) if signal == "deploys" else (new != old):
                events.append((t, text.format(old=old, new=new)))
    for a in f.record.get("actions") or []:
        when = ts(a.get("time")) if isinstance(a, dict) else None
        if when:
            what = md(a.get("what", a.get("action", "")))
            events.append((when, f"action: {what} {md(a.get('target', ''))} — {md(a.get('result', ''))}".strip()))
    return events


def timeline(f: Facts) -> list[dict[str, str]]:
    events = sorted(dict.fromkeys(_signal_events(f) + _change_events(f)), key=lambda e: e[0])
    return [{"time": stamp(t), "event": e} for t, e in events]


def _minutes(a: float | None, b: float | None) -> str | None:
    if a is None or b is None:
        return None
    seconds = max(0.0, b - a)
    return f"{seconds / 60:.1f} min ({seconds:.0f} s)"


def durations(f: Facts) -> dict[str, str | None]:
    """Time to detect / mitigate / resolve, from the start of user impact."""
    start = f.impact_start()
    return {"detect": _minutes(start, f.first_alert()), "mitigate": _minutes(start, f.first_action()),
            "resolve": _minutes(start, f.impact_end())}


def phases(record: Mapping[str, Any]) -> list[dict[str, str]]:
    """How this draft was made: triage's own phases, when they ran."""
    out = []
    for name, ph in (record.get("phases") or {}).items():
        if not isinstance(ph, dict):
            continue
        t = ts(ph.get("started"))
        secs = ph.get("seconds")
        out.append({"phase": md(name), "status": md(ph.get("status") or ""),
                    "started": stamp(t) if t else "?",
                    "seconds": f"{secs:.2f} s" if isinstance(secs, (int, float)) else "?"})
    return out
