"""An OOM kill is an event: one early in a short window still counts (aggregate `peak`),
while level signals keep their 5-minute sustained peak (one spike is not an incident)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from triage.analysis.classify import classify, level
from triage.analysis.detect import judge_signal
from triage.catalog import load_catalog
from triage.models import SignalSeries, SignalSet, TimeRange

END = datetime(2026, 11, 23, 13, 0, tzinfo=timezone.utc)
WINDOW = TimeRange(END - timedelta(minutes=3), END)
BASELINE = TimeRange(END - timedelta(minutes=7), END - timedelta(minutes=3))
STEP = 15


def _series(name: str, unit: str, value_at) -> SignalSeries:
    t0 = BASELINE.start.timestamp()
    points = tuple((t0 + i * STEP, float(value_at(t0 + i * STEP))) for i in range(int(7 * 60 / STEP) + 1))
    return SignalSeries(name, "booking", unit, f"{name}-query", 0, points)


def _sets(signals: dict[str, SignalSeries]) -> SignalSet:
    return SignalSet("booking", "lab", WINDOW, BASELINE, signals, {})


def test_oom_kill_early_in_a_three_minute_window_is_seen():
    specs = load_catalog().signals
    assert specs["oom_kills"].aggregate == "peak"
    oom_at = WINDOW.start.timestamp() + 20
    # kube-state-metrics' last-terminated-reason gauge: 1 from the kill until the next
    # termination, which here comes 60 s later (a clean restart), so it never holds 5 minutes.
    oom = _series("oom_kills", "containers", lambda t: 1 if oom_at <= t < oom_at + 60 else 0)
    sets = _sets({"oom_kills": oom})
    assert level(oom, specs["oom_kills"], sets).window == 1
    assert judge_signal(specs["oom_kills"], oom, sets, None).window == 1
    # The same shape on a level signal is one spike: its sustained peak stays at baseline.
    spike = _series("memory_usage_ratio", "ratio", lambda t: 0.95 if oom_at <= t < oom_at + 30 else 0.4)
    assert level(spike, specs["memory_usage_ratio"], sets).window < 0.5


def test_one_oom_kill_and_its_restart_is_memory_pressure_not_a_crash_loop():
    specs = load_catalog().signals
    oom_at = WINDOW.start.timestamp() + 20
    # The leak climbs to the limit, the kill resets it, the new process starts low again.
    b_end = BASELINE.end.timestamp()
    t_mem = lambda t: (0.3 + (t - oom_at) / 1200 if t >= oom_at  # noqa: E731
                       else min(0.99, 0.45 + max(0.0, t - b_end + 100) / 220))
    signals = {
        "oom_kills": _series("oom_kills", "containers", lambda t: 1 if oom_at <= t < oom_at + 60 else 0),
        "restarts": _series("restarts", "restarts", lambda t: 1 if t >= oom_at else 0),
        "memory_usage_ratio": _series("memory_usage_ratio", "ratio", t_mem),
        "latency_p95": _series("latency_p95", "s", lambda t: 0.9 if t >= oom_at else 0.08),
        "error_ratio": _series("error_ratio", "ratio", lambda t: 0.08 if oom_at <= t < oom_at + 30 else 0.0),
        "rps": _series("rps", "req/s", lambda t: 20.0),
        "cpu_usage_ratio": _series("cpu_usage_ratio", "ratio", lambda t: 0.3),
    }
    verdict = classify(_sets(signals), specs, "booking")
    assert verdict.bottleneck == "memory_pressure", [(c.bottleneck, c.score) for c in verdict.candidates]
