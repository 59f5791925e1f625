"""The two blind hold-out sets as regression guards: one fleet pass each, every verdict right.

They were written without reading the classifier; their first, blind scores are in
BENCHMARKS.md. Here they keep later rule changes honest.
"""

from __future__ import annotations

import json


from testing.cli import run_cli
from testing.scenarios.rca_library import AT, serve_library
from tests.conftest import need


def _fleet(server) -> dict:
    result = run_cli(["rca", "--prometheus-url", server.url, "--config", str(server.config), "--all-services",
                      "--at", AT, "-o", "json"])
    assert result.stdout, result.stderr
    return json.loads(result.stdout)


def _check(server, scenarios) -> None:
    payload = _fleet(server)
    wrong = []
    for sc in scenarios:
        got = payload["services"].get(sc.name, {}).get("bottleneck")
        if not sc.right(got):
            wrong.append(f"{sc.name}: label {sc.bottleneck}, got {got}")
    assert not wrong, "\n".join(wrong)


def test_holdout_one(tmp_path):
    need("prometheus")
    need("promtool")
    from testing.scenarios.holdout import holdout_library

    scenarios = holdout_library()
    with serve_library(tmp_path, scenarios) as server:
        _check(server, scenarios)


def test_holdout_two(tmp_path):
    need("prometheus")
    need("promtool")
    from testing.scenarios import holdout2

    scenarios = holdout2.holdout2_library()
    with holdout2.serve_holdout2(tmp_path, scenarios) as server:
        _check(server, scenarios)
