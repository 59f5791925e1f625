from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from triage.errors import UsageError
from triage.promql import alternation, escape_label_value, render
from triage.timeutil import format_duration, parse_duration, parse_instant

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc).timestamp()


@pytest.mark.parametrize("text,seconds", [("15m", 900), ("1h", 3600), ("1h30m", 5400), ("90", 90), ("2d", 172800),
                                          ("500ms", 0.5)])
def test_durations(text, seconds):
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["-5m", "0", "0s", "5 minutes", "m", "", "1h-5m", "1.5.5m"])
def test_bad_durations(text):
    with pytest.raises(UsageError):
        parse_duration(text, what="--window")


def test_format_duration():
    assert format_duration(timedelta(seconds=5400)) == "1h30m"
    assert format_duration(15) == "15s"


def test_instants_both_formats_agree():
    a = parse_instant("2026-11-10T20:01:00Z", now=NOW)
    b = parse_instant("1794340860", now=NOW)
    c = parse_instant("2026-11-11T03:01:00+07:00", now=NOW)
    assert a == b == c == datetime(2026, 11, 10, 20, 1, tzinfo=timezone.utc)
    assert parse_instant(None, now=NOW).timestamp() == NOW


@pytest.mark.parametrize("text,needle", [("2026-11-10T20:01:00", "no time zone"), ("yesterday", "neither"),
                                         ("2027-01-01T00:00:00Z", "future"), ("99999999999999999999", "range")])
def test_bad_instants(text, needle):
    with pytest.raises(UsageError, match=needle):
        parse_instant(text, now=NOW)


def test_label_values_are_escaped_not_spliced():
    evil = 'x"} or vector(1) or {a="'
    rendered = render('up{service="$service"}', {"service": escape_label_value(evil)})
    assert rendered == 'up{service="x\\"} or vector(1) or {a=\\""}'
    assert alternation(["a.b", "c|d", 'q"']) == 'a\\\\.b|c\\\\|d|q\\"'
    assert alternation([]) == "$^"


def test_unknown_placeholder_is_an_error():
    with pytest.raises(UsageError, match=r"\$servce"):
        render('up{service="$servce"}', {"service": "x"})
