"""The fast range-answer decoder reads exactly what `json.loads` reads: on real answers of both
backends, and on the shapes it must hand over to `json.loads` (odd labels, NaN/Inf, warnings)."""

from __future__ import annotations

import json
import math

import pytest
import requests

from triage.sources import decode
from triage.sources.decode import _fast, _Slow, matrix, parse_matrix

AT = 1_794_340_860      # 2026-11-10T20:01:00Z


def slow(body: bytes) -> list:
    return parse_matrix(json.loads(body)["data"]["result"], "q", "b")


def same(a: list, b: list) -> bool:
    def key(series: list) -> list:
        return [(s.labels, [(t, "nan" if math.isnan(v) else v) for t, v in s.points]) for s in series]
    return key(a) == key(b)


@pytest.mark.parametrize("query", [
    'sum by (service, le) (rate(http_request_duration_seconds_bucket[1m]))',
    'histogram_quantile(0.95, sum by (service, le) (rate(http_request_duration_seconds_bucket[1m])))',
    'rate(http_requests_total[1m]) / 0',
])
def test_real_answers_decode_alike_on_the_fast_path(metrics_backend, query):
    r = requests.get(f"{metrics_backend.url}/api/v1/query_range",
                     params={"query": query, "start": AT - 3600, "end": AT, "step": "30"}, timeout=30)
    body = r.content
    fast = _fast(body)                     # the fast path itself, not its fallback
    assert fast and same(fast, slow(body))


def body(result: list, **extra: object) -> bytes:
    return json.dumps({"status": "success", "data": {"resultType": "matrix", "result": result}, **extra},
                      separators=(",", ":")).encode()


ODD = [
    body([{"metric": {"a": 'x}],"values":[[1,"2"]]}'}, "values": [[1, "NaN"], [2, "+Inf"], [3, "-Inf"]]}]),
    body([{"metric": {}, "values": [[1.5, "1e-05"]]}, {"metric": {"b": "é"}, "values": [[1.5, "3"]]}]),
    body([{"metric": {"a": "1"}, "values": [[1, "2"]]}], warnings=["w"], infos=["i"]),
    body([]),
    body([{"metric": {"a": "1"}, "histograms": [[1, {"count": "2"}]]}]),
    json.dumps({"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"a": "1"}, "values": [[1, "2"]]}]}}).encode(),            # spaces: the slow path
    b'{"status":"success","isPartial":false,"data":{"resultType":"matrix","result":[{"metric":{"a":"1"},'
    b'"values":[[1,"2"],[2,"3"]]}]},"stats":{"seriesFetched": "1"}}',
]


@pytest.mark.parametrize("raw", ODD)
def test_odd_answers_decode_alike(raw):
    assert same(matrix(raw, "q", "b"), slow(raw))


def test_a_shape_it_does_not_know_goes_to_json_loads(monkeypatch):
    calls = []
    monkeypatch.setattr(decode, "parse_matrix", lambda *a: calls.append(a) or [])
    matrix(ODD[4], "q", "b")
    assert calls
    with pytest.raises(_Slow):
        _fast(ODD[5])


def test_series_with_the_same_timestamps_share_one_array():
    raw = body([{"metric": {"s": str(i)}, "values": [[1, "2"], [2, "3"]]} for i in range(3)])
    series = _fast(raw)
    assert series[0].points._t is series[2].points._t and list(series[2].points) == [(1.0, 2.0), (2.0, 3.0)]
