"""Hostile and broken calendars (issue 13): no exception but IcsParseError, fail safe per series.

Each fixture in tests/fixtures/ics/hostile/ is one thing a real or hostile calendar did that
once stopped a sync cycle or freed busy time. The tests assert that the read finishes, that
what is certain stays busy, and that the warning names the UID and what was not understood.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.ical.busy import (
    MAX_CALENDAR_BYTES,
    IcsParseError,
    IcsTooSlow,
    read_busy,
    read_busy_file,
)
from adapters.protocol import BusyRead

HOSTILE = Path(__file__).resolve().parents[1] / "fixtures" / "ics" / "hostile"
BERLIN = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")
YEAR_START = datetime(2027, 1, 1, tzinfo=BERLIN)
YEAR_END = datetime(2028, 1, 1, tzinfo=BERLIN)


def read(name: str, deadline: float | None = None) -> BusyRead:
    return read_busy_file(
        HOSTILE / name, tz=BERLIN, start=YEAR_START, end=YEAR_END, deadline=deadline
    )


def spans(result: BusyRead, uid: str) -> list[tuple[datetime, datetime]]:
    return [(i.start, i.end) for i in result.intervals if i.uid == uid]


def day(month: int, dom: int, year: int = 2027) -> datetime:
    return datetime(year, month, dom, tzinfo=BERLIN)


def at(month: int, dom: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, month, dom, hour, minute, tzinfo=UTC)


def warning_about(result: BusyRead, uid: str) -> str:
    (warning,) = [w for w in result.warnings if f"'{uid}'" in w]
    return warning


@pytest.mark.parametrize("name", sorted(p.name for p in HOSTILE.glob("*.ics")))
def test_no_hostile_fixture_raises_anything_but_ics_parse_error(name: str) -> None:
    began = time.monotonic()
    try:
        result = read(name, deadline=time.monotonic() + 1.0)
    except IcsTooSlow:
        assert name == "slow_never_matching.ics"
    else:
        for interval in result.intervals:
            assert interval.end > interval.start
        for warning in result.warnings:
            assert warning.startswith(f"{HOSTILE / name}: ")
            assert len(warning) < 600  # a hostile value is quoted short, never whole
    assert time.monotonic() - began < 2.0


def test_until_the_year_9999_is_an_ordinary_weekly_series() -> None:
    result = read("until_year_9999.ics")
    weekly = spans(result, "until-9999@hostile.example")
    assert len(weekly) == 52
    assert weekly[0] == (at(1, 4, 8), at(1, 4, 9))
    assert result.warnings == ()


def test_a_duration_past_the_year_9999_is_busy_to_the_end_of_the_window() -> None:
    result = read("duration_past_9999.ics")
    assert spans(result, "huge-duration@hostile.example") == [(at(3, 1, 8), YEAR_END)]
    # The series cannot be expanded, but its first occurrence is certain and lasts past the end.
    assert spans(result, "huge-duration-series@hostile.example") == [(at(4, 1, 8), YEAR_END)]
    assert spans(result, "ordinary@hostile.example") == [(at(1, 5, 8), at(1, 5, 9))]
    assert "lasts past the year 9999" in warning_about(result, "huge-duration@hostile.example")


@pytest.mark.parametrize("name", ["x_wr_timezone_300_chars.ics", "x_wr_timezone_pycache.ics"])
def test_a_bad_x_wr_timezone_is_ignored_with_a_warning(name: str) -> None:
    result = read(name)
    first = spans(result, "floating@hostile.example")[0]
    assert first == (day(1, 5) + timedelta(hours=8), day(1, 5) + timedelta(hours=9))  # in tz
    (warning,) = result.warnings
    assert "X-WR-TIMEZONE" in warning
    assert "is not a known time zone; floating times are read in Europe/Berlin" in warning
    assert "A" * 100 not in warning


def test_exchange_byday_with_spaces_is_read_as_meant() -> None:
    result = read("exchange_byday_spaces.ics")
    starts = [s.astimezone(BERLIN) for s, _ in spans(result, "exchange-standup@hostile.example")]
    assert [(s.day, s.hour, s.minute) for s in starts] == [
        (d, 9, 30) for d in (4, 5, 6, 11, 12, 13)
    ]
    assert result.warnings == ()


def test_google_empty_exdate_is_ignored_and_the_all_day_series_stays_busy() -> None:
    # The regression from the issue: the series was dropped and a session placed on top.
    result = read("google_empty_exdate.ics")
    assert spans(result, "all-day-weekly@google.com") == [
        (day(1, 4), day(1, 5)),
        (day(1, 11), day(1, 12)),
        (day(1, 18), day(1, 19)),
    ]
    assert result.warnings == ()


def test_an_end_before_its_start_is_read_swapped() -> None:
    result = read("end_before_start.ics")
    assert spans(result, "backwards-once@hostile.example") == [(at(1, 5, 9), at(1, 5, 10))]
    assert spans(result, "backwards-weekly@hostile.example") == [
        (at(1, 11, 9), at(1, 11, 10)),
        (at(1, 18, 9), at(1, 18, 10)),
    ]
    assert spans(result, "negative-duration@hostile.example") == [(at(1, 20, 9), at(1, 20, 10))]
    for uid in ("backwards-once", "backwards-weekly", "negative-duration"):
        warning = warning_about(result, f"{uid}@hostile.example")
        assert "before it starts" in warning
        assert "read with the two swapped" in warning


def test_rfc_7529_gregorian_rscale_is_the_ordinary_rule_with_its_skip() -> None:
    result = read("rfc_7529_rscale.ics")
    # Born on 29 February, SKIP=FORWARD: 1 March in a common year, 29 February in a leap year.
    assert spans(result, "leap-day-anniversary@hostile.example") == [(day(3, 1), day(3, 2))]
    leap = read_busy_file(
        HOSTILE / "rfc_7529_rscale.ics",
        tz=BERLIN,
        start=day(1, 1, 2028),
        end=day(12, 31, 2028),
    )
    assert spans(leap, "leap-day-anniversary@hostile.example")[0] == (
        day(2, 29, 2028),
        day(3, 1, 2028),
    )
    # SKIP=BACKWARD: the month's last day where the 31st is missing; COUNT counts the others.
    month_end = [
        s.astimezone(UTC).date() for s, _ in spans(result, "month-end-backward@hostile.example")
    ]
    assert [(d.month, d.day) for d in month_end[:4]] == [(1, 31), (2, 28), (3, 31), (4, 30)]
    assert len(spans(result, "gregorian-omit@hostile.example")) == 2
    assert not any(
        "leap-day" in w or "month-end" in w or "gregorian-omit" in w for w in result.warnings
    )


def test_another_rscale_keeps_first_occurrence_rdate_and_override_busy() -> None:
    result = read("rfc_7529_rscale.ics")
    assert spans(result, "hebrew-anniversary@hostile.example") == [
        (day(2, 8), day(2, 9)),  # DTSTART
        (day(3, 10), day(3, 11)),  # the moved instance
        (day(6, 1), day(6, 2)),  # RDATE
    ]
    warning = warning_about(result, "hebrew-anniversary@hostile.example")
    assert "RSCALE 'HEBREW' (RFC 7529) is not supported" in warning
    assert "UNTIL" not in warning  # the library's misleading "UNTIL parameter is missing"


def test_a_broken_rule_keeps_what_is_certain_busy() -> None:
    result = read("broken_rule_keeps_known.ics")
    assert spans(result, "broken-rule@hostile.example") == [
        (day(1, 4), day(1, 5)),  # DTSTART
        (day(1, 12), day(1, 13)),  # the moved instance
        (day(1, 20), day(1, 21)),  # RDATE
    ]
    warnings = [w for w in result.warnings if "'broken-rule@hostile.example'" in w]
    assert any(
        "RRULE 'FREQ=WEEKLY;BYDAY=MO;UNTIL=whenever' could not be read" in w for w in warnings
    )
    assert any("EXDATE 'not-a-date' could not be read" in w for w in warnings)
    # An unreadable moved instance is dropped; the instance it would move stays busy.
    assert spans(result, "broken-override@hostile.example") == [
        (at(1, 4, 7), at(1, 4, 8)),
        (at(1, 5, 7), at(1, 5, 8)),
        (at(1, 6, 7), at(1, 6, 8)),
    ]
    assert "DTSTART 'sometime' could not be read" in warning_about(
        result, "broken-override@hostile.example"
    )


@pytest.mark.parametrize("name", ["podio_trailing_comment.ics", "mistyped_end.ics"])
def test_files_icalendar_reads_are_read(name: str) -> None:
    result = read(name)
    assert len(result.intervals) == 1
    assert result.intervals[0].start == at(1, 5, 8)
    assert result.warnings == ()


def test_never_matching_minutely_rules_are_caught_before_expanding() -> None:
    began = time.monotonic()
    result = read("never_matching_minutely.ics")
    assert time.monotonic() - began < 0.5
    assert len(result.intervals) == 6  # each DTSTART
    for n in range(1, 7):
        warning = warning_about(result, f"never-{n}@hostile.example")
        assert "never occurs: BYMONTH=2;BYMONTHDAY=30 is never a date" in warning


def test_expansion_stops_at_the_deadline() -> None:
    # Six weekly-in-minutes rules on the wrong weekday: dateutil scans to the year 9999
    # (about 5 s here) without yielding once; the deadline is checked inside that scan.
    began = time.monotonic()
    with pytest.raises(
        IcsTooSlow, match=r"slow_never_matching\.ics: reading took longer than 0\.5 s"
    ):
        read("slow_never_matching.ics", deadline=time.monotonic() + 0.5)
    assert time.monotonic() - began < 1.0


def test_a_passed_deadline_stops_before_parsing() -> None:
    with pytest.raises(IcsTooSlow):
        read("until_year_9999.ics", deadline=time.monotonic() - 1)


@pytest.mark.parametrize(
    "data",
    [
        # Found by the fuzz campaign: a continuation line folds into BEGIN:VCALENDAR, and the
        # component's name then holds an (unescaped) newline.
        b"BEGIN:VCALENDAR\r\n lle\\nDenmark;X=\x1b[2J\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n",
        b"BEGIN:VCALENDAR\r\nDTSTART:2027\x1b[2J\r\nEND:VCALENDAR\r\n",
        b"BEGIN:VCALENDAR\r\nBEGIN:\x00CALENDAR\r\n",  # also from the campaign
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20270105T080000Z\r\n"
        b"RRULE:RSCALE=\x1b[2JX;FREQ=DAILY\r\nRECURRENCE-ID:\x1b\n\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    ],
)
def test_messages_and_warnings_stay_on_one_line_without_escapes(data: bytes) -> None:
    try:
        result = read_busy(data, source="s.ics", tz=BERLIN, start=YEAR_START, end=YEAR_END)
    except IcsParseError as exc:
        lines = [str(exc)]
    else:
        lines = list(result.warnings)
    for line in lines:
        assert not any(ord(c) < 32 or ord(c) == 127 for c in line), line


def test_ics_too_slow_is_an_ics_parse_error() -> None:
    assert issubclass(IcsTooSlow, IcsParseError)


# --------------------------------------------------------------------------------------------
# The file path: regular files only, a size cap, the path named once


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "busy.ics"
    os.mkfifo(fifo)
    began = time.monotonic()
    with pytest.raises(IcsParseError) as info:
        read_busy_file(fifo, tz=BERLIN, start=YEAR_START, end=YEAR_END)
    assert time.monotonic() - began < 1.0
    assert str(info.value) == f"{fifo}: cannot read calendar file: not a regular file (a FIFO)"


def test_a_device_is_refused() -> None:
    with pytest.raises(
        IcsParseError,
        match=r"^/dev/zero: cannot read calendar file: not a regular file \(a device\)$",
    ):
        read_busy_file(Path("/dev/zero"), tz=BERLIN, start=YEAR_START, end=YEAR_END)


def test_a_file_above_the_cap_is_refused_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "big.ics"
    with big.open("wb") as handle:
        handle.truncate(MAX_CALENDAR_BYTES + 1)  # sparse: no time spent writing it
    with pytest.raises(IcsParseError) as info:
        read_busy_file(big, tz=BERLIN, start=YEAR_START, end=YEAR_END)
    assert str(info.value) == (
        f"{big}: cannot read calendar file: {MAX_CALENDAR_BYTES + 1} bytes, "
        f"more than {MAX_CALENDAR_BYTES}"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<!DOCTYPE html><html>login</html>\n", "not an iCalendar file (expected BEGIN:VCALENDAR"),
        (b"", "not an iCalendar file (it is empty)"),
        (b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:x\n", "truncated iCalendar data"),
    ],
)
def test_error_messages_name_the_path_exactly_once(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "cal.ics"
    path.write_bytes(content)
    with pytest.raises(IcsParseError) as info:
        read_busy_file(path, tz=BERLIN, start=YEAR_START, end=YEAR_END)
    text = str(info.value)
    assert text.startswith(f"{path}: {message}")
    assert text.count(str(path)) == 1


def test_a_path_config_files_quote_is_still_named_once(tmp_path: Path) -> None:
    # read_regular_file shows an unprintable path as its repr; the reason alone is appended.
    missing = tmp_path / "line\nbreak.ics"
    with pytest.raises(IcsParseError) as info:
        read_busy_file(missing, tz=BERLIN, start=YEAR_START, end=YEAR_END)
    assert str(info.value) == f"{missing}: cannot read calendar file: no such file or directory"


def _events(*runs: tuple[int, datetime, timedelta, str]) -> bytes:
    """A calendar of one-off events: ``(count, first start, step, UID prefix)`` per run."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//liftrun//tests//EN"]
    for count, first, step, prefix in runs:
        lines += _event_lines(count, first, step, prefix)
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def _event_lines(count: int, first: datetime, step: timedelta, prefix: str) -> list[str]:
    lines = []
    for n in range(count):
        start = first + step * n
        lines += [
            "BEGIN:VEVENT",
            f"UID:{prefix}{n}@bulk.example",
            f"SUMMARY:Event {n}",
            f"DTSTART:{start:%Y%m%dT%H%M%S}Z",
            f"DTEND:{start + timedelta(minutes=30):%Y%m%dT%H%M%S}Z",
            "END:VEVENT",
        ]
    return lines


def test_a_file_with_more_events_near_the_window_than_allowed_is_refused_fast(
    tmp_path: Path,
) -> None:
    path = tmp_path / "crowded.ics"
    path.write_bytes(_events((30_000, datetime(2027, 1, 4, 8), timedelta(minutes=10), "e")))
    began = time.monotonic()
    with pytest.raises(IcsParseError, match="more than 20000 events between"):
        read_busy_file(path, tz=BERLIN, start=YEAR_START, end=YEAR_END)
    assert time.monotonic() - began < 1.5  # refused before icalendar parses anything


def test_events_far_from_the_window_cost_nothing_and_are_not_returned() -> None:
    # 20,000 events over 2020-2026 and two in the window: only the two are parsed.
    data = _events(
        (20_000, datetime(2020, 1, 1, 8), timedelta(hours=3), "past"),
        (2, datetime(2027, 3, 1, 8), timedelta(days=1), "now"),
    )
    began = time.monotonic()
    result = read_busy(
        data, source="far.ics", tz=BERLIN, start=YEAR_START, end=YEAR_END, max_events=10
    )
    assert time.monotonic() - began < 1.5
    assert [i.uid for i in result.intervals] == ["now0@bulk.example", "now1@bulk.example"]
