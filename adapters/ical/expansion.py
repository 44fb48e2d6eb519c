"""The expansion budget: refusing recurrence rules that would expand to far too much.

dateutil, under recurring-ical-events, builds every instance of a rule from its DTSTART before
any can be counted, so one ``FREQ=SECONDLY`` rule started years ago would cost minutes and
gigabytes before ``max_events`` could stop it. An upper bound per rule, estimated from FREQ,
INTERVAL, COUNT, UNTIL and the BY* parts without expanding anything, lets the reader refuse such
a calendar up front; the deadline bounds the rest (:mod:`adapters.ical.rrule_bounds`).
"""

from __future__ import annotations

from datetime import date, timedelta

from adapters.ical.context import Context
from adapters.ical.errors import IcsParseError
from adapters.ical.events import Event, public_uid_of, text_of
from adapters.ical.instants import later, utc
from adapters.ical.repair import quote
from adapters.ical.rrule_bounds import as_list, first_value

__all__ = ["QUERY_MARGIN", "check_expansion_budget"]

# Occurrences are fetched from recurring-ical-events over a window widened by this much and
# then filtered exactly: the library compares floating times and dates in the zone of the query
# bounds, which may differ from the zone we read them in by up to 26 hours.
QUERY_MARGIN = timedelta(days=2)

# How many recurrence instances, counted from each series' DTSTART (dateutil always iterates
# from there), may be generated per allowed in-window occurrence; about 1.5 us each.
_EXPANSION_BUDGET_FACTOR = 10
# The estimate of in-window occurrences is an upper bound, so it only stops the expansion when
# it exceeds max_events by this factor; the exact count does the rest.
_WINDOW_ESTIMATE_SLACK = 2

# Shortest possible length of one FREQ period, so that the instance estimate is an upper bound.
_PERIOD = {
    "SECONDLY": timedelta(seconds=1),
    "MINUTELY": timedelta(minutes=1),
    "HOURLY": timedelta(hours=1),
    "DAILY": timedelta(days=1),
    "WEEKLY": timedelta(weeks=1),
    "MONTHLY": timedelta(days=28),
    "YEARLY": timedelta(days=365),
}
_FREQ_RANK = {name: rank for rank, name in enumerate(_PERIOD)}
_DAYS_PER_PERIOD = {"WEEKLY": 7, "MONTHLY": 31, "YEARLY": 366}
_DAY_FILTERS = ("BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY")
_TIME_FILTERS = (("BYHOUR", "HOURLY"), ("BYMINUTE", "MINUTELY"), ("BYSECOND", "SECONDLY"))
_MAX_INTERVAL = 10**6  # larger INTERVALs all mean "one instance" to the estimate


def check_expansion_budget(groups: dict[str, list[Event]], ctx: Context) -> None:
    """Refuse up front to expand rules that would generate far too many instances.

    dateutil (under recurring-ical-events) builds the complete list of instances from DTSTART
    to the end of the query before any of them can be counted, so ``FREQ=MINUTELY`` would take
    seconds and ``FREQ=SECONDLY`` started years ago minutes and gigabytes before the
    ``max_events`` count could stop it. The estimates are upper bounds: BY* filters that only
    remove instances are ignored. Rules whose BY* filters can never match were already removed
    (:func:`adapters.ical.rrule_bounds.never_matches`); the rest is bounded by the deadline.
    """
    total_limit = ctx.max_events * _EXPANSION_BUDGET_FACTOR
    window_limit = ctx.max_events * _WINDOW_ESTIMATE_SLACK
    total = in_window = 0
    worst, worst_uid = 0, ""
    for uid, events in groups.items():
        series_total = 0
        for event in events:
            event_total, event_in_window = _instance_estimate(event, ctx)
            series_total += event_total
            in_window += event_in_window
        total += series_total
        if series_total > worst:
            worst, worst_uid = series_total, uid
    if in_window > window_limit or total > total_limit:
        raise IcsParseError(
            f"{ctx.source}: the recurring events would expand to up to {in_window} occurrences "
            f"between {ctx.window_start.isoformat()} and {ctx.window_end.isoformat()} (limit "
            f"{ctx.max_events}) and {total} instances counted from their first occurrence "
            f"(limit {total_limit}); the largest series is UID "
            f"{quote(public_uid_of(worst_uid))}. Refusing to expand them"
        )


def _instance_estimate(event: Event, ctx: Context) -> tuple[int, int]:
    """Upper bounds on the instances dateutil generates for ``event``: (in all, in the window).

    "In all" counts from DTSTART, because that is where dateutil starts iterating.
    """
    rdates = sum(len(getattr(value, "dts", ())) for value in as_list(event.props.get("RDATE")))
    total = in_window = 1 + rdates
    first = utc(event.props["DTSTART"].dt, ctx)  # placeable: checked before
    window_start = ctx.window_start - QUERY_MARGIN
    for rule in as_list(event.props.get("RRULE")):
        freq = text_of(rule.get("FREQ")).upper()
        interval = first_value(rule.get("INTERVAL")) or 1  # validated by the repair
        step = _PERIOD[freq] * min(interval, _MAX_INTERVAL)
        stop = ctx.window_end + QUERY_MARGIN
        until = first_value(rule.get("UNTIL"))
        if isinstance(until, date):
            stop = min(stop, later(utc(until, ctx), timedelta(days=1)))
        per_period = 1
        if any(name in rule for name in _DAY_FILTERS):
            per_period = _DAYS_PER_PERIOD.get(freq, 1)
        for name, unit in _TIME_FILTERS:
            values = rule.get(name)
            if values and _FREQ_RANK[freq] > _FREQ_RANK[unit]:
                per_period *= len(values)
        rule_total = (max(timedelta(0), stop - first) // step + 1) * per_period
        rule_in_window = (
            max(timedelta(0), stop - max(first, window_start)) // step + 1
        ) * per_period
        count = first_value(rule.get("COUNT"))
        if isinstance(count, int) and count >= 0:
            rule_total, rule_in_window = min(rule_total, count), min(rule_in_window, count)
        total += rule_total
        in_window += rule_in_window
    return total, in_window
