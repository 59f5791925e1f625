"""`detect` says what is true now as well as what was sustained (issue 12): 80 s into a
slow-query fault, the 5-minute sustained p95 is still the baseline's, the last minute is not."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from triage.analysis.detect import detect_service, judge_signal
from triage.catalog import load_catalog
from triage.config import ServiceConfig
from triage.models import SignalSeries, SignalSet, Status, TimeRange

END = datetime(2026, 11, 23, 13, 0, tzinfo=timezone.utc)
WINDOW = TimeRange(END - timedelta(minutes=15), END)
BASELINE = TimeRange(END - timedelta(minutes=75), END - timedelta(minutes=15))
SPECS = load_catalog().signals


def _series(name, fn):
    t0 = BASELINE.start.timestamp()
    pts = tuple((t0 + i * 15, float(fn(t0 + i * 15))) for i in range(int(75 * 60 / 15) + 1))
    return SignalSeries(name, "checkout", SPECS[name].unit, f"{name}-q", 0, pts)


def test_a_fault_80_seconds_old_is_not_ok():
    fault = END.timestamp() - 80
    lat = _series("latency_p95", lambda t: 3.5 if t >= fault else 0.27)
    sets = SignalSet("checkout", "shop", WINDOW, BASELINE, {"latency_p95": lat}, {})
    v = judge_signal(SPECS["latency_p95"], lat, sets, None)
    assert v.window is not None and v.window < 1.0          # the sustained level has not moved yet
    assert v.now is not None and v.now >= 3.0
    assert v.status is Status.CRITICAL
    assert "now" in v.summary and v.to_json()["now"] >= 3.0
    d = detect_service(ServiceConfig("checkout", "shop"), sets, SPECS, [], [])
    assert d.status is Status.CRITICAL and d.affected != "no user impact seen"


def test_one_stray_scrape_at_the_end_does_not_page():
    last = END.timestamp()
    lat = _series("latency_p95", lambda t: 9.0 if t >= last else 0.27)
    sets = SignalSet("checkout", "shop", WINDOW, BASELINE, {"latency_p95": lat}, {})
    assert judge_signal(SPECS["latency_p95"], lat, sets, None).status is Status.OK
