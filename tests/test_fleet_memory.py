"""The fleet pass's memory savings change no result: JSON written as it is encoded is the same
text, answers decode the same from the read buffer, label names and missing reasons are shared
strings, and the allocator setting is asked for exactly (and skipped where it is not there)."""

from __future__ import annotations

import io
import json

from triage.pipeline import heap
from triage.render.json import inert_json, write_inert_json
from triage.sources import decode


def _body(n: int) -> bytes:
    result = [{"metric": {"service": f"svc-{i}", "namespace": "default", "pod": f"p-{i}"},
               "values": [[1000 + 30 * k, str(i * 0.5 + k)] for k in range(5)]} for i in range(n)]
    return json.dumps({"status": "success", "data": {"resultType": "matrix", "result": result}},
                      separators=(",", ":")).encode()


def test_streamed_json_is_the_same_text_as_the_whole_one():
    # Larger than a write, with escaped characters on both sides of every piece's end.
    payload = {"services": {f"svc-{i}\u2028": {"sentence": "a\x85b\u202ec" * (i % 7), "n": i, "x": [1.5, None, True],
                                                "nested": {"k\x7f": ["\u2066", {}]}} for i in range(3000)},
               "empty": [], "unicode": "é ü 雪"}
    out = io.StringIO()
    write_inert_json(payload, out)
    assert len(out.getvalue()) > 4 * (1 << 16)
    assert out.getvalue() == inert_json(payload) + "\n"
    out = io.StringIO()
    write_inert_json(payload, out, indent=None)
    assert out.getvalue() == inert_json(payload, indent=None) + "\n"


def test_an_answer_decodes_the_same_from_its_read_buffer():
    body = _body(40)
    a, b = decode.matrix(body, "q", "b"), decode.matrix(bytearray(body), "q", "b")
    assert [(s.labels, list(s.points)) for s in a] == [(s.labels, list(s.points)) for s in b]
    assert len(a) == 40 and a[3].labels["service"] == "svc-3" and list(a[3].points)[1] == (1030.0, 2.5)


def test_label_names_are_one_string_for_every_series():
    a = decode.matrix(_body(3), "q", "b")
    b = decode.matrix(_body(2), "q", "b")
    names = [next(k for k in s.labels if k == "namespace") for s in a + b]
    assert all(n is names[0] for n in names)


class _Libc:
    def __init__(self, answer: int) -> None:
        self.calls: list[tuple[int, int]] = []
        self.answer = answer

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return self.answer


def test_the_fleet_heap_asks_for_a_fixed_mmap_threshold():
    libc = _Libc(1)
    assert heap.fleet_heap(libc) is True
    assert libc.calls == [(heap.M_MMAP_THRESHOLD, 128 * 1024)]
    assert heap.fleet_heap(_Libc(0)) is False       # refused: said so, nothing raised


def test_no_mallopt_is_no_error():
    class NoMallopt:
        def __getattr__(self, name: str) -> object:
            raise AttributeError(name)

    assert heap.fleet_heap(NoMallopt()) is False
    heap.trim()                                      # whatever the libc, never raises
