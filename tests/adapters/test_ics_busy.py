"""Tests for the iCalendar busy-time reader (adapters/ical/busy.py).

Each rule the planner relies on has a small hand-written fixture in tests/fixtures/ics/ or an
inline calendar, so a failure points at one rule.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import vobject
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.ical.busy import IcsParseError, read_busy, read_busy_file
from adapters.protocol import BusyRead
from planner.busy import BusyInterval

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ics"
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")
YEAR_START = datetime(2027, 1, 1, tzinfo=BERLIN)
YEAR_END = datetime(2028, 1, 1, tzinfo=BERLIN)


def read(
    name: str,
    tz: ZoneInfo = BERLIN,
    start: datetime = YEAR_START,
    end: datetime = YEAR_END,
) -> BusyRead:
    return read_busy_file(FIXTURES / name, tz=tz, start=start, end=end)


def cal(*events: str, head: str = "") -> str:
    """An inline VCALENDAR with one VEVENT per argument (property lines, newline separated)."""
    body = "".join(f"BEGIN:VEVENT\n{event.strip()}\nEND:VEVENT\n" for event in events)
    return (
        f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//liftrun//tests//EN\n{head}{body}END:VCALENDAR\n"
    )


def read_text(
    text: str | bytes,
    tz: ZoneInfo = BERLIN,
    start: datetime = YEAR_START,
    end: datetime = YEAR_END,
    max_events: int = 200_000,
) -> BusyRead:
    return read_busy(text, source="inline.ics", tz=tz, start=start, end=end, max_events=max_events)


def local(tz: ZoneInfo, *fields: int) -> datetime:
    """``datetime(*fields, tzinfo=tz)``: year, month, day[, hour[, minute]]."""
    year, month, day, hour, minute = (*fields, 0, 0)[:5]
    return datetime(year, month, day, hour, minute, tzinfo=tz)


def spans(
    intervals: Iterable[BusyInterval], uid: str | None = None
) -> list[tuple[datetime, datetime]]:
    return [(i.start, i.end) for i in intervals if uid is None or i.uid == uid]


def by_uid(result: BusyRead, uid: str) -> list[BusyInterval]:
    return [i for i in result.intervals if i.uid == uid]


# --------------------------------------------------------------------------------------------
# Recurrence: RRULE, EXDATE, RECURRENCE-ID, RDATE (RFC 5545 section 3.8.5)


def test_rrule_with_exdate_override_and_rdate() -> None:
    result = read("recurring.ics")
    assert [(i.start, i.end, i.summary) for i in result.intervals] == [
        (local(BERLIN, 2027, 3, 1, 10), local(BERLIN, 2027, 3, 1, 11), "Weekly sync"),
        (local(BERLIN, 2027, 3, 8, 10), local(BERLIN, 2027, 3, 8, 11), "Weekly sync"),
        # 15 March: EXDATE. 22 March: moved to the 24th. 29 March: cancelled override.
        (local(BERLIN, 2027, 3, 24, 14), local(BERLIN, 2027, 3, 24, 15), "Weekly sync (moved)"),
        (local(BERLIN, 2027, 4, 5, 10), local(BERLIN, 2027, 4, 5, 11), "Weekly sync"),
        # RDATE adds a Saturday instance with the series' duration.
        (local(BERLIN, 2027, 4, 10, 10), local(BERLIN, 2027, 4, 10, 11), "Weekly sync"),
    ]
    assert result.warnings == ()
    assert {i.uid for i in result.intervals} == {"weekly-sync@example.com"}
    assert {i.source for i in result.intervals} == {str(FIXTURES / "recurring.ics")}


def test_moved_occurrence_is_not_busy_at_its_old_time() -> None:
    old = (local(BERLIN, 2027, 3, 22, 10), local(BERLIN, 2027, 3, 22, 11))
    assert old not in spans(read("recurring.ics").intervals)


def test_cancelled_override_is_not_busy() -> None:
    starts = {i.start for i in read("recurring.ics").intervals}
    assert local(BERLIN, 2027, 3, 29, 10) not in starts


def test_thisandfuture_override_moves_later_instances() -> None:
    result = read_text(
        cal(
            "UID:tf\nSUMMARY:Early\nDTSTART:20270104T080000Z\nDTEND:20270104T090000Z\n"
            "RRULE:FREQ=DAILY;COUNT=4",
            "UID:tf\nSUMMARY:Late\nRECURRENCE-ID;RANGE=THISANDFUTURE:20270106T080000Z\n"
            "DTSTART:20270106T100000Z\nDTEND:20270106T110000Z",
        ),
        tz=UTC,
    )
    assert [(i.start.day, i.start.hour, i.summary) for i in result.intervals] == [
        (4, 8, "Early"),
        (5, 8, "Early"),
        (6, 10, "Late"),
        (7, 10, "Late"),
    ]


def test_exdate_can_remove_the_only_instance() -> None:
    result = read_text(
        cal("UID:x\nDTSTART:20270105T080000Z\nDTEND:20270105T090000Z\nEXDATE:20270105T080000Z")
    )
    assert result.intervals == ()


def test_rdate_period_has_its_own_end() -> None:
    result = read_text(
        cal(
            "UID:p\nDTSTART:20270105T080000Z\nDTEND:20270105T090000Z\n"
            "RDATE;VALUE=PERIOD:20270107T080000Z/20270107T120000Z"
        ),
        tz=UTC,
    )
    assert spans(result.intervals) == [
        (local(UTC, 2027, 1, 5, 8), local(UTC, 2027, 1, 5, 9)),
        (local(UTC, 2027, 1, 7, 8), local(UTC, 2027, 1, 7, 12)),
    ]


def test_series_started_years_before_the_window() -> None:
    result = read_text(
        cal(
            "UID:old\nDTSTART;TZID=Europe/Berlin:20200106T070000\n"
            "DTEND;TZID=Europe/Berlin:20200106T080000\nRRULE:FREQ=WEEKLY;BYDAY=MO"
        )
    )
    assert len(result.intervals) == 52  # Mondays of 2027
    assert {(i.start.weekday(), i.start.hour) for i in result.intervals} == {(0, 7)}


# --------------------------------------------------------------------------------------------
# Time zones (RFC 5545 sections 3.2.19, 3.3.5, 3.6.5)


def test_tzid_defined_by_a_vtimezone_in_the_file() -> None:
    (call,) = by_uid(read("timezones.ics"), "custom-zone@example.com")
    assert call.start == local(BERLIN, 2027, 5, 5, 11, 30)  # 15:00 at +05:30
    assert call.end - call.start == timedelta(hours=1)


def test_tzid_from_the_tz_database_and_windows_names() -> None:
    result = read("timezones.ics")
    (new_york,) = by_uid(result, "new-york@example.com")
    assert new_york.start == local(NEW_YORK, 2027, 5, 5, 9)
    (outlook,) = by_uid(result, "windows-zone@example.com")
    assert outlook.start == local(BERLIN, 2027, 5, 8, 9)


def test_utc_times() -> None:
    (call,) = by_uid(read("timezones.ics"), "utc@example.com")
    assert call.start == local(UTC, 2027, 5, 6, 8)
    assert call.start.tzinfo is BERLIN
    assert (call.start.hour, call.start.minute) == (10, 0)


@pytest.mark.parametrize("tz", [BERLIN, NEW_YORK])
def test_floating_times_are_read_in_the_plan_zone(tz: ZoneInfo) -> None:
    (dentist,) = by_uid(read("timezones.ics", tz=tz), "floating@example.com")
    assert dentist.start == local(tz, 2027, 5, 7, 9)
    assert dentist.end == local(tz, 2027, 5, 7, 10)


def test_unknown_tzid_is_read_in_the_plan_zone_with_a_warning() -> None:
    result = read("timezones.ics")
    (mystery,) = by_uid(result, "unknown-zone@example.com")
    assert mystery.start == local(BERLIN, 2027, 5, 9, 9)
    (warning,) = result.warnings
    assert "unknown-zone@example.com" in warning
    assert "Mars/Olympus_Mons" in warning
    assert str(FIXTURES / "timezones.ics") in warning


def test_x_wr_timezone_applies_to_floating_times() -> None:
    result = read("x_wr_timezone.ics")
    (floating,) = by_uid(result, "floating-ny@example.com")
    assert floating.start == local(NEW_YORK, 2027, 5, 5, 9)
    assert floating.start.tzinfo is BERLIN  # converted to the plan's zone


def test_x_wr_timezone_keeps_a_utc_series_on_its_local_wall_clock() -> None:
    # Google exports recurring events with a UTC DTSTART and means "09:00 in X-WR-TIMEZONE":
    # after the US switch to summer time (14 March) the instances move to 13:00Z.
    result = read("x_wr_timezone.ics")
    weekly = by_uid(result, "utc-weekly@example.com")
    assert [i.start.astimezone(NEW_YORK).hour for i in weekly] == [9, 9, 9, 9]
    assert [i.start.astimezone(UTC).hour for i in weekly] == [14, 14, 13, 13]


def test_all_day_events_use_the_plan_zone_even_with_x_wr_timezone() -> None:
    (day,) = by_uid(read("x_wr_timezone.ics"), "all-day-xwr@example.com")
    assert (day.start, day.end) == (local(BERLIN, 2027, 6, 1), local(BERLIN, 2027, 6, 2))


def test_invalid_x_wr_timezone_falls_back_to_the_plan_zone() -> None:
    result = read_text(
        cal(
            "UID:f\nDTSTART:20270105T090000\nDTEND:20270105T100000", head="X-WR-TIMEZONE:No/Where\n"
        )
    )
    assert spans(result.intervals) == [
        (local(BERLIN, 2027, 1, 5, 9), local(BERLIN, 2027, 1, 5, 10))
    ]
    (warning,) = result.warnings
    assert "No/Where" in warning


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.ics") if p.stat().st_size))
@pytest.mark.parametrize("tz", [BERLIN, NEW_YORK])
def test_every_interval_is_aware_in_the_plan_zone(name: str, tz: ZoneInfo) -> None:
    try:
        result = read(name, tz=tz)
    except IcsParseError:
        return
    for interval in result.intervals:
        assert interval.start.tzinfo is tz
        assert interval.end.tzinfo is tz
        assert interval.end > interval.start


# --------------------------------------------------------------------------------------------
# DST weeks: a weekly 09:00 meeting stays at 09:00 local on both sides of the switch


@pytest.mark.parametrize(
    ("uid", "zone", "switches"),
    [
        ("berlin-weekly@example.com", BERLIN, [date(2027, 3, 28), date(2027, 10, 31)]),
        ("new-york-weekly@example.com", NEW_YORK, [date(2027, 3, 14), date(2027, 11, 7)]),
    ],
)
@pytest.mark.parametrize("plan_zone", [BERLIN, NEW_YORK])
def test_weekly_meeting_keeps_its_local_time_across_dst(
    uid: str, zone: ZoneInfo, switches: list[date], plan_zone: ZoneInfo
) -> None:
    meetings = by_uid(read("dst_weekly.ics", tz=plan_zone), uid)
    for switch in switches:
        before = [m for m in meetings if switch - timedelta(days=7) <= m.start.date() < switch]
        after = [m for m in meetings if switch < m.start.date() <= switch + timedelta(days=7)]
        assert len(before) == len(after) == 1
        offsets = {m.start.astimezone(zone).utcoffset() for m in before + after}
        assert len(offsets) == 2, "the UTC offset changes across the switch"
    for meeting in meetings:
        local_start = meeting.start.astimezone(zone)
        assert (local_start.hour, local_start.minute) == (9, 0)
        assert meeting.end - meeting.start == timedelta(minutes=30)
        assert meeting.start.tzinfo is plan_zone


def test_new_york_meeting_moves_in_berlin_only_between_the_two_switches() -> None:
    meetings = by_uid(read("dst_weekly.ics"), "new-york-weekly@example.com")
    berlin_hours = {m.start.date(): m.start.hour for m in meetings}
    assert berlin_hours[date(2027, 3, 8)] == 15
    assert berlin_hours[date(2027, 3, 15)] == 14  # US already on summer time, EU not yet
    assert berlin_hours[date(2027, 3, 29)] == 15
    assert berlin_hours[date(2027, 11, 1)] == 14  # EU back on winter time, US not yet
    assert berlin_hours[date(2027, 11, 8)] == 15


def test_event_inside_the_repeated_hour_keeps_its_real_length() -> None:
    # 02:30 CEST to 02:30 CET on 31 October: one hour, though both read "02:30" in Berlin.
    result = read_text(cal("UID:fold\nDTSTART:20271031T003000Z\nDTEND:20271031T013000Z"))
    (interval,) = result.intervals
    assert interval.end - interval.start == timedelta(hours=1)
    assert interval.start == local(UTC, 2027, 10, 31, 0, 30)


# --------------------------------------------------------------------------------------------
# Durations (RFC 5545 section 3.6.1)


def test_duration_instead_of_dtend() -> None:
    (session,) = by_uid(read("durations.ics"), "duration@example.com")
    assert (session.start, session.end) == (
        local(BERLIN, 2027, 4, 5, 17),
        local(BERLIN, 2027, 4, 5, 18, 30),
    )


def test_recurring_event_with_duration() -> None:
    weekly = by_uid(read("durations.ics"), "weekly-duration@example.com")
    assert spans(weekly) == [
        (local(BERLIN, 2027, 4, 5, 7), local(BERLIN, 2027, 4, 5, 7, 45)),
        (local(BERLIN, 2027, 4, 12, 7), local(BERLIN, 2027, 4, 12, 7, 45)),
    ]


def test_date_without_end_lasts_one_day() -> None:
    (day,) = by_uid(read("durations.ics"), "date-no-end@example.com")
    assert (day.start, day.end) == (local(BERLIN, 2027, 4, 6), local(BERLIN, 2027, 4, 7))


def test_date_time_without_end_takes_no_time() -> None:
    result = read("durations.ics")
    assert by_uid(result, "datetime-no-end@example.com") == []
    assert by_uid(result, "zero-length@example.com") == []
    assert result.warnings == ()  # valid per RFC 5545, nothing was skipped


def test_date_with_day_duration() -> None:
    (workshop,) = by_uid(read("durations.ics"), "date-duration@example.com")
    assert (workshop.start, workshop.end) == (local(BERLIN, 2027, 4, 8), local(BERLIN, 2027, 4, 10))


# --------------------------------------------------------------------------------------------
# All-day events: exclusive DTEND, whole local days in the plan zone


def test_all_day_event_blocks_whole_local_days() -> None:
    (trip,) = by_uid(read("all_day.ics"), "trip@example.com")
    assert (trip.start, trip.end) == (local(BERLIN, 2027, 3, 1), local(BERLIN, 2027, 3, 3))


def test_all_day_event_across_the_dst_switch() -> None:
    (weekend,) = by_uid(read("all_day.ics"), "dst-weekend@example.com")
    assert (weekend.start, weekend.end) == (local(BERLIN, 2027, 3, 27), local(BERLIN, 2027, 3, 29))
    assert (weekend.start.hour, weekend.end.hour) == (0, 0)
    assert weekend.end.astimezone(UTC) - weekend.start.astimezone(UTC) == timedelta(hours=47)


def test_all_day_event_in_another_plan_zone_uses_that_zones_midnight() -> None:
    (trip,) = by_uid(read("all_day.ics", tz=NEW_YORK), "trip@example.com")
    assert (trip.start, trip.end) == (local(NEW_YORK, 2027, 3, 1), local(NEW_YORK, 2027, 3, 3))


def test_all_day_event_with_dtend_equal_to_dtstart_lasts_one_day() -> None:
    (day,) = by_uid(read("all_day.ics"), "same-day-end@example.com")
    assert (day.start, day.end) == (local(BERLIN, 2027, 3, 10), local(BERLIN, 2027, 3, 11))


def test_recurring_all_day_event() -> None:
    (birthday,) = by_uid(read("all_day.ics"), "yearly-birthday@example.com")
    assert (birthday.start, birthday.end) == (
        local(BERLIN, 2027, 3, 15),
        local(BERLIN, 2027, 3, 16),
    )


# --------------------------------------------------------------------------------------------
# TRANSP and STATUS (RFC 5545 sections 3.8.1.11, 3.8.2.7)


def test_transparent_and_cancelled_events_are_not_busy() -> None:
    result = read("transparency_status.ics")
    assert [i.uid for i in result.intervals] == [
        "busy@example.com",
        "tentative@example.com",
        "free-series@example.com",
    ]


def test_cancelled_series_cancels_its_moved_instances_too() -> None:
    assert by_uid(read("transparency_status.ics"), "cancelled-series@example.com") == []


def test_opaque_override_of_a_transparent_series_is_busy() -> None:
    (override,) = by_uid(read("transparency_status.ics"), "free-series@example.com")
    assert override.summary == "Free series, this one is busy"
    assert override.start == local(UTC, 2027, 6, 15, 8)


# --------------------------------------------------------------------------------------------
# Broken series keep what is certain busy, with a warning naming them; the rest is still read


def test_broken_series_keep_what_is_certain_and_are_named() -> None:
    result = read("broken_series.ics")
    # A series whose rule cannot be read keeps its first occurrence; an event that ends before
    # it starts is read swapped; only events that cannot be placed in time are skipped.
    assert [i.uid for i in result.intervals] == [
        "good-before@example.com",
        "bad-rrule@example.com",
        "backwards@example.com",
        "backwards-series@example.com",
        "backwards-series@example.com",
        "zero-interval@example.com",
        "backwards-series@example.com",
        "bad-count@example.com",
        "bad-byhour@example.com",
        "good-after@example.com",
        "good-series@example.com",
        "good-series@example.com",
    ]
    expected = {
        "bad-rrule@example.com": "RRULE 'FREQ=SOMETIMES;BYDAY=XX' could not be read",
        "zero-interval@example.com": "INTERVAL must be a positive integer",
        "bad-count@example.com": "COUNT must be a positive integer",
        "bad-byhour@example.com": "BYHOUR=25 is out of range",
        "no-dtstart@example.com": "skipped UID 'no-dtstart@example.com': it has no DTSTART",
        "backwards@example.com": "read with the two swapped",
        "backwards-series@example.com": "read with the two swapped",
        "bad-dtstart@example.com": "DTSTART 'tomorrow-ish' could not be read",
    }
    assert len(result.warnings) == len(expected)
    for uid, text in expected.items():
        (warning,) = [w for w in result.warnings if f"'{uid}'" in w]
        assert text in warning
        assert warning.startswith(str(FIXTURES / "broken_series.ics") + ": ")


def test_event_without_uid_is_still_busy() -> None:
    result = read_text(
        cal(
            "SUMMARY:No UID\nDTSTART:20270105T080000Z\nDTEND:20270105T090000Z",
            "SUMMARY:No UID either\nDTSTART:20270106T080000Z\nDTEND:20270106T090000Z\n"
            "RRULE:FREQ=DAILY;COUNT=2",
        )
    )
    assert [(i.summary, i.uid) for i in result.intervals] == [
        ("No UID", ""),
        ("No UID either", ""),
        ("No UID either", ""),
    ]


def test_broken_event_without_uid_is_named_by_summary() -> None:
    result = read_text(cal("SUMMARY:Startless\nDTEND:20270105T080000Z"))
    assert result.intervals == ()
    (warning,) = result.warnings
    assert "without UID" in warning
    assert "Startless" in warning


# --------------------------------------------------------------------------------------------
# Not iCalendar at all: an error naming the source, never an empty (= free) result


@pytest.mark.parametrize("name", ["html_login_page.ics", "empty.ics"])
def test_non_calendar_files_raise(name: str) -> None:
    with pytest.raises(IcsParseError, match=str(FIXTURES / name)):
        read(name)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   \r\n\r\n",
        bytes(random.Random(7).randrange(256) for _ in range(2000)),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b'{"items": []}',
        b"BEGIN:VEVENT\r\nUID:x\r\nDTSTART:20270101T080000Z\r\nEND:VEVENT\r\n",
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20270101T08",
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VCALENDAR\r\n",
        b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n<html>trailing page</html>\r\n",
        b"BEGIN:VCALENDAR\r\nthis is not a content line\r\nEND:VCALENDAR\r\n",
    ],
    ids=[
        "empty",
        "blank-lines",
        "random-bytes",
        "png",
        "json",
        "bare-vevent",
        "truncated",
        "mismatched-end",
        "trailing-html",
        "garbage-line",
    ],
)
def test_input_that_is_not_icalendar_raises(data: bytes) -> None:
    with pytest.raises(IcsParseError, match=r"feed\.example/cal\.ics"):
        read_busy(
            data, source="https://feed.example/cal.ics", tz=BERLIN, start=YEAR_START, end=YEAR_END
        )


def test_missing_file_raises_ics_parse_error_naming_the_path_once(tmp_path: Path) -> None:
    missing = tmp_path / "nope.ics"
    with pytest.raises(IcsParseError) as info:
        read_busy_file(missing, tz=BERLIN, start=YEAR_START, end=YEAR_END)
    assert str(info.value) == f"{missing}: cannot read calendar file: no such file or directory"


def test_non_gregorian_calendar_raises() -> None:
    with pytest.raises(IcsParseError, match="CALSCALE"):
        read_text(
            cal(
                "UID:x\nDTSTART:20270105T080000Z\nDTEND:20270105T090000Z", head="CALSCALE:CHINESE\n"
            )
        )


def test_empty_but_valid_calendar_is_free() -> None:
    assert read_text(cal()) == BusyRead(intervals=(), warnings=())


def test_text_input_and_several_calendars_in_one_stream() -> None:
    text = cal("UID:a\nSUMMARY:Grüße\nDTSTART:20270105T080000Z\nDTEND:20270105T090000Z") + cal(
        "UID:b\nDTSTART:20270106T080000Z\nDTEND:20270106T090000Z"
    )
    result = read_text(text)
    assert [(i.uid, i.summary) for i in result.intervals] == [("a", "Grüße"), ("b", "")]


def test_utf16_file_with_bom_is_read() -> None:
    text = cal("UID:u\nSUMMARY:Outlook\nDTSTART:20270105T080000Z\nDTEND:20270105T090000Z")
    result = read_text(text.replace("\n", "\r\n").encode("utf-16"))
    assert [i.summary for i in result.intervals] == ["Outlook"]


def test_text_with_a_lone_surrogate_is_read() -> None:
    text = cal("UID:s\nSUMMARY:bad \ud800 char\nDTSTART:20270105T080000Z\nDTEND:20270105T090000Z")
    (interval,) = read_text(text).intervals
    assert interval.summary == "bad ? char"


def test_naive_window_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        read_busy(cal(), source="x", tz=BERLIN, start=datetime(2027, 1, 1), end=YEAR_END)
    with pytest.raises(ValueError, match="empty window"):
        read_busy(cal(), source="x", tz=BERLIN, start=YEAR_END, end=YEAR_START)


# --------------------------------------------------------------------------------------------
# Bounded handling


def test_more_occurrences_than_max_events_raises() -> None:
    data = cal("UID:d\nDTSTART:20270105T080000Z\nDTEND:20270105T090000Z\nRRULE:FREQ=DAILY;COUNT=10")
    assert len(read_text(data, max_events=10).intervals) == 10
    with pytest.raises(IcsParseError, match="more than 9 event occurrences"):
        read_text(data, max_events=9)


def test_one_off_events_count_towards_max_events() -> None:
    data = cal(
        *(f"UID:{n}\nDTSTART:2027010{n}T080000Z\nDTEND:2027010{n}T090000Z" for n in range(1, 4))
    )
    with pytest.raises(IcsParseError, match="more than 2 events between"):
        read_text(data, max_events=2)


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=SECONDLY",  # years of instances before the window
        "FREQ=MINUTELY",  # half a million in the window
        "FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23",
    ],
)
def test_runaway_rules_are_refused_before_expanding(rule: str) -> None:
    data = cal(f"UID:runaway\nDTSTART:20200101T000000Z\nDTEND:20200101T000001Z\nRRULE:{rule}")
    with pytest.raises(IcsParseError, match="Refusing to expand") as info:
        read_text(data, max_events=5_000)
    assert "runaway" in str(info.value)


def test_events_outside_the_window_are_not_returned_and_not_clipped() -> None:
    result = read_text(
        cal(
            "UID:before\nDTSTART:20261231T220000Z\nDTEND:20261231T230000Z",  # ends at the start
            "UID:spanning\nDTSTART;VALUE=DATE:20261220\nDTEND;VALUE=DATE:20270105",
            "UID:after\nDTSTART:20271231T230000Z\nDTEND:20280101T000000Z",  # starts at the end
            "UID:last\nDTSTART:20271231T225959Z\nDTEND:20271231T230001Z",
        )
    )
    assert [i.uid for i in result.intervals] == ["spanning", "last"]
    assert result.intervals[0].start == local(BERLIN, 2026, 12, 20)


# --------------------------------------------------------------------------------------------
# Duplicates, component types, order


def test_identical_duplicates_are_merged_but_overlaps_kept() -> None:
    result = read("duplicates.ics")
    assert [(i.uid, i.summary) for i in result.intervals] == [
        ("dup@example.com", "Imported twice"),
        ("dup-no-uid-1", "Same time, other event"),
        ("overlap@example.com", "Overlapping"),
    ]


def test_one_off_events_reusing_a_uid_are_all_busy() -> None:
    # Some exporters reuse UIDs; keeping only one of them would free time another one blocks.
    result = read_text(
        cal(
            "UID:same\nSUMMARY:First\nDTSTART:20270105T080000Z\nDTEND:20270105T090000Z",
            "UID:same\nSUMMARY:Second\nSEQUENCE:1\nDTSTART:20270107T080000Z\nDTEND:20270107T090000Z",
        )
    )
    assert [i.summary for i in result.intervals] == ["First", "Second"]


def test_only_vevents_count() -> None:
    result = read("other_components.ics")
    assert [i.uid for i in result.intervals] == ["event-with-alarm@example.com"]
    assert result.warnings == ()


def test_real_world_export_with_folded_lines_and_alarms() -> None:
    result = read("google_export.ics")
    standups = by_uid(result, "1a2b3c4d5e6f@google.com")
    # MO/WE/FR from 3 May to 31 May is 13 days, minus the EXDATE on 5 May; one is moved.
    assert len(standups) == 12
    assert local(BERLIN, 2027, 5, 5, 9, 30) not in {s.start for s in standups}
    moved = [s for s in standups if s.summary == "Stand-up (afternoon)"]
    assert spans(moved) == [(local(BERLIN, 2027, 5, 10, 14), local(BERLIN, 2027, 5, 10, 15, 30))]
    assert by_uid(result, "trip-1@google.com") == []  # TRANSP:TRANSPARENT
    assert by_uid(result, "cancelled-1@google.com") == []
    (breakfast,) = by_uid(result, "floating-1@google.com")
    assert breakfast.start == local(BERLIN, 2027, 5, 7, 7)  # X-WR-TIMEZONE:Europe/Berlin


def test_output_is_sorted_and_independent_of_component_order() -> None:
    text = (FIXTURES / "google_export.ics").read_bytes().decode()
    head, _, rest = text.partition("BEGIN:VEVENT")
    blocks = ["BEGIN:VEVENT" + block for block in rest.split("BEGIN:VEVENT")]
    blocks[-1] = blocks[-1].replace("END:VCALENDAR\r\n", "")
    shuffled = blocks[:]
    random.Random(3).shuffle(shuffled)
    original = read_text(text)
    reordered = read_text(head + "".join(shuffled) + "END:VCALENDAR\r\n")
    assert original == reordered
    keys = [(i.start, i.end, i.summary, i.uid) for i in original.intervals]
    assert keys == sorted(keys)
    assert read_text(text) == original


# --------------------------------------------------------------------------------------------
# Cross-check with an independent parser (vobject) for the non-recurring events


def _vobject_single_busy_uids(
    path: Path, tz: ZoneInfo, start: datetime, end: datetime
) -> list[str]:
    """UIDs of busy one-off events per vobject, one entry per distinct (uid, start, end)."""
    seen: set[tuple[str, datetime, datetime]] = set()

    def aware(value: date) -> datetime:
        if isinstance(value, datetime):
            return value if value.tzinfo is not None else value.replace(tzinfo=tz)
        return datetime(value.year, value.month, value.day, tzinfo=tz)

    for calendar in vobject.readComponents(path.read_text()):
        for event in calendar.vevent_list:
            contents = event.contents
            if {"rrule", "rdate", "exdate", "recurrence-id"} & contents.keys():
                continue
            if "transp" in contents and event.transp.value.upper() == "TRANSPARENT":
                continue
            if "status" in contents and event.status.value.upper() == "CANCELLED":
                continue
            first = event.dtstart.value
            if "dtend" in contents:
                last = event.dtend.value
            elif "duration" in contents:
                last = first + event.duration.value
            elif isinstance(first, datetime):
                continue
            else:
                last = first + timedelta(days=1)
            if last == first and not isinstance(first, datetime):
                last = first + timedelta(days=1)
            s, e = aware(first), aware(last)
            if e > s and s < end and e > start:
                seen.add((event.uid.value, s, e))
    return sorted(uid for uid, _, _ in seen)


@pytest.mark.parametrize(
    "name",
    [
        "google_export.ics",
        "durations.ics",
        "all_day.ics",
        "transparency_status.ics",
        "duplicates.ics",
        "other_components.ics",
    ],
)
def test_one_off_events_agree_with_vobject(name: str) -> None:
    result = read(name)
    expected = _vobject_single_busy_uids(FIXTURES / name, BERLIN, YEAR_START, YEAR_END)
    singles = set(expected)
    assert expected, "the fixture should contain one-off busy events"
    assert sorted(i.uid for i in result.intervals if i.uid in singles) == expected


# --------------------------------------------------------------------------------------------
# Random small calendars never crash the reader


_DATES = st.sampled_from(["20270105", "20270328", "20271031", "20261231", "20280101", "2027013"])
_TIMES = st.sampled_from(["T080000", "T023000", "T235959", "T000000", "T25", ""])
_ZONES = st.sampled_from(
    ["", "Z", ";TZID=Europe/Berlin", ";TZID=America/New_York", ";TZID=Nowhere/Zone", ";VALUE=DATE"]
)


@st.composite
def _when(draw: st.DrawFn, name: str) -> str:
    zone = draw(_ZONES)
    stamp = draw(_DATES) + ("" if zone == ";VALUE=DATE" else draw(_TIMES))
    if zone == "Z":
        return f"{name}:{stamp}Z"
    return f"{name}{zone}:{stamp}"


_RULES = st.builds(
    lambda freq, extra: f"RRULE:FREQ={freq}{extra}",
    st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY", "HOURLY", "MINUTELY", "NEVER"]),
    st.sampled_from(
        [
            "",
            ";COUNT=3",
            ";COUNT=0",
            ";COUNT=-1",
            ";INTERVAL=0",
            ";INTERVAL=2",
            ";UNTIL=20270301",
            ";UNTIL=20270301T000000Z",
            ";UNTIL=soon",
            ";BYDAY=MO,WE",
            ";BYDAY=XX",
            ";BYMONTHDAY=31",
            ";BYHOUR=25",
            ";WKST=SU;BYDAY=1SU",
        ]
    ),
)


@st.composite
def _vevent(draw: st.DrawFn) -> str:
    lines = [f"UID:{draw(st.sampled_from(['a', 'b', 'c']))}"]
    if draw(st.booleans()):
        lines.append(draw(_when("DTSTART")))
    choice = draw(st.integers(0, 3))
    if choice == 1:
        lines.append(draw(_when("DTEND")))
    elif choice == 2:
        lines.append("DURATION:" + draw(st.sampled_from(["PT1H", "P1D", "-PT1H", "PT0S", "bogus"])))
    if draw(st.booleans()):
        lines.append(draw(_RULES))
    if draw(st.integers(0, 3)) == 0:
        lines.append(draw(_when("EXDATE")))
    if draw(st.integers(0, 3)) == 0:
        lines.append(draw(_when("RDATE")))
    if draw(st.integers(0, 2)) == 0:
        lines.append(draw(_when("RECURRENCE-ID")))
    if draw(st.booleans()):
        lines.append("STATUS:" + draw(st.sampled_from(["CANCELLED", "CONFIRMED", "TENTATIVE"])))
    if draw(st.booleans()):
        lines.append("TRANSP:" + draw(st.sampled_from(["TRANSPARENT", "OPAQUE", "?"])))
    if draw(st.integers(0, 4)) == 0:
        lines.append(
            draw(st.sampled_from(["SEQUENCE:2", "SEQUENCE:x", "X-ODD;:", ";;", "SUMMARY"]))
        )
    lines.append("SUMMARY:" + draw(st.text(max_size=8)).replace("\r", "").replace("\n", ""))
    return "\n".join(lines)


@st.composite
def _calendar(draw: st.DrawFn) -> bytes:
    head = draw(st.sampled_from(["", "X-WR-TIMEZONE:America/New_York\n", "X-WR-TIMEZONE:Bad\n"]))
    text = cal(*draw(st.lists(_vevent(), max_size=5)), head=head)
    if draw(st.integers(0, 5)) == 0:  # damage the bytes
        data = bytearray(text.encode())
        for _ in range(draw(st.integers(1, 5))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    return text.encode()


def _check_invariants(result: BusyRead, tz: ZoneInfo) -> None:
    keys = [(i.start, i.end, i.summary, i.uid) for i in result.intervals]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    for interval in result.intervals:
        assert interval.start.tzinfo is not None and interval.end.tzinfo is not None
        assert interval.end > interval.start
        assert interval.start < YEAR_END and interval.end > YEAR_START


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_calendar(), tz=st.sampled_from([BERLIN, NEW_YORK, UTC]))
def test_random_calendars_never_crash(data: bytes, tz: ZoneInfo) -> None:
    try:
        result = read_text(data, tz=tz, max_events=5_000)
    except IcsParseError as exc:
        assert "inline.ics" in str(exc)
        return
    _check_invariants(result, tz)


@settings(deadline=None)
@given(data=st.binary(max_size=300))
def test_random_bytes_never_crash(data: bytes) -> None:
    for candidate in (data, b"BEGIN:VCALENDAR\r\n" + data + b"\r\nEND:VCALENDAR\r\n"):
        try:
            result = read_text(candidate)
        except IcsParseError:
            continue
        _check_invariants(result, BERLIN)
