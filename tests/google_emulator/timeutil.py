"""RFC 3339 parsing and Google's EventDateTime rules in one place.

Google is strict about offsets: query bounds without one are rejected, and an event dateTime
without an offset needs a ``timeZone``.  Every comparison the emulator makes (windows, overlap,
ordering, free/busy) goes through :func:`instant` so all-day and timed events compare alike.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tests.google_emulator.errors import ApiError, Json, bad_request

_RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$",
)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise bad_request(f"Invalid time zone definition for {name}.", "timeZone") from exc


def parse_datetime(text: str, *, need_offset: bool) -> datetime:
    """Parse RFC 3339; the result is naive only when the text had no offset and none is needed."""
    match = _RFC3339.match(text)
    if match is None:
        raise bad_request(f"Invalid value '{text}'.")
    day, clock, fraction, offset = match.groups()
    if offset is None and need_offset:
        raise bad_request(f"Bad Request: time '{text}' has no time zone offset.", "badRequest")
    iso = f"{day}T{clock}{(fraction or '')[:7]}{'+00:00' if offset in ('Z', 'z') else offset or ''}"
    try:
        return datetime.fromisoformat(iso)
    except ValueError as exc:
        raise bad_request(f"Invalid value '{text}'.") from exc


def format_utc(moment: datetime) -> str:
    """Google's timestamp style for ``updated``/``created``: UTC with milliseconds."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def format_zoned(moment: datetime) -> str:
    """Google's dateTime output: seconds precision, explicit offset (``Z`` for UTC)."""
    text = moment.replace(microsecond=0).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise bad_request(f"Invalid value '{text}'.") from exc


def is_all_day(when: Json) -> bool:
    return "date" in when and when.get("date") is not None


def instant(when: Json, calendar_tz: str) -> datetime:
    """The absolute moment of a stored EventDateTime; all-day dates start at local midnight."""
    if is_all_day(when):
        day = parse_date(str(when["date"]))
        return datetime(day.year, day.month, day.day, tzinfo=zone(calendar_tz))
    moment = parse_datetime(str(when["dateTime"]), need_offset=False)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(str(when.get("timeZone") or calendar_tz)))
    return moment


def normalize_when(when: Json, field: str, calendar_tz: str, *, recurring: bool) -> Json:
    """Validate one EventDateTime and return it the way Google stores and echoes it."""
    has_date = when.get("date") is not None
    has_time = when.get("dateTime") is not None
    if has_date and has_time:
        raise bad_request(f"Invalid {field} time.", "invalid", field)
    if not has_date and not has_time:
        raise ApiError(400, "required", f"Missing {field} time.", location=field)
    out: Json = {k: v for k, v in when.items() if v is not None}  # null means unset
    if has_date:
        parse_date(str(when["date"]))
        out.pop("dateTime", None)
        return out
    moment = parse_datetime(str(when["dateTime"]), need_offset=False)
    tz_name = when.get("timeZone")
    if tz_name is not None:
        zone(str(tz_name))
    if (moment.tzinfo is None or recurring) and not tz_name:
        raise ApiError(
            400, "required", f"Missing time zone definition for {field} time.", location=field
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(str(tz_name)))
    shown = moment.astimezone(zone(str(tz_name or calendar_tz)))
    out["dateTime"] = format_zoned(shown)
    out.pop("date", None)
    return out


def shift(when: Json, start: datetime, calendar_tz: str) -> Json:
    """An EventDateTime shaped like ``when`` but placed at ``start`` (for recurrence instances)."""
    if is_all_day(when):
        return {"date": start.date().isoformat()}
    out: Json = {"dateTime": format_zoned(start)}
    if when.get("timeZone"):
        out["timeZone"] = when["timeZone"]
    return out


def days(count: int) -> timedelta:
    return timedelta(days=count)
