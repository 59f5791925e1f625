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


@pytest.mark.parametrize("text,ago", [("now", 0), ("NOW", 0), ("now-1h", 3600), ("now - 1h30m", 5400), ("-30m", 1800),
                                      ("-90s", 90), ("now-30", 30)])
def test_relative_instants(text, ago):
    assert parse_instant(text, now=NOW).timestamp() == NOW - ago


@pytest.mark.parametrize("text,needle", [("now+5m", "future"), ("+5m", "future"), ("now-xyz", "not a duration"),
                                         ("-5x", "not a duration"), ("nowish", "relative"), ("now-100y", "1970"),
                                         ("-30", "1970")])
def test_bad_relative_instants(text, needle):
    with pytest.raises(UsageError, match=needle):
        parse_instant(text, now=NOW)


def test_since_and_until_map_onto_at_and_window():
    from triage.timeutil import window_span

    end = datetime.fromtimestamp(NOW, tz=timezone.utc)
    assert window_span(None, "15m", None, None, window_given=False, now=NOW) == (end, timedelta(minutes=15))
    assert window_span(None, "15m", "30m", None, window_given=False, now=NOW) == (end, timedelta(minutes=30))
    assert window_span(None, "15m", "30m", "-1h", window_given=False, now=NOW) == (end - timedelta(hours=1),
                                                                                   timedelta(minutes=30))
    assert window_span("now-1h", "20m", None, None, window_given=True, now=NOW) == (end - timedelta(hours=1),
                                                                                    timedelta(minutes=20))
    # --since as a start time: the window runs from it to the end
    assert window_span(None, "15m", "now-2h", "now-30m", window_given=False, now=NOW) == (
        end - timedelta(minutes=30), timedelta(minutes=90))


@pytest.mark.parametrize("at,since,until,given,needle", [
    ("now", None, "now", False, "--at and --until"),
    (None, "30m", None, True, "--since and --window"),
    (None, "-10m", "-1h", False, "not before the end"),
    (None, "soon", None, False, "neither a duration"),
])
def test_conflicting_or_bad_time_options_are_one_line(at, since, until, given, needle):
    from triage.timeutil import window_span

    with pytest.raises(UsageError, match=needle) as info:
        window_span(at, "15m", since, until, window_given=given, now=NOW)
    assert "\n" not in str(info.value)
