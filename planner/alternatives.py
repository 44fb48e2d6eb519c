"""Where one session could go instead, in its week: the slots the athlete's page offers.

A slot is offered when moving this one session there keeps every rule with every other
session where it is now: S8 (inside a training window, clear of busy time and its buffer, not
in the past), P3/P4's allowed days, the separation rules between two sessions (S2-S5, S7, R3,
L3, G5: ``planner.constraints``, the table the placement engine asks), S6 over the week, and
S7's two-a-days: a day that already holds another session is offered only when the two share
it now or the athlete trains hard days hard (``endorsed_two_a_day``). The choice becomes a pin,
like a move by hand in a calendar, so no other session has to move for it; offering only such
slots is what the athlete expects of "move this one to tomorrow morning".

The slots are the engine's own (``planner.slot_search.add_candidates``): every free span's first
start, the quarter-hour grid inside it, its last start, and the starts a neighbour fixes to the
minute. ``tests/planner/test_alternatives.py`` checks them against a brute force over the grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from planner.busy import BusyInterval
from planner.constraints import Facts, RuleBook, endorsed_two_a_day
from planner.freetime import BusyIndex
from planner.model import Kind, Session
from planner.phases import monday_of
from planner.slot_search import Days, Item, Slot, add_candidates, clash, facts_of, to_slot


@dataclass(frozen=True)
class Alternative:
    start: datetime  # in the plan's zone
    end: datetime

    @property
    def day(self) -> date:
        return self.start.date()


def alternative_slots(
    sessions: Sequence[Session],
    session_id: str,
    rules: RuleBook,
    busy: Sequence[BusyInterval] | BusyIndex = (),
    *,
    now: datetime,
) -> list[Alternative]:
    """The valid slots for ``session_id`` in its week other than where it is, earliest first.

    ``sessions`` are placed (``start`` and ``end`` set; the others are ignored) and hold the
    session itself; its neighbours in the weeks around count too (S4, S5, G5 cross a Sunday).
    Race day never moves this way (P4: its date is the goal's).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    placed = [s for s in sessions if s.start is not None and s.end is not None]
    me = next((s for s in placed if s.id == session_id), None)
    if me is None or me.kind is Kind.RACE:
        return []
    assert me.start is not None and me.end is not None
    zone = rules.zone
    here = to_slot(me.start, me.end, zone)
    monday = monday_of(here.day)
    week_days = [monday + timedelta(days=k) for k in range(7)]
    lo = monday - timedelta(days=rules.reach_days)
    hi = monday + timedelta(days=6 + rules.reach_days)
    others: list[tuple[Session, Facts, Slot]] = []
    for s in placed:
        assert s.start is not None and s.end is not None
        slot = to_slot(s.start, s.end, zone)
        if s.id != me.id and lo <= slot.day <= hi:
            others.append((s, facts_of(s, rules), slot))
    index = busy if isinstance(busy, BusyIndex) else BusyIndex.build(busy)
    item = Item(0, me, here.end - here.start)
    add_candidates(item, week_days, Days(rules, index, now), rules, [o[2] for o in others])
    mine = facts_of(me, rules)
    week = set(week_days)
    used = {slot.day for _, _, slot in others if slot.day in week}
    day_limit = max(7 - rules.rest_days, len(used | {here.day}))  # S6, or what pins left
    out: list[Alternative] = []
    for _, slot in sorted(item.candidates, key=lambda c: c[1].start):
        if slot.start == here.start and slot.day == here.day:
            continue
        if len(used | {slot.day}) > day_limit:
            continue
        if any(clash(mine, slot, f, o, rules) is not None for _, f, o in others):
            continue
        if not _may_share(me, slot.day, here.day, others, rules):
            continue
        out.append(Alternative(slot.start.astimezone(zone), slot.end.astimezone(zone)))
    return out


def _may_share(
    me: Session,
    day: date,
    current_day: date,
    others: Sequence[tuple[Session, Facts, Slot]],
    rules: RuleBook,
) -> bool:
    """S7: two-a-days only where the week has one now or the athlete trains hard days hard."""
    sharing = [s for s, _, slot in others if slot.day == day]
    if not sharing or day == current_day:
        return True
    return endorsed_two_a_day(
        (me.focus, *(s.focus for s in sharing)), as_template=False, book=rules
    )
