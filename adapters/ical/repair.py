"""A tolerant reading of one VEVENT's recurrence, where the intent is plain.

The busy reader fails safe: a series it cannot fully read keeps what is certain (its first
occurrence, its RDATEs, its moved instances) busy instead of being dropped. This module does the
part of that which happens before expansion, on the parsed ``icalendar`` component:

* a value real exporters write that RFC 5545 does not allow but whose meaning is clear is read
  as meant: spaces in a BYDAY list (Exchange's ``BYDAY=MO, TU, WE``), an empty
  ``EXDATE;VALUE=DATE:`` (Google), RFC 7529's ``RSCALE=GREGORIAN`` (the ordinary calendar, with
  its ``SKIP`` handled as described in :func:`_gregorian`);
* a recurrence property that cannot be read at all is removed, and a note says which one and
  what that leaves busy; removing an RRULE or an EXDATE can only make the event busier.

Notes are complete sentences after "UID 'x': "; the reader adds the source and the UID.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

import icalendar
from icalendar import vBroken, vRecur

from adapters.ical.rrule_bounds import as_list, first_value, never_matches

__all__ = ["ONLY_KNOWN", "Repair", "quote", "repair_event"]

_FREQS = frozenset({"SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"})
# BY* parts, their allowed values and whether they may also be negative (RFC 5545 3.3.10).
_RANGES = (
    ("BYSECOND", 0, 60, False),
    ("BYMINUTE", 0, 59, False),
    ("BYHOUR", 0, 23, False),
    ("BYMONTH", 1, 12, False),
    ("BYMONTHDAY", 1, 31, True),
    ("BYYEARDAY", 1, 366, True),
    ("BYWEEKNO", 1, 53, True),
    ("BYSETPOS", 1, 366, True),
)
_NOT_SKIPPED = ("BYDAY", "BYYEARDAY", "BYWEEKNO", "BYSETPOS")  # SKIP with these: read as OMIT
# What a series keeps busy when its recurrence cannot be read (here) or expanded (ics_busy).
ONLY_KNOWN = "only its first occurrence, RDATEs and moved instances are busy"
_SHOWN = 80  # characters of a value from the calendar quoted in a note or warning


@dataclass
class Repair:
    """What :func:`repair_event` changed and what it could not understand."""

    notes: list[str] = field(default_factory=list)
    # RECURRENCE-ID unreadable: the event cannot replace an instance, so it is read as an
    # event of its own (and the instance it meant to move stays busy too).
    detach: bool = False


def repair_event(component: icalendar.Component) -> Repair:
    """Repair the recurrence properties of ``component`` (a VEVENT) in place."""
    repair = Repair()
    if not component.errors and "RRULE" not in component:
        return repair  # most events: nothing was unreadable and there is no rule to check
    start = component.get("DTSTART")
    dtstart = None if start is None or isinstance(start, (vBroken, list)) else start.dt
    if "RRULE" in component:
        _repair_rrules(component, dtstart, repair)
    if "EXDATE" in component:
        _drop_broken(
            component, "EXDATE", repair, "; the instances it would remove stay busy", quiet=True
        )
    if "RDATE" in component:
        _drop_broken(component, "RDATE", repair, "; the dates it adds are not read")
    recurrence_id = component.get("RECURRENCE-ID")
    if isinstance(recurrence_id, vBroken):
        repair.notes.append(
            f"RECURRENCE-ID {_shown(recurrence_id)} could not be read "
            f"({_error(recurrence_id)}); the event is read on its own and the instance it "
            "moves stays busy"
        )
        del component["RECURRENCE-ID"]
        repair.detach = True
    end = component.get("DTEND")
    if isinstance(end, vBroken) and isinstance(dtstart, date) and not isinstance(dtstart, datetime):
        repair.notes.append(
            f"DTEND {_shown(end)} could not be read ({_error(end)}); read as one day "
            "(RFC 5545 section 3.6.1)"
        )
        del component["DTEND"]
    handled = {"RRULE", "EXDATE", "RDATE", "RECURRENCE-ID"}
    if "DTEND" not in component:
        handled.add("DTEND")
    component.errors = [
        (name, message) for name, message in component.errors if name not in handled
    ]
    return repair


def _repair_rrules(component: icalendar.Component, dtstart: Any, repair: Repair) -> None:
    kept: list[vRecur] = []
    for value in as_list(component.get("RRULE")):
        rules = _read_rule(value, dtstart, repair)
        kept.extend(rules)
    del component["RRULE"]
    for rule in kept:
        component.add("RRULE", rule)


def _read_rule(value: Any, dtstart: Any, repair: Repair) -> list[vRecur]:
    """The rules ``value`` stands for (none if it cannot be read), noting what was dropped."""
    if isinstance(value, vBroken):
        try:
            value = vRecur.from_ical(re.sub(r"\s+", "", str(value)))
        except Exception:
            repair.notes.append(
                f"RRULE {_shown(value)} could not be read ({_error(value)}); {ONLY_KNOWN}"
            )
            return []
    if not isinstance(value, vRecur):
        repair.notes.append(f"RRULE {_shown(value)} could not be read; {ONLY_KNOWN}")
        return []
    rule = vRecur(value)
    text = _rule_text(value)
    scale = rule.pop("RSCALE", None)
    if scale is not None:
        name = _word(first_value(scale))
        if name != "GREGORIAN":
            repair.notes.append(
                f"RRULE {text}: RSCALE {quote(name)} (RFC 7529) is not supported; {ONLY_KNOWN}"
            )
            return []
    skip = rule.pop("SKIP", None)
    freq = str(first_value(rule.get("FREQ")) or "").strip().upper()
    if freq not in _FREQS:
        repair.notes.append(f"RRULE {text} has no valid FREQ; {ONLY_KNOWN}")
        return []
    interval = first_value(rule.get("INTERVAL"))
    if interval is not None and (
        isinstance(interval, bool) or not isinstance(interval, int) or interval < 1
    ):
        repair.notes.append(
            f"RRULE {text}: INTERVAL must be a positive integer (RFC 5545 section 3.3.10); "
            f"{ONLY_KNOWN}"
        )
        return []
    count = first_value(rule.get("COUNT"))
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        repair.notes.append(
            f"RRULE {text}: COUNT must be a positive integer (RFC 5545 section 3.3.10); "
            f"{ONLY_KNOWN}"
        )
        return []
    for name, low, high, signed in _RANGES:
        for value in as_list(rule.get(name)):
            if isinstance(value, int) and not low <= (abs(value) if signed else value) <= high:
                repair.notes.append(
                    f"RRULE {text}: {name}={value} is out of range (RFC 5545 section 3.3.10); "
                    f"{ONLY_KNOWN}"
                )
                return []
    if isinstance(dtstart, date):
        impossible = never_matches(rule, dtstart)
        if impossible is not None:
            repair.notes.append(f"RRULE {text} never occurs: {impossible}; {ONLY_KNOWN}")
            return []
    rules = [rule]
    if skip is not None and isinstance(dtstart, date):
        rules.extend(_gregorian(rule, _word(first_value(skip)), dtstart, text, repair))
    return rules


def _gregorian(rule: vRecur, skip: str, dtstart: date, text: str, repair: Repair) -> list[vRecur]:
    """Extra rules for RFC 7529 ``SKIP`` in the Gregorian calendar (section 3.1.2).

    An instance on a day a month lacks (the 29th to 31st) is left out (``OMIT``, the RFC 5545
    meaning), moved to the month's last day (``BACKWARD``) or to the first of the next month
    (``FORWARD``). The moved instances come from one more rule on those days of the short
    months; where that rule cannot be exact it errs towards busy (the 1st of March also in leap
    years for a 29 February ``FORWARD``; every short month's next 1st for ``FORWARD`` with a
    monthly INTERVAL).
    """
    if skip not in {"BACKWARD", "FORWARD"}:
        return []  # OMIT
    freq = str(first_value(rule.get("FREQ"))).upper()
    months = [int(m) for m in as_list(rule.get("BYMONTH"))]
    monthdays = [int(d) for d in as_list(rule.get("BYMONTHDAY")) if int(d) >= 29]
    other_filters = [
        name for name in ("BYDAY", "BYYEARDAY", "BYWEEKNO", "BYSETPOS") if rule.get(name)
    ]
    if not rule.get("BYMONTHDAY") and not other_filters and freq in {"MONTHLY", "YEARLY"}:
        monthdays = [dtstart.day] if dtstart.day >= 29 else []
        if freq == "YEARLY":
            months = months or [dtstart.month]
    if not monthdays:
        return []
    if other_filters or freq not in {"MONTHLY", "YEARLY"}:
        repair.notes.append(
            f"RRULE {text}: SKIP={skip} is read as SKIP=OMIT with "
            f"{', '.join(other_filters) or freq}; instances it would move off the 29th to 31st "
            "are not busy"
        )
        return []
    short = sorted(  # months that lack one of the days in a common year
        {
            m
            for m in (months or range(1, 13))
            for d in monthdays
            if calendar.monthrange(2027, m)[1] < d
        }
    )
    if not short:
        return []
    extra = vRecur(rule)
    extra.pop("COUNT", None)  # the moved instances count towards COUNT; erring towards busy
    if skip == "BACKWARD":
        extra["BYMONTH"], extra["BYMONTHDAY"] = short, [-1]
    else:
        extra["BYMONTH"], extra["BYMONTHDAY"] = [m + 1 for m in short], [1]
        if freq == "MONTHLY":
            extra.pop("INTERVAL", None)
    return [extra]


def _drop_broken(
    component: icalendar.Component,
    name: str,
    repair: Repair,
    consequence: str,
    *,
    quiet: bool = False,
) -> None:
    """Remove the values of ``name`` that could not be read; an empty one silently."""
    values = as_list(component.get(name))
    kept = [value for value in values if not isinstance(value, vBroken)]
    if len(kept) == len(values):
        return
    for value in values:
        if isinstance(value, vBroken) and (str(value).strip() or not quiet):
            repair.notes.append(
                f"{name} {_shown(value)} could not be read ({_error(value)}){consequence}"
            )
    del component[name]
    for value in kept:
        component.add(name, value)


def _rule_text(rule: vRecur) -> str:
    try:
        text: bytes = rule.to_ical()  # type: ignore[no-untyped-call]
        return quote(text.decode("utf-8", errors="replace"))
    except Exception:
        return quote(str(rule))


def _shown(value: Any) -> str:
    return quote(str(value))


def quote(text: str) -> str:
    """A value from the calendar, quoted and cut short (it may be hostile or huge)."""
    return repr(text[:_SHOWN] + ("..." if len(text) > _SHOWN else ""))


def _error(value: Any) -> str:
    error = getattr(value, "parse_error", None)
    text = str(error) if error is not None else "unreadable value"
    return repr(text[: _SHOWN * 2])[1:-1]  # one line, whatever the calendar held


def _word(value: Any) -> str:
    """A keyword value of a rule part (icalendar holds SKIP as an Enum), upper case."""
    return str(value.value if isinstance(value, Enum) else value).strip().upper()
