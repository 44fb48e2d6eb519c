"""Keeping dateutil's recurrence expansion inside a deadline, and spotting rules that never match.

dateutil iterates every rule from its DTSTART and checks each candidate day against the BY*
filters; a rule whose filters can never match (``FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30``)
scans day by day to the year 9999 without yielding once, which takes seconds per rule. Nothing
outside dateutil's loop runs in that time, so a deadline checked per occurrence never fires.

:func:`bound_rule` makes an existing ``dateutil.rrule.rrule`` check a :class:`Deadline` from
inside that loop. It runs a copy of ``rrule._iter`` whose module globals name a subclass of
dateutil's private ``_iterinfo``; that object is asked to rebuild its masks whenever the
iteration reaches a new month (or year) and to build the time set of every sub-daily period,
which are the two places checked. If dateutil's internals ever change shape, binding is skipped
(:data:`BOUNDING_AVAILABLE` is false) and the other limits of the reader still apply.

:func:`never_matches` is the cheap up-front test for the common impossible rules: the days a
rule's BYMONTH/BYMONTHDAY/BYYEARDAY (with RFC 5545's defaults from DTSTART) allow, checked
against one common and one leap year.

:func:`first_value` and :func:`as_list` read a property or rule part that ``icalendar`` gives
as one value or a list. They live here because :mod:`adapters.ical.repair`,
:mod:`adapters.ical.expansion` and :mod:`adapters.ical.recurring` import this module, so they
share one copy without a cycle.
"""

from __future__ import annotations

import calendar
import types
from datetime import date, timedelta
from typing import Any

from dateutil import rrule as _dateutil_rrule  # type: ignore[import-untyped]

from adapters.ical.errors import Deadline

__all__ = ["BOUNDING_AVAILABLE", "as_list", "bound_rule", "first_value", "never_matches"]

_CHECK_EVERY = 1024  # sub-daily periods between two clock reads (about a millisecond of work)


def _make_bounded_class() -> type | None:
    """The rrule subclass whose iteration checks a deadline, or None if dateutil changed."""
    base_info = getattr(_dateutil_rrule, "_iterinfo", None)
    base_iter = getattr(_dateutil_rrule.rrule, "_iter", None)
    if base_info is None or not isinstance(base_iter, types.FunctionType):
        return None
    if not all(hasattr(base_info, name) for name in ("rebuild", "htimeset", "mtimeset")):
        return None

    class BoundedIterinfo(base_info):  # type: ignore[misc,valid-type]  # untyped dateutil
        # No __slots__: the base __init__ resets ``self.__slots__``, which must stay its own.
        def __init__(self, rule: Any) -> None:
            super().__init__(rule)
            self.deadline: Deadline = rule.liftrun_deadline
            self.ticks = 0

        def rebuild(self, year: int, month: int) -> None:
            self.deadline.check()
            super().rebuild(year, month)

        def _tick(self) -> None:
            self.ticks += 1
            if self.ticks % _CHECK_EVERY == 0:
                self.deadline.check()

        def htimeset(self, hour: int, minute: int, second: int) -> Any:
            self._tick()
            return super().htimeset(hour, minute, second)

        def mtimeset(self, hour: int, minute: int, second: int) -> Any:
            self._tick()
            return super().mtimeset(hour, minute, second)

        def stimeset(self, hour: int, minute: int, second: int) -> Any:
            self._tick()
            return super().stimeset(hour, minute, second)

    namespace = dict(vars(_dateutil_rrule))
    namespace["_iterinfo"] = BoundedIterinfo
    bounded_iter = types.FunctionType(
        base_iter.__code__, namespace, "_iter", base_iter.__defaults__, base_iter.__closure__
    )
    return type("BoundedRrule", (_dateutil_rrule.rrule,), {"_iter": bounded_iter})


_BOUNDED = _make_bounded_class()
BOUNDING_AVAILABLE = _BOUNDED is not None


def bound_rule(rule: Any, deadline: Deadline) -> None:
    """Make ``rule`` (a dateutil ``rrule``, changed in place) stop at ``deadline``.

    In place because recurring-ical-events builds and keeps the rule objects itself. Other
    kinds of objects (``rruleset`` holds only RDATEs here) are left alone.
    """
    if _BOUNDED is None or not deadline.active or type(rule) is not _dateutil_rrule.rrule:
        return
    rule.__class__ = _BOUNDED
    rule.liftrun_deadline = deadline
    if getattr(rule, "_cache", None) is not None:
        rule._invalidate_cache()  # the cached generator was made by the unbounded _iter


# The BY* parts whose values make up the set of instances in one sub-daily period.
_SUBDAILY_SET = {"HOURLY": ("BYMINUTE", "BYSECOND"), "MINUTELY": ("BYSECOND",), "SECONDLY": ()}
_COMMON_YEAR = [date(2027, 1, 1) + timedelta(days=n) for n in range(365)]
_LEAP_YEAR = [date(2028, 1, 1) + timedelta(days=n) for n in range(366)]


def never_matches(rule: Any, dtstart: date) -> str | None:
    """Why ``rule`` (an icalendar ``vRecur``) can never produce a day, or None if it may.

    Only BYMONTH, BYMONTHDAY and BYYEARDAY are looked at: their allowed days repeat with the
    length of the year, so one common and one leap year settle it. Other filters only remove
    days, so a rule these three make empty is empty; a rule they allow may still never match
    (the reader's deadline covers those).
    """
    freq = str(first_value(rule.get("FREQ")) or "").upper()
    if str(first_value(rule.get("RSCALE")) or "GREGORIAN").upper() != "GREGORIAN":
        return None
    months = _ints(rule.get("BYMONTH"))
    monthdays = _ints(rule.get("BYMONTHDAY"))
    yeardays = _ints(rule.get("BYYEARDAY"))
    if months is None or monthdays is None or yeardays is None:
        return None  # values dateutil would not read either (such as RSCALE leap months)
    defaulted = ""
    if not any(rule.get(name) for name in ("BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY")):
        # RFC 5545 section 3.3.10: what the rule leaves out is taken from DTSTART.
        if freq == "YEARLY":
            months = months or [dtstart.month]
            monthdays = [dtstart.day]
            defaulted = f" (day {dtstart.day} taken from DTSTART)"
        elif freq == "MONTHLY":
            monthdays = [dtstart.day]
            defaulted = f" (day {dtstart.day} taken from DTSTART)"
    positions = _ints(rule.get("BYSETPOS")) or []
    per_period = _SUBDAILY_SET.get(freq)
    if per_period is not None and positions:
        size = 1
        for name in per_period:
            size *= max(1, len(as_list(rule.get(name))))
        if all(abs(position) > size for position in positions):
            return (
                f"BYSETPOS={','.join(map(str, positions))} of {size} instance(s) per {freq} period"
            )
    weeks = _ints(rule.get("BYWEEKNO"))
    if months and weeks and not any(_week_months(week) & set(months) for week in weeks):
        return (
            f"BYWEEKNO={','.join(map(str, weeks))} is never in BYMONTH={','.join(map(str, months))}"
        )
    if not monthdays and not yeardays:
        return None
    for year in (_COMMON_YEAR, _LEAP_YEAR):
        year_length = len(year)
        for day in year:
            if months and day.month not in months:
                continue
            if monthdays:
                month_length = calendar.monthrange(day.year, day.month)[1]
                if day.day not in monthdays and day.day - month_length - 1 not in monthdays:
                    continue
            if yeardays:
                yearday = day.timetuple().tm_yday
                if yearday not in yeardays and yearday - year_length - 1 not in yeardays:
                    continue
            return None
    parts = [
        f"{name}={','.join(str(v) for v in values)}"
        for name, values in (
            ("BYMONTH", months),
            ("BYMONTHDAY", monthdays),
            ("BYYEARDAY", yeardays),
        )
        if values
    ]
    return f"{';'.join(parts)}{defaulted} is never a date"


def _week_months(week: int) -> set[int]:
    """Months that may hold a day of week number ``week`` (every month for negative ones).

    Week 1 starts between 29 December and 4 January (RFC 5545 section 3.3.10, as ISO 8601), so
    week ``w`` lies within days ``7w - 9`` to ``7w + 3`` of the year, in either kind of year.
    """
    if week <= 0:
        return set(range(1, 13))
    months = set()
    for year in (_COMMON_YEAR, _LEAP_YEAR):
        for yearday in (7 * week - 9, 7 * week + 3):
            if yearday < 1:
                months.add(12)
            elif yearday > len(year):
                months.add(1)
        first, last = max(1, 7 * week - 9), min(len(year), 7 * week + 3)
        months.update(year[n - 1].month for n in range(first, last + 1))
    return months


def first_value(values: Any) -> Any:
    """The first of a property icalendar may give as one value or a list (repeated lines)."""
    if isinstance(values, list):
        return values[0] if values else None
    return values


def as_list(value: Any) -> list[Any]:
    """Every value of a property icalendar may give as one value, a list or None."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _ints(values: Any) -> list[int] | None:
    """The integer values of a BY* part ([] if absent), None if any is not an integer."""
    result = []
    for value in as_list(values):
        if isinstance(value, bool) or not isinstance(value, int) or getattr(value, "leap", False):
            return None
        result.append(int(value))
    return result
