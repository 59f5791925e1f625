"""--at's relative forms and --since/--until on the commands (CLI cells), and capacity --from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testing.cli import run_cli

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo" / "incident.json"
AT = "2026-11-10T20:01:00Z"
AT_UNIX = 1794340860


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "triage.yaml"
    path.write_text("services:\n  checkout: {namespace: shop, database: checkout, tier: 1}\n")
    return path


def _window(backend, config: Path, *args: str) -> dict:
    result = run_cli(["detect", "--prometheus-url", backend.url, "--config", str(config), "--service", "checkout",
                      "-o", "json", *args])
    assert result.code in (0, 1, 2), result.stderr
    return json.loads(result.stdout)["window"]


def test_since_and_until_give_the_window_at_and_window_give(prometheus_server, config):
    expected = _window(prometheus_server, config, "--at", AT, "--window", "30m")
    assert expected == {"start": "2026-11-10T19:31:00Z", "end": AT}
    assert _window(prometheus_server, config, "--since", "30m", "--until", AT) == expected
    assert _window(prometheus_server, config, "--since", "2026-11-10T19:31:00Z", "--until", str(AT_UNIX)) == expected
    assert _window(prometheus_server, config, "--since", "30m", "--at", AT) == expected


@pytest.mark.parametrize("command", ["detect", "rca", "capacity", "mitigate", "fix", "run", "queries check"])
@pytest.mark.parametrize("args,needle", [
    (["--since", "30m", "--window", "15m"], "--since and --window"),
    (["--at", "now-1h", "--until", "now"], "--at and --until"),
    (["--at", "now+1h"], "in the future"),
])
def test_conflicting_time_options_are_one_line_before_any_query(command, args, needle, tmp_path):
    # 127.0.0.1:9 refuses connections: a window mistake must be said before any request is made
    result = run_cli([*command.split(), "--service", "checkout", "--prometheus-url", "http://127.0.0.1:9", *args],
                     cwd=tmp_path)
    assert result.code == 3, (result.code, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr


def test_every_command_with_at_takes_since_and_until():
    for command in ("detect", "rca", "capacity", "mitigate", "fix", "run", "queries check"):
        text = run_cli([*command.split(), "--help"]).stdout
        assert "--since" in text and "--until" in text and "now-1h" in text, command


def test_capacity_from_a_one_service_record_needs_no_service():
    alone = run_cli(["capacity", "--from", str(DEMO), "-o", "json"])
    named = run_cli(["capacity", "--from", str(DEMO), "--service", "checkout", "-o", "json"])
    assert alone.code == 0, alone.stderr
    assert alone.stdout == named.stdout


def test_capacity_from_a_fleet_record_asks_for_the_service(tmp_path):
    record = json.loads(DEMO.read_text())
    services = record["services"]
    if not isinstance(services, list) or len(services) != 1:
        pytest.skip("the demo record's services are not a one-item list")
    other = json.loads(json.dumps(services[0]))
    other["name"] = "cart"
    record["services"] = [services[0], other]
    path = tmp_path / "two.json"
    path.write_text(json.dumps(record))
    result = run_cli(["capacity", "--from", str(path)])
    assert result.code == 3 and "name one" in result.stderr, result.stderr


def test_capacity_live_without_service_is_one_line(tmp_path):
    result = run_cli(["capacity", "--prometheus-url", "http://127.0.0.1:9"], cwd=tmp_path)
    assert result.code == 3 and len(result.stderr.strip().splitlines()) == 1 and "--service" in result.stderr
