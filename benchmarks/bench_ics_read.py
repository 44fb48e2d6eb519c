"""Benchmark for :mod:`adapters.ical.busy` on a synthetic professional's year.

The planner reads a whole year of someone's calendar every time a plan is (re)placed, so the
reader has a budget of 1 s for a realistically busy calendar on a small 2-core machine. The
calendar is generated deterministically (fixed seed) so figures are comparable between runs.
Events carry what real exports carry (organizer, attendees, folded descriptions, alarms)
because that is most of a real file's bytes; ``--bare`` leaves it out.

Run it as ``.venv/bin/python benchmarks/bench_ics_read.py [--bare]``; it exits non-zero when
the best of five runs exceeds the budget.
"""

from __future__ import annotations

import random
import sys
from datetime import date, datetime, time, timedelta
from time import perf_counter
from zoneinfo import ZoneInfo

from adapters.ical.busy import read_busy

BUDGET_SECONDS = 1.0
RUNS = 5
SEED = 20270101
BERLIN = ZoneInfo("Europe/Berlin")
YEAR = 2027

VTIMEZONES = """BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
BEGIN:VTIMEZONE
TZID:America/New_York
BEGIN:DAYLIGHT
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
TZNAME:EDT
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
TZNAME:EST
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
END:STANDARD
END:VTIMEZONE
"""


PEOPLE = ("ana", "ben", "chloe", "dev", "emma", "farid", "grace", "hiro", "ines", "jonas")


def _fmt(dt: datetime) -> str:
    return dt.strftime("%Y%m%dT%H%M%S")


def _fold(line: str) -> list[str]:
    """Fold a content line at 75 characters (RFC 5545 section 3.1), as exporters do."""
    parts = [line[:75]]
    parts.extend(" " + line[i : i + 74] for i in range(75, len(line), 74))
    return parts


def _export_noise(rng: random.Random, index: int) -> list[str]:
    """Properties and alarms that real exports carry and the busy reader never needs."""
    lines = [
        "CREATED:20261101T120000Z",
        "LAST-MODIFIED:20261115T083000Z",
        f"ORGANIZER;CN={PEOPLE[index % len(PEOPLE)].title()}:mailto:"
        f"{PEOPLE[index % len(PEOPLE)]}@bench.example",
        "LOCATION:Room 4.12\\, Main Building",
    ]
    for person in rng.sample(PEOPLE, rng.randint(2, 5)):
        lines.extend(
            _fold(
                "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;"
                f"CN={person.title()};X-NUM-GUESTS=0:mailto:{person}@bench.example"
            )
        )
    lines.extend(
        _fold(
            "DESCRIPTION:Agenda:\\n- status of the current sprint\\n- blockers\\n- next steps"
            f"\\n\\nJoin: https://meet.bench.example/{index:06d}-abc-defg\\n"
            "Please add topics to the shared document beforehand."
        )
    )
    if rng.random() < 0.5:
        lines.extend(
            [
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                "DESCRIPTION:This is an event reminder",
                "TRIGGER:-P0DT0H10M0S",
                "END:VALARM",
            ]
        )
    return lines


def _weekday_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _series(rng: random.Random, index: int, *, standup: bool, noise: bool) -> list[str]:
    """One recurring series plus its moved and cancelled instances, as RFC 5545 lines."""
    uid = f"{'standup' if standup else 'one-on-one'}-{index}@bench.example"
    tzid = "America/New_York" if index % 7 == 0 else "Europe/Berlin"
    first = date(YEAR - rng.randint(0, 3), rng.randint(1, 12), rng.randint(1, 28))
    weekday = rng.randint(0, 4)
    first = _weekday_on_or_after(first, weekday)
    hour = rng.randint(8, 16)
    start = datetime.combine(first, time(hour, rng.choice((0, 15, 30))))
    minutes = 15 if standup else rng.choice((30, 45, 60))
    byday = "MO,TU,WE,TH,FR" if standup else ("MO", "TU", "WE", "TH", "FR")[weekday]
    rule = f"FREQ=WEEKLY;BYDAY={byday}"
    if not standup and rng.random() < 0.3:
        rule += ";INTERVAL=2"
    if rng.random() < 0.2:
        rule += f";UNTIL={YEAR}{rng.randint(6, 12):02d}01T000000Z"
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20261201T000000Z",
        f"SUMMARY:{'Stand-up' if standup else '1:1'} #{index}",
        f"DTSTART;TZID={tzid}:{_fmt(start)}",
        f"DTEND;TZID={tzid}:{_fmt(start + timedelta(minutes=minutes))}",
        f"RRULE:{rule}",
    ]
    # Skipped weeks: holidays, people off sick. Always on the series' own weekday and time.
    in_year = _weekday_on_or_after(date(YEAR, 1, 1), weekday)
    exdates = sorted({in_year + timedelta(weeks=rng.randint(0, 50)) for _ in range(4)})
    lines.extend(f"EXDATE;TZID={tzid}:{_fmt(datetime.combine(d, start.time()))}" for d in exdates)
    if noise:
        lines.extend(_export_noise(rng, index))
    lines.append("END:VEVENT")
    # Moved instances (RECURRENCE-ID) and one cancelled instance.
    for n in range(3):
        original = datetime.combine(in_year + timedelta(weeks=rng.randint(0, 50)), start.time())
        moved = original + timedelta(hours=rng.choice((-2, -1, 1, 2, 3)))
        override = [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            "DTSTAMP:20261201T000000Z",
            "SEQUENCE:1",
            f"RECURRENCE-ID;TZID={tzid}:{_fmt(original)}",
            f"SUMMARY:{'Stand-up' if standup else '1:1'} #{index} (moved)",
            f"DTSTART;TZID={tzid}:{_fmt(moved)}",
            f"DTEND;TZID={tzid}:{_fmt(moved + timedelta(minutes=minutes))}",
        ]
        if n == 2:
            override.append("STATUS:CANCELLED")
        if noise:
            override.extend(_export_noise(rng, index))
        override.append("END:VEVENT")
        lines.extend(override)
    return lines


def _single(rng: random.Random, index: int, *, noise: bool) -> list[str]:
    """A one-off meeting; a few are in New York or UTC, some are transparent or cancelled."""
    day = date(YEAR, 1, 1) + timedelta(days=rng.randint(0, 364))
    while day.weekday() >= 5:
        day += timedelta(days=1)
    start = datetime.combine(day, time(rng.randint(7, 18), rng.choice((0, 30))))
    end = start + timedelta(minutes=rng.choice((30, 60, 90, 120)))
    roll = rng.random()
    if roll < 0.1:
        times = [
            f"DTSTART;TZID=America/New_York:{_fmt(start)}",
            f"DTEND;TZID=America/New_York:{_fmt(end)}",
        ]
    elif roll < 0.2:
        times = [f"DTSTART:{_fmt(start)}Z", f"DURATION:PT{int((end - start).seconds / 60)}M"]
    else:
        times = [
            f"DTSTART;TZID=Europe/Berlin:{_fmt(start)}",
            f"DTEND;TZID=Europe/Berlin:{_fmt(end)}",
        ]
    extra = []
    if rng.random() < 0.05:
        extra.append("TRANSP:TRANSPARENT")
    if rng.random() < 0.03:
        extra.append("STATUS:CANCELLED")
    if noise:
        extra.extend(_export_noise(rng, index))
    return [
        "BEGIN:VEVENT",
        f"UID:meeting-{index}@bench.example",
        "DTSTAMP:20261201T000000Z",
        f"SUMMARY:Meeting {index}",
        *times,
        *extra,
        "END:VEVENT",
    ]


def _travel(rng: random.Random, index: int) -> list[str]:
    """An all-day travel block (VALUE=DATE, exclusive DTEND per RFC 5545 section 3.6.1)."""
    first = date(YEAR, 1, 1) + timedelta(days=rng.randint(0, 360))
    last = first + timedelta(days=rng.randint(1, 3))
    return [
        "BEGIN:VEVENT",
        f"UID:travel-{index}@bench.example",
        "DTSTAMP:20261201T000000Z",
        f"SUMMARY:Travel {index}",
        f"DTSTART;VALUE=DATE:{first:%Y%m%d}",
        f"DTEND;VALUE=DATE:{last:%Y%m%d}",
        *(["TRANSP:TRANSPARENT"] if index % 5 == 0 else []),
        "END:VEVENT",
    ]


def build_calendar(seed: int = SEED, *, noise: bool = True) -> tuple[bytes, int]:
    """Return the calendar bytes and the number of VEVENT components in it."""
    rng = random.Random(seed)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//liftrun//bench//EN"]
    lines.extend(VTIMEZONES.strip().splitlines())
    for i in range(12):
        lines.extend(_series(rng, i, standup=True, noise=noise))
    for i in range(60):
        lines.extend(_series(rng, i, standup=False, noise=noise))
    for i in range(60):
        lines.extend(_travel(rng, i))
    vevents = sum(1 for line in lines if line == "BEGIN:VEVENT")
    singles = 5000 - vevents
    for i in range(singles):
        lines.extend(_single(rng, i, noise=noise))
    lines.append("END:VCALENDAR")
    text = "\r\n".join(lines) + "\r\n"
    return text.encode(), sum(1 for line in lines if line == "BEGIN:VEVENT")


def main() -> int:
    data, vevents = build_calendar(noise="--bare" not in sys.argv[1:])
    start = datetime(YEAR, 1, 1, tzinfo=BERLIN)
    end = datetime(YEAR + 1, 1, 1, tzinfo=BERLIN)
    timings = []
    result = None
    for _ in range(RUNS):
        t0 = perf_counter()
        result = read_busy(data, source="bench.ics", tz=BERLIN, start=start, end=end)
        timings.append(perf_counter() - t0)
    assert result is not None
    best = min(timings)
    print(
        f"{vevents} VEVENTs, {len(data) / 1e6:.2f} MB -> {len(result.intervals)} busy intervals, "
        f"{len(result.warnings)} warnings; best of {RUNS}: {best:.3f} s "
        f"(median {sorted(timings)[RUNS // 2]:.3f} s, budget {BUDGET_SECONDS:.1f} s)"
    )
    if best > BUDGET_SECONDS:
        print(f"FAIL: {best:.3f} s exceeds the {BUDGET_SECONDS:.1f} s budget", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
