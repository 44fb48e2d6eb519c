"""Expansion of recurring events into the instances ``singleEvents=true`` and free/busy see.

Google names an instance ``<eventId>_<original start>`` (``20240105T063000Z`` for timed events,
``20240105`` for all-day ones) and gives it ``recurringEventId`` and ``originalStartTime``.
Rules are evaluated on wall-clock time in the event's ``start.timeZone`` so a weekly 07:00 run
stays at 07:00 across DST, as in Google Calendar.  Open-ended rules are expanded only up to
:data:`HORIZON` past the window start (or now), a bound Google also applies in practice.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from dateutil.rrule import rruleset, rrulestr  # type: ignore[import-untyped]

from tests.google_emulator.errors import Json, bad_request
from tests.google_emulator.timeutil import instant, is_all_day, shift, zone

HORIZON = timedelta(days=730)
MAX_INSTANCES = 5000
_UNTIL = re.compile(r"UNTIL=(\d{8})(T(\d{6})Z?)?", re.IGNORECASE)
_ALLOWED = ("RRULE:", "EXRULE:", "RDATE", "EXDATE")


def _until_to_utc(match: re.Match[str], tz_name: str) -> str:
    if match.group(2) and match.group(2).upper().endswith("Z"):
        return match.group(0)
    stamp = match.group(1) + (match.group(3) or "235959")
    local = datetime.strptime(stamp + "+0000", "%Y%m%d%H%M%S%z").replace(tzinfo=zone(tz_name))
    return "UNTIL=" + local.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _normalized_lines(lines: list[str], all_day: bool, tz_name: str) -> list[str]:
    """Make UNTIL agree with DTSTART's awareness, which dateutil insists on."""
    out = []
    for line in lines:
        if not line.upper().startswith(_ALLOWED):
            raise bad_request("Invalid recurrence rule.")
        if all_day:
            out.append(_UNTIL.sub(lambda m: f"UNTIL={m.group(1)}", line))
        else:
            out.append(_UNTIL.sub(lambda m: _until_to_utc(m, tz_name), line))
    return out


def rule_set(event: Json, calendar_tz: str) -> rruleset:
    start: Json = event["start"]
    all_day = is_all_day(start)
    tz_name = str(start.get("timeZone") or calendar_tz)
    first = instant(start, calendar_tz)
    dtstart = first.replace(tzinfo=None) if all_day else first.astimezone(zone(tz_name))
    lines = _normalized_lines([str(x) for x in event.get("recurrence") or []], all_day, tz_name)
    try:
        parsed = rrulestr("\n".join(lines), dtstart=dtstart, forceset=True)
    except (ValueError, TypeError) as exc:
        raise bad_request("Invalid recurrence rule.") from exc
    assert isinstance(parsed, rruleset)
    return parsed


def validate(event: Json, calendar_tz: str) -> None:
    rule_set(event, calendar_tz)


def instances(
    event: Json, calendar_tz: str, window_start: datetime | None, window_end: datetime | None
) -> Iterator[Json]:
    """Yield instances that may overlap the window; callers apply the exact overlap test."""
    start: Json = event["start"]
    all_day = is_all_day(start)
    first = instant(start, calendar_tz)
    duration = instant(event["end"], calendar_tz) - first
    rules = rule_set(event, calendar_tz)
    tz = zone(calendar_tz) if all_day else zone(str(start.get("timeZone") or calendar_tz))
    now = datetime.now(UTC)
    lower = (window_start or first) - duration - timedelta(seconds=1)
    upper = window_end or max(window_start or now, now, first) + HORIZON
    if all_day:
        lower = lower.astimezone(tz).replace(tzinfo=None)
        upper = upper.astimezone(tz).replace(tzinfo=None)
    for count, occurrence in enumerate(rules.xafter(lower, inc=True)):
        if occurrence >= upper or count >= MAX_INSTANCES:
            break
        begin = occurrence.replace(tzinfo=tz) if all_day else occurrence
        yield _instance(event, begin, duration, calendar_tz)


def _instance(event: Json, begin: datetime, duration: timedelta, calendar_tz: str) -> Json:
    start: Json = event["start"]
    if is_all_day(start):
        suffix = begin.strftime("%Y%m%d")
    else:
        suffix = begin.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    item = {k: v for k, v in event.items() if k != "recurrence"}
    item["id"] = f"{event['id']}_{suffix}"
    item["recurringEventId"] = event["id"]
    item["start"] = shift(start, begin, calendar_tz)
    item["end"] = shift(event["end"], begin + duration, calendar_tz)
    item["originalStartTime"] = dict(item["start"])
    return item
