"""The share of a caller's calls that goes to each dependency, estimated from request rates, and
when a caller's outbound p95 rules a delay on a callee out (triage/analysis/classify/calls.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from triage.analysis.classify.calls import CallShares, stayed_under


def _lv(baseline=None, window=None):
    delta = None if baseline is None or window is None else window - baseline
    return SimpleNamespace(baseline=baseline, window=window, delta=delta)


def _shares(rates, deps):
    levels = {name: {"rps": _lv(rate)} for name, rate in rates.items()}
    callers: dict[str, list[str]] = {}
    for name, ds in deps.items():
        for d in ds:
            callers.setdefault(d, []).append(name)
    return CallShares(levels, callers, {name: tuple(deps.get(name, ())) for name in rates})


def test_a_dependencys_requests_split_among_its_callers_by_their_rates():
    """cart's 8 req/s split 8:2 between web and orders; ads is web's alone."""
    s = _shares({"web": 8.0, "orders": 2.0, "cart": 8.0, "ads": 24.0}, {"web": ["cart", "ads"], "orders": ["cart"]})
    assert s.share("web", "cart") == pytest.approx(6.4 / 30.4)
    assert s.share("web", "ads") == pytest.approx(24.0 / 30.4)
    assert s.share("orders", "cart") == pytest.approx(1.0)


def test_an_unknown_rate_gives_no_share():
    s = _shares({"web": 8.0, "cart": None, "ads": 24.0}, {"web": ["cart", "ads"]})
    assert s.share("web", "ads") is None
    assert s.share("web", "nobody") is None


def test_a_p95_under_half_the_delay_rules_it_out():
    slowed = {"dependency_latency_p95": _lv(0.07, 0.42)}
    assert stayed_under({"dependency_latency_p95": _lv(0.08, 0.11)}, slowed)
    assert not stayed_under({"dependency_latency_p95": _lv(0.08, 0.30)}, slowed)
    assert not stayed_under({}, slowed)
    assert not stayed_under({"dependency_latency_p95": _lv(0.08, 0.11)}, {"dependency_latency_p95": _lv(0.07, 0.05)})
