"""Local wall-clock times made real: windows are wall-clock, sessions are absolute instants.

Deliberate choices for the two DST edge cases (PEP 495):

* a wall time that does not exist (the spring-forward gap, e.g. 02:30 in Europe/Berlin on the last
  Sunday of March) resolves to the instant the clock shows after the jump (03:30), so a window that
  starts in the gap starts when the gap ends;
* a wall time that occurs twice (autumn fall-back) resolves to its first occurrence for a window's
  start and to its second for a window's end, so a window is never shortened.

Instants are kept in UTC inside the planner: Python compares two datetimes that share a tzinfo by
wall clock, ignoring ``fold``, which would make the two 02:30s of a fall-back night equal. They
are converted to the plan's zone only for output.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=8192)  # a long-running loop asks new days forever: bounded
def resolve(day: date, wall: time, zone: ZoneInfo, *, late: bool = False) -> datetime:
    """The instant (in UTC) of a wall-clock time on ``day`` (see the module docstring).

    Memoised: the day search and the placement ask the same few windows of each day again and
    again, and a fresh process (every ``liftrun plan``, every CronJob cycle) pays each zone
    conversion."""
    naive = datetime.combine(day, wall)
    if wall == time(23, 59, 59, 999999):
        # "24:00": the next local midnight, exactly
        return resolve(day + timedelta(days=1), time(0), zone)
    early = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if early.astimezone(zone).replace(tzinfo=None) != naive:
        # nonexistent: fold=0 applied the pre-transition offset, which lands after the gap
        return early
    return naive.replace(tzinfo=zone, fold=1).astimezone(UTC) if late else early


def window_bounds(day: date, start: time, end: time, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return resolve(day, start, zone), resolve(day, end, zone, late=True)


def add_minutes(instant: datetime, minutes: float) -> datetime:
    return instant.astimezone(UTC) + timedelta(minutes=minutes)
