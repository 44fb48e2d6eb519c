"""The words of a placement: why a session sits where it does, why one was dropped, and what a
pinned session breaks.

``planner.placement`` finds the times (with ``planner.slot_search``); this module turns a solved
week into the sentences the athlete reads (``Placement.explanation``, ``Unplaced.reason``,
warnings), naming the busy event or the rule and its neighbour that decided each time. They
are rebuilt from the solution rather than recorded during the search, which stays lean.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from planner.busy import BusyInterval
from planner.constraints import RuleBook
from planner.freetime import BusyIndex, day_free
from planner.model import Session, Unplaced
from planner.phases import monday_of
from planner.rules import sorted_ids
from planner.slot_search import (
    GRID,
    Days,
    Item,
    Placement,
    Slot,
    Solved,
    Status,
    Week,
    clash,
    facts_of,
    to_slot,
)


def clock(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%a %H:%M")


def _span_text(b: BusyInterval, zone: ZoneInfo) -> str:
    a, e = b.start.astimezone(zone), b.end.astimezone(zone)
    end = e.strftime("%H:%M") if a.date() == e.date() else e.strftime("%a %H:%M")
    return f"'{b.summary or 'busy'}' {a.strftime('%H:%M')}-{end}"


def _why_not(
    item: Item, slot: Slot, week: Week, assigned: Mapping[int, Slot], days: Days
) -> tuple[str, str]:
    """Why ``item`` cannot be at ``slot``: the busy event or rule, as (rule id, sentence)."""
    rules = week.rules
    zone = rules.zone
    free = days(slot.day)
    if not any(a <= slot.start and slot.end <= b for a, b in free.windows):
        return "S8", "outside the availability windows"
    for b in days.busy.overlapping(slot.start - rules.buffer, slot.end + rules.buffer):
        return "S8", f"{_span_text(b, zone)} is busy"
    if slot.start < days.not_before:
        return "S9", "that time has passed"
    f = facts_of(item.session, rules)
    # fixed sessions first: a pin or a past session is the cause, the others only followed
    others = [(g, s, label) for (g, s), label in zip(week.fixed, week.labels, strict=True)]
    others += [(week.facts[j], s, week.items[j].session.title) for j, s in assigned.items()]
    for g, s, title in others:
        rule = clash(f, slot, g, s, rules)
        if rule is not None:
            return rule, f"{_RULE_WORDS[rule]} {title} at {clock(s.start, zone)}"
    return "S10", "another session needed that time"


_RULE_WORDS = {
    "S2": "S2 puts it on the other side of",
    "S3": "S3 keeps the same-day gap from",
    "S4": "S4 keeps 8 h from",
    "S5": "S5 keeps two days from",
    "S7": "S7 allows no second session of its kind beside",
    "R3": "R3 allows only a short easy run beside",
    "G5": "G5 keeps a day between hard runs, away from",
    "L3": "L3 keeps plyometrics off a day that starts with",
    "P4": "P4 keeps race day clear of",
}


def _binding(item: Item, slot: Slot, week: Week, assigned: Mapping[int, Slot]) -> list[str]:
    """The rules that hold the chosen slot where it is (a neighbour right at the limit)."""
    rules = week.rules
    zone = rules.zone
    f = facts_of(item.session, rules)
    out: list[str] = []
    earlier = Slot(slot.start - GRID, slot.end - GRID, slot.day)
    others = [(week.facts[j], s, week.items[j].session.title) for j, s in assigned.items()]
    others += [(g, s, label) for (g, s), label in zip(week.fixed, week.labels, strict=True)]
    for g, s, title in others:
        if s == slot:
            continue
        rule = clash(f, earlier, g, s, rules)
        if rule is not None and clash(f, slot, g, s, rules) is None:
            out.append(f"{rule} keeps it clear of {title} at {clock(s.start, zone)}")
    return out


def _assigned(solved: Solved, skip: int) -> dict[int, Slot]:
    return {j: s for j, s in enumerate(solved.slots) if s is not None and j != skip}


def explain_placement(
    item: Item, slot: Slot, solved: Solved, days: Days, rules: RuleBook
) -> Placement:
    zone = rules.zone
    s = item.session
    assigned = _assigned(solved, item.index)
    free = days(slot.day)
    avoided = tuple(b for b in free.busy)
    rule_ids = set(s.rules) | {"S8"}
    binding = _binding(item, slot, solved.week, assigned)
    rule_ids |= {b.split()[0] for b in binding}
    when = clock(slot.start, zone)
    if item.previous is not None and slot.start == item.previous.start:
        status, text = Status.KEPT, f"kept at {when}"
    elif item.previous is not None:
        rule, why = _why_not(item, item.previous, solved.week, assigned, days)
        rule_ids |= {rule, "S10"}
        where = "same day" if slot.day == item.previous.day else "nearest day with room"
        text = f"moved from {clock(item.previous.start, zone)} to {when}: {why}; {where}"
        status = Status.MOVED
    else:
        status = Status.NEW
        planned = s.start
        if planned is not None and slot.start == planned.astimezone(UTC):
            text = f"placed {when}, the planned time"
        elif planned is not None:
            ref = to_slot(planned, planned + item.duration, zone)
            rule, why = _why_not(item, ref, solved.week, assigned, days)
            rule_ids.add(rule)
            text = f"placed {when} instead of the planned {clock(planned, zone)}: {why}"
        else:
            text = f"placed {when}"
    if binding:
        text += "; " + "; ".join(binding)
    if avoided:
        text += "; avoids " + ", ".join(_span_text(b, zone) for b in avoided[:4])
        if len(avoided) > 4:
            text += f" and {len(avoided) - 4} more"
    previous = (
        (item.previous.start.astimezone(zone), item.previous.end.astimezone(zone))
        if item.previous
        else None
    )
    return Placement(
        s.id,
        slot.start.astimezone(zone),
        slot.end.astimezone(zone),
        status,
        previous,
        sorted_ids(frozenset(rule_ids)),
        text,
        avoided,
    )


def fixed_placement(
    s: Session,
    slot: Slot,
    status: Status,
    previous: tuple[datetime, datetime] | None,
    zone: ZoneInfo,
) -> Placement:
    what = {
        Status.PINNED: "moved there by you (S9)",
        Status.FIXED: "race day (P4)",
    }.get(status, "already under way or past (S9)")
    rule = "P4" if status is Status.FIXED else "S9"
    at = f"on {slot.day:%a %d %b}" if s.all_day else f"at {clock(slot.start, zone)}"
    return Placement(
        s.id,
        slot.start.astimezone(zone),
        slot.end.astimezone(zone),
        status,
        previous,
        sorted_ids(frozenset(set(s.rules) | {rule})),
        f"stays {at}: {what}",
    )


def explain_unplaced(
    item: Item, solved: Solved, days: Days, rules: RuleBook, now: datetime
) -> Unplaced:
    s = item.session
    zone = rules.zone
    week_days = sorted(solved.week.week_days)
    if all(d < now.astimezone(zone).date() for d in week_days):
        return Unplaced(s.id, "its week is in the past (S9)", ("S9",))
    assigned = _assigned(solved, item.index)
    parts: list[str] = []
    ids: set[str] = {"S10"}
    for day in week_days:
        name = day.strftime("%a")
        if s.not_after is not None and day > s.not_after:
            parts.append(f"{name} P4 (too close to race day)")
            ids.add("P4")
            continue
        if s.not_before is not None and day < s.not_before:
            parts.append(f"{name} P3 (its text names {s.not_before:%a} as the day)")
            ids.add("P3")
            continue
        options = [slot for _, slot in item.candidates if slot.day == day]
        if not days(day).windows:
            parts.append(f"{name} S8 (no availability)")
            ids.add("S8")
            continue
        if not options:
            busy = days(day).busy
            why = f"busy: {_span_text(busy[0], zone)}" if busy else "no window holds it"
            parts.append(f"{name} S8 ({why})")
            ids.add("S8")
            continue
        taken = {sl.day for sl in assigned.values()} | solved.week.fixed_days
        if day not in taken and len(taken & solved.week.week_days) >= 7 - rules.rest_days:
            parts.append(f"{name} S6 (would leave no rest day)")
            ids.add("S6")
            continue
        rule, why = _why_not(item, options[0], solved.week, assigned, days)
        ids.add(rule)
        parts.append(f"{name} {rule} ({why})")
    reason = f"no slot this week for {s.title}: " + "; ".join(parts) + " (dropped per S10)"
    return Unplaced(s.id, reason, sorted_ids(frozenset(ids)))


def pin_warnings(
    pin: Placement,
    sessions: Sequence[Session],
    placed: Mapping[str, Placement],
    busy: BusyIndex,
    rules: RuleBook,
) -> list[str]:
    """A pinned session stays even when it breaks a rule (S9); say which rule it breaks."""
    by_id = {s.id: s for s in sessions}
    me = by_id[pin.session_id]
    mine = to_slot(pin.start, pin.end, rules.zone)
    out: list[str] = []
    for other in placed.values():
        if other.session_id <= pin.session_id and other.status is Status.PINNED:
            continue  # each pair of pins is reported once
        theirs = to_slot(other.start, other.end, rules.zone)
        rule = clash(
            facts_of(me, rules), mine, facts_of(by_id[other.session_id], rules), theirs, rules
        )
        if rule is not None:
            out.append(
                f"pinned {pin.session_id} at {clock(pin.start, rules.zone)} breaks {rule} "
                f"with {other.session_id} at {clock(other.start, rules.zone)}; kept as you "
                "placed it (S9)"
            )
    windows = day_free(
        mine.day,
        rules.windows[mine.day.weekday()],
        zone=rules.zone,
        busy=busy,
        buffer=timedelta(0),
        not_before=None,
    ).windows
    if not any(a <= mine.start and mine.end <= b for a, b in windows):
        out.append(
            f"pinned {pin.session_id} at {clock(pin.start, rules.zone)} is outside the "
            "availability windows (S8); kept as you placed it (S9)"
        )
    for b in busy.overlapping(mine.start - rules.buffer, mine.end + rules.buffer):
        touch = (
            "overlaps" if b.start < mine.end and mine.start < b.end else "is within the buffer of"
        )
        out.append(
            f"pinned {pin.session_id} {touch} {_span_text(b, rules.zone)} (S8); "
            "kept as you placed it (S9)"
        )
    if me.not_after is not None and mine.day > me.not_after:
        out.append(
            f"pinned {pin.session_id} on {mine.day:%a %d %b} is after its last allowed day "
            f"{me.not_after:%a %d %b} (P4); kept as you placed it (S9)"
        )
    return out


def rest_day_warnings(placed: Mapping[str, Placement], rules: RuleBook) -> list[str]:
    """S6 over whole weeks: only pins can break it (the search keeps it for everything else)."""
    weeks: dict[date, set[date]] = {}
    pinned_weeks: set[date] = set()
    for p in placed.values():
        day = p.start.astimezone(rules.zone).date()
        weeks.setdefault(monday_of(day), set()).add(day)
        if p.status is Status.PINNED:
            pinned_weeks.add(monday_of(day))
    return [
        f"week of {monday}: your pinned sessions leave {7 - len(days)} rest days, "
        f"fewer than {rules.rest_days} (S6); kept as you placed them (S9)"
        for monday, days in sorted(weeks.items())
        if monday in pinned_weeks and 7 - len(days) < rules.rest_days
    ]


def two_a_day_warnings(
    sessions: Sequence[Session], placed: Mapping[str, Placement], rules: RuleBook
) -> list[str]:
    """S7: a day that now holds two sessions the plan had on different days (busy time left no
    other room) is named, as the planner names its own compromises."""
    planned = {s.id: s.date for s in sessions}
    by_day: dict[date, list[Placement]] = {}
    for p in placed.values():
        by_day.setdefault(p.start.astimezone(rules.zone).date(), []).append(p)
    out = []
    for day, items in sorted(by_day.items()):
        if len(items) < 2 or all(planned.get(p.session_id) == day for p in items):
            continue
        if all(p.status in (Status.PINNED, Status.FROZEN) for p in items):
            continue
        names = " and ".join(p.session_id for p in sorted(items, key=lambda p: p.session_id))
        out.append(
            f"week of {monday_of(day)}: {day:%a} holds {names}: busy time left no other day "
            "for them (S7)"
        )
    return out
