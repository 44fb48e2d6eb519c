"""Recurring series: expanded together, failures isolated to the series that caused them.

A calendar's series are expanded in one query for speed; when the library refuses one, each is
set up alone so one bad series neither hides the others nor goes unreported, and a series that
cannot be expanded at all keeps what is certain of it busy (its DTSTART instance, its RDATEs,
its moved instances) with a warning that says in the calendar's words what was not understood.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from dateutil.rrule import rrulestr  # type: ignore[import-untyped]

from adapters.ical.context import Context, Key
from adapters.ical.errors import IcsParseError
from adapters.ical.events import (
    Event,
    is_transparent,
    master_of,
    public_uid_of,
    status_of,
    text_of,
    what,
    why,
)
from adapters.ical.expansion import QUERY_MARGIN
from adapters.ical.instants import later, naive, utc
from adapters.ical.occurrences import occurrences, series_of
from adapters.ical.repair import ONLY_KNOWN, quote
from adapters.ical.rrule_bounds import as_list, bound_rule
from adapters.ical.spans import span

__all__ = ["read_recurring"]


def read_recurring(groups: dict[str, list[Event]], x_wr_timezone: str | None, ctx: Context) -> None:
    """Expand the recurring series, isolating failures to the series that caused them.

    The fast path sets up one query for all series; only if the library refuses that is each
    series set up on its own, so that one bad series neither hides the others nor goes
    unreported (the library's own ``skip_bad_series`` would drop it silently). A series that
    cannot be expanded keeps what is certain busy (:func:`_read_known`).
    """
    query_start = ctx.window_start - QUERY_MARGIN
    query_end = ctx.window_end + QUERY_MARGIN
    try:
        series_list = series_of(list(groups.values()), x_wr_timezone)
    except Exception:  # the library raises many types on bad input; isolate per series below
        series_list = []
        for uid, events in groups.items():
            try:
                series_list.extend(series_of([events], x_wr_timezone))
            except Exception as exc:
                _read_known(uid, events, ctx, _expansion_error(exc, events))
    for series in series_list:
        uid = str(series.uid)
        for rule in getattr(getattr(series, "recurrence", None), "rrules", ()):
            bound_rule(rule, ctx.deadline)
        found: list[Key] = []
        try:
            found.extend(occurrences(series, query_start, query_end, uid, ctx))
        except IcsParseError:
            raise
        except Exception as exc:  # as above: one bad series must not stop the others
            _read_known(uid, groups.get(uid, []), ctx, _expansion_error(exc, groups.get(uid, [])))
        for key in found:
            ctx.found[key] = None


def _read_known(uid: str, events: list[Event], ctx: Context, reason: str) -> None:
    """What is certain of a series that could not be expanded: the DTSTART instance (unless
    an EXDATE removes it), the RDATEs and the moved instances, each with its own status."""
    ctx.warnings.append(
        f"{ctx.source}: {what(uid, events[0] if events else None)}: its recurrence could not "
        f"be expanded ({reason}); {ONLY_KNOWN}"
    )
    master = master_of(events)
    public_uid = public_uid_of(uid)
    for event in events:
        try:
            start, end = span(event, ctx)
            if start is None or end is None:
                continue
            spans = [(start, end)]
            if event is master:
                spans = [(start, end)] if not _excluded(event, start, ctx) else []
                spans.extend(_rdate_spans(event, end - start, ctx))
        except IcsParseError:
            raise
        except Exception:
            continue  # placeable events were checked before; nothing more is certain here
        props = event.props
        busy = status_of(props) != "CANCELLED" and not is_transparent(props)
        for span_start, span_end in spans:
            if span_start >= ctx.window_end or span_end <= ctx.window_start:
                continue
            ctx.count_occurrence()
            if busy:
                ctx.found[(span_start, span_end, text_of(props.get("SUMMARY")), public_uid)] = None


def _excluded(event: Event, start: datetime, ctx: Context) -> bool:
    for exdate in as_list(event.props.get("EXDATE")):
        for value in getattr(exdate, "dts", ()):
            if isinstance(value.dt, date) and utc(value.dt, ctx) == start:
                return True
    return False


def _rdate_spans(event: Event, length: timedelta, ctx: Context) -> list[tuple[datetime, datetime]]:
    """The spans the RDATEs of ``event`` add (section 3.8.5.2), read with the event's length."""
    spans = []
    for rdate in as_list(event.props.get("RDATE")):
        for value in getattr(rdate, "dts", ()):
            when = value.dt
            if isinstance(when, tuple) and len(when) == 2:
                first = utc(when[0], ctx)
                last = first + when[1] if isinstance(when[1], timedelta) else utc(when[1], ctx)
            elif isinstance(when, date):
                first = utc(when, ctx)
                last = later(first, length)
            else:
                continue
            spans.append((min(first, last), max(first, last)))
    return spans


def _expansion_error(exc: Exception, events: list[Event]) -> str:
    """What the library could not read, in words about the calendar rather than the library.

    recurring-ical-events reports every rule dateutil rejects as "UNTIL parameter is missing";
    dateutil's own message says what is wrong.
    """
    if type(exc).__name__ != "BadRuleStringFormat":
        return why(exc)
    master = master_of(events)
    rules = as_list(master.props.get("RRULE")) if master is not None else []
    for rule in rules:
        text = rule.to_ical().decode("utf-8", errors="replace")
        try:
            rrulestr(text, dtstart=naive(master.props["DTSTART"].dt) if master else None)
        except Exception as error:
            return f"RRULE {quote(text)}: {why(error)}"
    shown = ", ".join(quote(rule.to_ical().decode("utf-8", errors="replace")) for rule in rules)
    return f"RRULE {shown} is not understood by recurring-ical-events"
