"""triage.analysis.early: what a fleet works out as each answer arrives is what the rules would
work out after the last one, and the rules then do not work it out again."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from tests.test_levels_fast import END, SHAPES, SPECS, random_points, shaped
from triage.analysis import stats
from triage.analysis.classify import classify
from triage.analysis.classify.levels import level
from triage.analysis.classify.rules import memory
from triage.analysis.early import Early
from triage.models import SignalSeries, SignalSet, TimeRange

WINDOW = TimeRange(END - timedelta(minutes=15), END)
BASELINE = TimeRange(WINDOW.start - timedelta(hours=1), WINDOW.start)


def _series(service: str, name: str, points) -> SignalSeries:
    return SignalSeries(name, service, SPECS[name].unit, f"{name}-q", 0, points)


def _sets(service: str, signals: dict[str, SignalSeries]) -> SignalSet:
    return SignalSet(service, "default", WINDOW, BASELINE, signals, {})


@pytest.mark.parametrize("seed", range(12))
def test_a_levels_slope_is_the_slope_of_its_series_worked_out_once(seed, monkeypatch):
    rng = random.Random(seed)
    ts, vs = random_points(rng, 3600.0, 900.0, clean=seed % 3 == 0)
    series = _series("svc", "memory_usage_ratio", shaped(rng, ts, vs, SHAPES[seed % len(SHAPES)]))
    lv = level(series, SPECS["memory_usage_ratio"], _sets("svc", {"memory_usage_ratio": series}))
    instants = [WINDOW.start.timestamp() - 1800.0, WINDOW.start.timestamp(), END.timestamp() - 30.0]
    expected = [stats.slope_since(series.points, since) for since in instants]
    assert [lv.slope_since(since) for since in instants] == expected

    calls = []
    real = stats.slope_since
    monkeypatch.setattr(stats, "slope_since", lambda points, since: calls.append(since) or real(points, since))
    assert [lv.slope_since(since) for since in instants] == expected
    assert calls == []


@pytest.mark.parametrize("seed", range(8))
def test_a_fleets_memory_slopes_are_worked_out_as_the_answer_arrives(seed, monkeypatch):
    # The memory rule's two slopes (the last half hour before the window, the window) come with
    # the level Early worked out; classify then gives the same verdict without taking them again.
    rng = random.Random(100 + seed)
    names = ("memory_usage_ratio", "latency_p95", "error_ratio", "rps")
    services = [f"svc-{i}" for i in range(4)]
    made: dict[str, list[SignalSeries]] = {name: [] for name in names}
    for svc in services:
        for name in names:
            ts, vs = random_points(rng, 3600.0, 900.0, clean=rng.random() < 0.5)
            made[name].append(_series(svc, name, shaped(rng, ts, vs, "points")))
    early = Early(SPECS, WINDOW, BASELINE, levels=True)
    for name in names:
        early(made[name])
    calls: list[float] = []
    real = stats.slope_since
    for k, svc in enumerate(services):
        sets = _sets(svc, {name: made[name][k] for name in names})
        known = early.levels_for(sets)
        assert known is not None
        expected = classify(sets, SPECS, svc)
        calls.clear()
        monkeypatch.setattr(stats, "slope_since", lambda points, since: calls.append(since) or real(points, since))
        got = classify(sets, SPECS, svc, levels=known)
        monkeypatch.undo()
        assert repr(got) == repr(expected)
        assert calls == []
        w0 = WINDOW.start.timestamp()
        assert set(known["memory_usage_ratio"]._slopes or {}) == {w0 - before for before in
                                                                   memory.SLOPES_BEFORE_WINDOW["memory_usage_ratio"]}
