"""ExitCode is CONTRACT.md's exit code table: every name and value pinned, none added or removed
without the contract saying so."""

from __future__ import annotations

from triage.models import ExitCode

# CONTRACT.md, "Exit codes (the Monitoring Plugins convention ...)": code | meaning
CONTRACT_TABLE = {
    0: "OK",            # nothing at or above the threshold
    1: "WARNING",       # a warning-level finding
    2: "CRITICAL",      # a critical finding (an incident)
    3: "UNKNOWN",       # could not decide: bad arguments or config, a backend unreachable, ...
    130: "INTERRUPTED",  # interrupted
}


def test_every_name_and_value_is_the_contracts():
    assert {member.value: member.name for member in ExitCode} == CONTRACT_TABLE


def test_the_codes_are_plain_ints_for_the_shell():
    for value, name in CONTRACT_TABLE.items():
        assert ExitCode[name] == value
        assert int(ExitCode[name]) == value
        assert isinstance(ExitCode[name], int)


def test_no_two_names_share_a_code():
    assert len(ExitCode.__members__) == len(CONTRACT_TABLE)
