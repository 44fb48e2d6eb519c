"""Mutated real calendars never break the busy reader: no exception but IcsParseError, bounded
time, bounded memory (issue 13).

The calendars are the test suites installed with the parsing libraries themselves (``icalendar``
ships 163 ``.ics`` files, ``recurring-ical-events`` 95): real exports from Google, Outlook,
Exchange, Apple, Thunderbird, Podio, ..., each with the oddity that once broke a parser.
Hypothesis mutates them the way a broken exporter, a truncated download or an attacker would.

CI runs a few hundred examples; ``LIFTRUN_FUZZ_EXAMPLES=20000`` runs a larger campaign.
"""

from __future__ import annotations

import os
import re
import time
import tracemalloc
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.ical.busy import IcsParseError, read_busy
from adapters.protocol import BusyRead

BERLIN = ZoneInfo("Europe/Berlin")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # a message is one line without escape sequences
EXAMPLES = int(os.environ.get("LIFTRUN_FUZZ_EXAMPLES", "300"))
DEADLINE_S = 1.0
# The deadline is checked between units of work; icalendar's parse of one file is one unit it
# cannot interrupt (a tenth of a second for the largest file here, more on a loaded CI box).
OVERSHOOT_S = 1.5
MAX_EVENTS = 5_000
# Windows the real calendars' dates fall in (their tests use 2013-2025), plus a wide one.
WINDOWS = [
    (datetime(2019, 1, 1, tzinfo=BERLIN), datetime(2020, 1, 1, tzinfo=BERLIN)),
    (datetime(2024, 1, 1, tzinfo=BERLIN), datetime(2024, 7, 1, tzinfo=BERLIN)),
    (datetime(1995, 1, 1, tzinfo=BERLIN), datetime(2035, 1, 1, tzinfo=BERLIN)),
]
HOSTILE_LINES = [
    b"RRULE:FREQ=WEEKLY;UNTIL=99991231T235959Z",
    b"DURATION:P99999999W",
    b"DURATION:-P99999999W",
    b"X-WR-TIMEZONE:Europe/" + b"A" * 300,
    b"X-WR-TIMEZONE:__pycache__",
    b"X-WR-TIMEZONE:../../../../etc/passwd",
    b"RRULE:FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30",
    b"RRULE:FREQ=MINUTELY;INTERVAL=10080;BYDAY=TU",
    b"RRULE:FREQ=SECONDLY",
    b"RRULE:FREQ=DAILY;COUNT=2147483647",
    b"RRULE:FREQ=YEARLY;INTERVAL=2147483647",
    b"RRULE:FREQ=WEEKLY;BYDAY=MO, TU, WE",
    b"RRULE:RSCALE=GREGORIAN;FREQ=YEARLY;SKIP=FORWARD",
    b"RRULE:RSCALE=CHINESE;FREQ=YEARLY",
    b"RRULE:FREQ=HOURLY;BYHOUR=25",
    b"RRULE:FREQ=DAILY;UNTIL=00010101",
    b"DTSTART:99991231T235959Z",
    b"DTSTART:00010101T000000Z",
    b"DTSTART;VALUE=DATE:99991231",
    b"DTEND;TZID=" + b"x" * 300 + b":20240101T000000",
    b"DTSTART;TZID=Pacific/Kiritimati:99991231T230000",
    b"DTSTART;TZID=Europe/Berlin:20240331T023000",
    b"EXDATE;VALUE=DATE:",
    b"RDATE;VALUE=PERIOD:20240101T000000Z/P99999999W",
    b"RECURRENCE-ID:20240105T080000Z",
    b"RECURRENCE-ID;RANGE=THISANDFUTURE:19000101T000000Z",
    b"SEQUENCE:99999999999999999999999",
    b"CALSCALE:GREGORIAN",
    b"BEGIN:VEVENT",
    b"END:VEVENT",
    b"BEGIN:VCALENDAR",
    b"END:VCALENDAR",
    b"END:VTOOD",
    b"BEGIN:VTIMEZONE",
    b"TZOFFSETFROM:+9999",
    b"X-COMMENT:trailing",
    b"\x00\x01\x1b[31m\x7f",
    b"SUMMARY:" + b"\xff\xfe" * 50,
    b"DESCRIPTION:" + b"x" * 100_000,
    b" folded continuation",
    b" lle\\nDenmark;X-APPLE=\x1b[2J",  # folded into the line above, whatever it is
]


@cache
def real_calendars() -> tuple[Path, ...]:
    """Every ``.ics`` file in the installed test suites of icalendar and recurring-ical-events."""
    roots = [Path(icalendar.__file__).parent, Path(recurring_ical_events.__file__).parent]
    return tuple(sorted(path for root in roots for path in root.rglob("*.ics")))


@cache
def contents(path: Path) -> bytes:
    return path.read_bytes()


def check(result: BusyRead, start: datetime, end: datetime) -> None:
    for warning in result.warnings:
        assert warning.startswith("fuzz.ics: ")
        assert not CONTROL.search(warning), warning
    keys = [(i.start, i.end, i.summary, i.uid) for i in result.intervals]
    assert keys == sorted(keys)
    for interval in result.intervals:
        assert interval.start.tzinfo is not None
        assert interval.end > interval.start
        assert interval.start < end and interval.end > start


def read_fuzzed(data: bytes, window: int, seconds: float) -> BusyRead:
    """``data`` read as the fuzz tests read it: one window, the event cap, a deadline."""
    start, end = WINDOWS[window]
    return read_busy(
        data,
        source="fuzz.ics",
        tz=BERLIN,
        start=start,
        end=end,
        max_events=MAX_EVENTS,
        deadline=time.monotonic() + seconds,
    )


def read_bounded(data: bytes, window: int) -> None:
    """Read ``data``; assert only IcsParseError escapes and the time stays bounded."""
    start, end = WINDOWS[window]
    began = time.monotonic()
    try:
        result = read_fuzzed(data, window, DEADLINE_S)
    except IcsParseError as exc:
        assert str(exc).startswith("fuzz.ics: ")
        assert not CONTROL.search(str(exc)), str(exc)
    else:
        check(result, start, end)
    elapsed = time.monotonic() - began
    assert elapsed < DEADLINE_S + OVERSHOOT_S, f"{elapsed:.2f} s"


def test_there_are_real_calendars_to_fuzz() -> None:
    assert len(real_calendars()) >= 200


@cache
def readable_calendars() -> tuple[Path, ...]:
    """The real calendars icalendar reads as VCALENDARs (the others are bare components or
    refused by icalendar itself): the ones whose mutations say something about the reader."""
    return tuple(path for path in real_calendars() if icalendar_reads_a_calendar(contents(path)))


def icalendar_reads_a_calendar(data: bytes) -> bool:
    """Whether icalendar itself reads ``data`` as one or more VCALENDARs."""
    try:
        calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except Exception:
        return False
    return bool(calendars) and all(calendar.name == "VCALENDAR" for calendar in calendars)


@pytest.mark.parametrize("window", range(len(WINDOWS)))
def test_every_real_calendar_is_read_without_an_escaping_exception(window: int) -> None:
    start, end = WINDOWS[window]
    readable = 0
    for path in real_calendars():
        data = contents(path)
        try:
            read_bounded(data, window)
        except AssertionError as error:
            raise AssertionError(f"{path}: {error}") from error
        if path in readable_calendars():
            # What icalendar reads is read (at most with warnings), never refused whole.
            read_busy(data, source=str(path), tz=BERLIN, start=start, end=end)
            readable += 1
    assert readable > 150  # the others are bare components or files icalendar refuses


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A real calendar with a few lines dropped, duplicated, swapped, replaced or inserted,
    possibly cut short or with stray bytes."""
    lines = contents(draw(st.sampled_from(readable_calendars()))).splitlines()
    for _ in range(draw(st.integers(1, 6))):
        if len(lines) < 2:
            lines = [b"BEGIN:VCALENDAR", *lines]
        # Mostly inside the calendar: a first line changed is just "not iCalendar".
        where = draw(st.integers(0 if draw(st.integers(0, 19)) == 0 else 1, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "duplicate", "swap", "insert", "replace", "bytes"]))
        if action == "drop":
            del lines[where]
        elif action == "duplicate":
            lines.insert(where, lines[where])
        elif action == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[where], lines[other] = lines[other], lines[where]
        elif action == "insert":
            lines.insert(where, draw(st.sampled_from(HOSTILE_LINES)))
        elif action == "replace":
            name = lines[where].split(b":", 1)[0]
            value = draw(
                st.one_of(
                    st.sampled_from(HOSTILE_LINES).map(lambda line: line.split(b":", 1)[-1]),
                    st.integers(-(10**30), 10**30).map(lambda n: str(n).encode()),
                    st.binary(max_size=40),
                )
            )
            lines[where] = name + b":" + value
        else:
            line = bytearray(lines[where] or b"X")
            line[draw(st.integers(0, len(line) - 1))] = draw(st.integers(0, 255))
            lines[where] = bytes(line)
    data = b"\r\n".join(lines) + b"\r\n"
    if draw(st.integers(0, 9)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return data


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=mutated(), window=st.integers(0, len(WINDOWS) - 1))
def test_mutated_real_calendars_never_break_the_reader(data: bytes, window: int) -> None:
    read_bounded(data, window)


@settings(
    max_examples=max(20, EXAMPLES // 10),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=mutated(), window=st.integers(0, len(WINDOWS) - 1))
def test_mutated_real_calendars_stay_within_memory(data: bytes, window: int) -> None:
    tracemalloc.start()
    try:
        read_fuzzed(data, window, 3 * DEADLINE_S)  # tracemalloc slows Python several times
    except IcsParseError:
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < 48 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
