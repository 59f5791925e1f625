"""Work that takes seconds shows its progress on a terminal (issue 15 item 6): the stage, and while a
wave of requests is out, a bar of the answers so far — on stderr only, never in JSON or a pipe."""

from __future__ import annotations

from testing.servers.fake_prometheus import FakePrometheus, ok_matrix
from triage.cli.console import BAR_WIDTH, Spinner
from triage.config import BackendSettings
from triage.models import RangeQuery
from triage.sources.prometheus import PrometheusSource

SERIES = [{"metric": {"service": "checkout"}, "values": [[1000, "1.5"]]}]


class _Status:
    def __init__(self) -> None:
        self.shown: list[str] = []

    def update(self, text: str) -> None:
        self.shown.append(text)


def test_the_bar_fills_with_the_answers_under_the_stage():
    status = _Status()
    spin = Spinner(status)
    spin("querying 25 signals for 47 services")
    spin.answered(1, 4)
    spin.answered(4, 4)
    assert status.shown[0] == "querying 25 signals for 47 services"
    assert status.shown[1] == ("querying 25 signals for 47 services  " + "▰" * (BAR_WIDTH // 4)
                               + "▱" * (BAR_WIDTH - BAR_WIDTH // 4) + " 1/4 answers")
    assert status.shown[2].endswith("▰" * BAR_WIDTH + " 4/4 answers")


def test_a_wave_of_requests_reports_every_answer():
    with FakePrometheus({"/api/v1/query_range": [ok_matrix(SERIES)]}) as fake:
        src = PrometheusSource(BackendSettings(url=fake.url, timeout=5.0), max_concurrency=3)
        seen: list[tuple[int, int]] = []
        src.on_answer = lambda done, total: seen.append((done, total))
        answers = src.query_range_many([RangeQuery(f"up{i}", 1000, 1030, 15) for i in range(7)])
    assert len(answers) == 7
    assert sorted(seen) == [(n, 7) for n in range(1, 8)]
