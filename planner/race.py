"""Race day as a session of its own (P4): every calendar shows it, and nothing goes on it.

Without ``goal.race_time`` it is an all-day event (start and end are the local midnights around
race day; calendars get a DATE value with an exclusive end, RFC 5545 3.6.1); with it, a timed
event of ``goal.race_duration_minutes`` (or the distance's usual finishing time).
"""

from __future__ import annotations

from datetime import UTC, time, timedelta

from config.models import RACE_MINUTES, Race, Settings
from planner.localtime import resolve
from planner.model import Focus, Kind, PhaseName, Session
from planner.phases import monday_of

RACE_NAMES = {
    Race.FIVE_K: "5K",
    Race.TEN_K: "10K",
    Race.HALF: "half marathon",
    Race.MARATHON: "marathon",
}


def race_session(settings: Settings) -> Session | None:
    goal = settings.goal
    day = goal.race_date
    if goal.race is Race.NONE or day is None:
        return None
    zone = settings.zone
    name = RACE_NAMES[goal.race]
    if goal.race_time is None:
        start = resolve(day, time(0), zone).astimezone(zone)
        end = resolve(day + timedelta(days=1), time(0), zone).astimezone(zone)
        all_day = True
        when = "all day"
    else:
        minutes = goal.race_duration_minutes or RACE_MINUTES[goal.race]
        start = resolve(day, goal.race_time, zone).astimezone(zone)
        # in UTC: adding to a zoned time is wall-clock arithmetic, wrong across a DST switch
        end = (start.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(zone)
        all_day = False
        when = f"start {goal.race_time:%H:%M}"
    # in UTC: two times in one zone subtract by wall clock, which makes a 23-hour day 24 hours
    length = end.astimezone(UTC) - start.astimezone(UTC)
    lines = [
        f"Race day: {name} ({when}).",
        "Warm up 10-15 min easy with 3-4 strides; start no faster than goal pace.",
    ]
    if goal.race.is_long:
        lines.append("Fuel and drink as practised on your long runs (G6).")
    lines.append("Nothing else is scheduled today (P4); recovery follows (P5).")
    return Session(
        id=f"{monday_of(day):%Y%m%d}-race-1",
        date=day,
        kind=Kind.RACE,
        focus=Focus.RACE,
        phase=PhaseName.RACE,
        duration_minutes=round(length / timedelta(minutes=1)),
        title=f"Race: {name}",
        description="\n".join(lines),
        rules=("P4", "P5"),
        reason=f"race day, {day:%a %d %b %Y}: an event in every calendar, nothing placed on it",
        start=start,
        end=end,
        all_day=all_day,
        not_before=day,
        not_after=day,
    )
