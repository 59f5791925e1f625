"""Values that parse but make no sense (issue 13, item 8, the config part): negative, zero, NaN
and infinite steps, timeouts, deadlines, rate intervals, answer caps and concurrency; durations too
large for a date; config YAML nested deeper than the parser's stack; a Unicode digit in an integer
environment variable. Each is one line on stderr and exit 3 — before any request (the backend
here refuses everything, so a value that slipped through would show up as a request)."""

from __future__ import annotations

import pytest

from testing.servers.fault_proxy import FaultProxy, Reply
from tests.faults.conftest import AT, check, run_bounded

TARGET = ["--service", "checkout", "--at", AT]

COMMANDS = {
    "detect": ["detect", *TARGET],
    "rca --all-services": ["rca", "--all-services", "--at", AT],
    "queries check": ["queries", "check", "--service", "checkout", "--at", AT],
    "capacity": ["capacity", *TARGET],
    "run": ["run", *TARGET, "--no-kubernetes", "--no-docker", "--out", "out"],
}


# The values are read by one loader for every command: three commands (a fleet pass, a target,
# the query check) per value, every command for the nesting and the durations.
SOME = ["detect", "rca --all-services", "queries check"]


@pytest.fixture
def refusing():
    """A backend that must not be asked: every request is counted and refused."""
    with FaultProxy("http://127.0.0.1:9", lambda r: Reply(500, {"status": "error", "error": "asked"})) as proxy:
        yield proxy


# key: (YAML value, a word the line must carry)
PROMETHEUS_VALUES = {
    "step: -5": ("step", "-5", "step"),
    "step: 0": ("step", "0", "step"),
    "step: .nan": ("step", ".nan", "step"),
    "step: .inf": ("step", ".inf", "step"),
    "step: -.inf": ("step", "-.inf", "step"),
    "step: '-5s'": ("step", "'-5s'", "step"),
    "step: 0s": ("step", "0s", "step"),
    "step: 3000y": ("step", "3000y", "step"),
    "step: 1e-9": ("step", "1e-9", "step"),
    "step: 99999999999999999999999d": ("step", "99999999999999999999999d", "step"),
    "timeout: -1": ("timeout", "-1", "timeout"),
    "timeout: 0": ("timeout", "0", "timeout"),
    "timeout: .nan": ("timeout", ".nan", "timeout"),
    "timeout: .inf": ("timeout", ".inf", "timeout"),
    "timeout: 3000y": ("timeout", "3000y", "timeout"),
    "timeout: 1e400": ("timeout", "1e400", "timeout"),
    "deadline: 0": ("deadline", "0", "deadline"),
    "deadline: -3s": ("deadline", "-3s", "deadline"),
    "deadline: .nan": ("deadline", ".nan", "deadline"),
    "deadline: 1ms": ("deadline", "1ms", "deadline"),
    "rate_interval: 0s": ("rate_interval", "0s", "rate_interval"),
    "rate_interval: -1m": ("rate_interval", "-1m", "rate_interval"),
    "rate_interval: 1ms": ("rate_interval", "1ms", "rate_interval"),
    "rate_interval: 3000y": ("rate_interval", "3000y", "rate_interval"),
    "rate_interval: 99999999999999999999999d": ("rate_interval", "99999999999999999999999d", "rate_interval"),
    "max_concurrency: 0": ("max_concurrency", "0", "max_concurrency"),
    "max_concurrency: -4": ("max_concurrency", "-4", "max_concurrency"),
    "max_concurrency: .nan": ("max_concurrency", ".nan", "max_concurrency"),
    "max_concurrency: 1e3": ("max_concurrency", "1e3", "max_concurrency"),
    "max_response_bytes: 0": ("max_response_bytes", "0", "max_response_bytes"),
    "max_response_bytes: -1": ("max_response_bytes", "-1", "max_response_bytes"),
    "max_response_bytes: .nan": ("max_response_bytes", ".nan", "max_response_bytes"),
    "max_response_bytes: lots": ("max_response_bytes", "lots", "max_response_bytes"),
    "max_response_bytes: 99999999999999999999999GiB": ("max_response_bytes", "99999999999999999999999GiB",
                                                      "max_response_bytes"),
}


@pytest.mark.parametrize("command", SOME)
@pytest.mark.parametrize("case", list(PROMETHEUS_VALUES))
def test_a_nonsense_prometheus_value_is_one_line(refusing, tmp_path, case, command):
    key, value, word = PROMETHEUS_VALUES[case]
    config = tmp_path / "triage.yaml"
    timeout = "" if key == "timeout" else "  timeout: 2s\n"
    config.write_text(f"prometheus:\n  url: {refusing.url}\n{timeout}  {key}: {value}\n")
    result = run_bounded([*COMMANDS[command], "--config", str(config)], cwd=tmp_path)
    check(result, {3})
    [line] = result.stderr.strip().splitlines()
    assert word in line and "triage.yaml" in line, line
    assert refusing.count == 0, f"{refusing.count} requests sent with {case}"


ALERTMANAGER_VALUES = ["timeout: .nan", "timeout: 0", "timeout: -2s", "max_response_bytes: 0"]


@pytest.mark.parametrize("case", ALERTMANAGER_VALUES)
def test_a_nonsense_alertmanager_value_is_one_line(refusing, tmp_path, case):
    config = tmp_path / "triage.yaml"
    config.write_text(f"prometheus:\n  url: {refusing.url}\n  timeout: 2s\n"
                      f"alertmanager:\n  url: {refusing.url}\n  {case}\n")
    result = run_bounded([*COMMANDS["detect"], "--config", str(config)], cwd=tmp_path)
    check(result, {3})
    [line] = result.stderr.strip().splitlines()
    assert "alertmanager" in line and case.split(":")[0] in line, line
    assert refusing.count == 0


def _nested(depth: int, style: str) -> str:
    if style == "flow lists":
        return "services:\n  a:\n    depends_on: " + "[" * depth + "]" * depth + "\n"
    if style == "flow mappings":
        return "services: " + "{a: " * depth + "1" + "}" * depth + "\n"
    return "services:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(depth))


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("style,depth", [("flow lists", 5000), ("flow mappings", 5000), ("block mappings", 3000)])
def test_deeply_nested_config_is_one_line(refusing, tmp_path, command, style, depth):
    config = tmp_path / "triage.yaml"
    config.write_text(f"prometheus:\n  url: {refusing.url}\n" + _nested(depth, style))
    result = run_bounded([*COMMANDS[command], "--config", str(config)], cwd=tmp_path)
    check(result, {3})
    [line] = result.stderr.strip().splitlines()
    assert "triage.yaml" in line, line
    assert refusing.count == 0


def test_deeply_nested_queries_file_is_one_line(refusing, tmp_path):
    (tmp_path / "q").mkdir()
    (tmp_path / "q" / "deep.yaml").write_text("rps: " + "[" * 5000 + "]" * 5000 + "\n")
    config = tmp_path / "triage.yaml"
    config.write_text(f"prometheus:\n  url: {refusing.url}\nqueries_dir: q\n")
    result = run_bounded([*COMMANDS["detect"], "--config", str(config)], cwd=tmp_path)
    check(result, {3})
    [line] = result.stderr.strip().splitlines()
    assert "deep.yaml" in line, line


ENV_VALUES = {
    "TRIAGE_MAX_CONCURRENCY=٤ (Arabic-Indic four)": ("TRIAGE_MAX_CONCURRENCY", "٤"),
    "TRIAGE_MAX_CONCURRENCY=² (superscript two)": ("TRIAGE_MAX_CONCURRENCY", "²"),
    "TRIAGE_MAX_CONCURRENCY=４ (fullwidth four)": ("TRIAGE_MAX_CONCURRENCY", "４"),
    "TRIAGE_MAX_CONCURRENCY=4.0": ("TRIAGE_MAX_CONCURRENCY", "4.0"),
    "TRIAGE_MAX_CONCURRENCY=99999999999999999999": ("TRIAGE_MAX_CONCURRENCY", "99999999999999999999"),
    "TRIAGE_PROMETHEUS_TIMEOUT=٤s": ("TRIAGE_PROMETHEUS_TIMEOUT", "٤s"),
    "TRIAGE_PROMETHEUS_TIMEOUT=²": ("TRIAGE_PROMETHEUS_TIMEOUT", "²"),
    "TRIAGE_PROMETHEUS_TIMEOUT=nan": ("TRIAGE_PROMETHEUS_TIMEOUT", "nan"),
    "TRIAGE_PROMETHEUS_TIMEOUT=3000y": ("TRIAGE_PROMETHEUS_TIMEOUT", "3000y"),
    "TRIAGE_ALERTMANAGER_TIMEOUT=-1": ("TRIAGE_ALERTMANAGER_TIMEOUT", "-1"),
}


@pytest.mark.parametrize("command", SOME)
@pytest.mark.parametrize("case", list(ENV_VALUES))
def test_a_nonsense_environment_value_is_one_line(refusing, tmp_path, case, command):
    name, value = ENV_VALUES[case]
    config = tmp_path / "triage.yaml"
    config.write_text(f"prometheus:\n  url: {refusing.url}\n  timeout: 2s\n"
                      f"alertmanager:\n  url: {refusing.url}\n")
    result = run_bounded([*COMMANDS[command], "--config", str(config)], env={name: value}, cwd=tmp_path)
    check(result, {3})
    [line] = result.stderr.strip().splitlines()
    assert name in line or name.split("_", 2)[2].lower().replace("_", ".") in line.lower() \
        or "timeout" in line, line
    assert refusing.count == 0


DURATIONS = ["--window 3000y", "--baseline 3000y", "--window 99999999999999999999999d",
             "--baseline 99999999999999999999999999999999999999s", "--window 5000000h", "--window ٤m"]


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "queries check"])
@pytest.mark.parametrize("flag", DURATIONS)
def test_a_duration_too_long_for_a_date_is_one_line(refusing, tmp_path, flag, command):
    option, value = flag.split()
    config = tmp_path / "triage.yaml"
    config.write_text(f"prometheus:\n  url: {refusing.url}\n  timeout: 2s\n")
    result = run_bounded([*COMMANDS[command], option, value, "--config", str(config)], cwd=tmp_path)
    check(result, {3})
    [line] = result.stderr.strip().splitlines()
    assert option in line, line
    assert refusing.count == 0
