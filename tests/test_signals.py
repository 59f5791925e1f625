"""Batched queries against a real Prometheus: one request for many signals, failures isolated."""

from __future__ import annotations

from triage.config import BackendSettings
from triage.errors import SourceError
from triage.signals import make_windows, run_batched
from triage.sources.prometheus import PrometheusSource
from triage.timeutil import parse_duration, parse_instant


def windows():
    return make_windows(parse_instant("2026-11-10T20:01:00Z"), parse_duration("15m"), parse_duration("1h"))


def test_batch_splits_answers_back_per_query(metrics_backend):
    source = PrometheusSource(BackendSettings(url=metrics_backend.url))
    queries = [f'sum by (service) (rate(http_requests_total{{service="{name}"}}[1m]))'
               for name in ("checkout", "catalog", "frontend")] + ['vector(42)']
    answers = run_batched(source, queries, windows())
    assert source.stats.requests == 1
    assert [a[0].labels.get("service") for a in answers[:3]] == ["checkout", "catalog", "frontend"]
    assert answers[3][0].points[-1][1] == 42.0
    assert all("triage_q" not in s.labels for a in answers for s in a)


def test_a_bad_query_fails_alone(metrics_backend):
    source = PrometheusSource(BackendSettings(url=metrics_backend.url))
    queries = ['sum by (service) (rate(http_requests_total{service="checkout"}[1m]))', 'sum(rate(x[1m]) by (le)',
               'vector(1)']
    answers = run_batched(source, queries, windows())
    assert isinstance(answers[1], SourceError) and "rejected the query" in answers[1].message
    assert answers[0][0].labels["service"] == "checkout" and answers[2][0].points
    assert source.stats.requests == 1 + 3  # the batch, then each query on its own
