"""The receiver's own counters, gauges and latencies in the Prometheus text format (0.0.4).

prometheus-client is not a dependency of triage; a dozen series need only this formatter.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

HELP = {
    "triage_serve_requests_total": ("counter", "HTTP requests answered, by route and status code."),
    "triage_serve_request_seconds": ("summary", "Time to answer an HTTP request, by route."),
    "triage_serve_notifications_total": ("counter", "Webhook notifications, by what became of them."),
    "triage_serve_incidents_total": ("counter", "Incident events: opened, merged, resolved, ignored."),
    "triage_serve_runs_total": ("counter", "Finished triage runs, by result (done, failed)."),
    "triage_serve_run_seconds": ("summary", "Time of a triage run, retries included."),
    "triage_serve_run_retries_total": ("counter", "Runs retried because a backend could not be asked."),
    "triage_serve_sink_deliveries_total": ("counter", "Sink deliveries, by sink and result."),
    "triage_serve_spool_depth": ("gauge", "Notifications spooled on disk, not yet applied."),
    "triage_serve_incidents": ("gauge", "Incidents known to the receiver, by run state."),
}

Labels = tuple[tuple[str, str], ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Labels) -> str:
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels) + "}" if labels else ""


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[Labels, float]] = {}
        self._summaries: dict[str, dict[Labels, list[float]]] = {}
        self._gauges: dict[str, Callable[[], Mapping[Labels, float]]] = {}

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            series = self._counters.setdefault(name, {})
            series[key] = series.get(key, 0.0) + amount

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            pair = self._summaries.setdefault(name, {}).setdefault(key, [0.0, 0.0])
            pair[0] += 1
            pair[1] += seconds

    def gauge(self, name: str, read: Callable[[], Mapping[Labels, float]]) -> None:
        self._gauges[name] = read

    def value(self, name: str, **labels: str) -> float:
        with self._lock:
            return self._counters.get(name, {}).get(tuple(sorted(labels.items())), 0.0)

    def render(self) -> str:
        lines: list[str] = []

        def head(name: str) -> None:
            kind, text = HELP.get(name, ("untyped", name))
            lines.extend([f"# HELP {name} {text}", f"# TYPE {name} {kind}"])

        with self._lock:
            counters = {k: dict(v) for k, v in self._counters.items()}
            summaries = {k: {lk: list(lv) for lk, lv in v.items()} for k, v in self._summaries.items()}
        for name in sorted(counters):
            head(name)
            lines += [f"{name}{_labels(k)} {_number(v)}" for k, v in sorted(counters[name].items())]
        for name in sorted(summaries):
            head(name)
            for k, (count, total) in sorted(summaries[name].items()):
                lines += [f"{name}_count{_labels(k)} {_number(count)}", f"{name}_sum{_labels(k)} {_number(total)}"]
        for name in sorted(self._gauges):
            head(name)
            lines += [f"{name}{_labels(k)} {_number(v)}" for k, v in sorted(self._gauges[name]().items())]
        return "\n".join(lines) + "\n"
