"""The slots the athlete's page offers to move a session to, against a brute force.

The week is placed by the engine; one session is picked; every quarter-hour of its week (the
engine's grid, whole minutes since the oracle's epoch) is checked with the oracle's independent
rule checker (``tests/planner/test_placement_oracle.py``: S2-S8, R3, G5, P4, the past) against
every other session where the engine put it, plus S6 over the week and S7's two-a-days. Every
offered slot must pass; every grid start that passes must be offered.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given, note, settings
from hypothesis import strategies as st

from planner.alternatives import alternative_slots
from planner.model import Focus, Kind, Nutrition, Plan, Session
from planner.placement import apply_placement
from tests.planner.test_placement_oracle import (
    BEFORE_WEEK,
    WEEK,
    Spot,
    Week,
    instant,
    minutes,
    pair_rules,
    session,
    spot,
    spot_of,
    unary_rules,
    weeks,
)

GRID = 15
QUALITY = {Focus.TEMPO, Focus.INTERVALS, Focus.LONG}


def _placed(week: Week) -> list[Session]:
    plan = Plan("UTC", WEEK[0], WEEK[-1], (), week.sessions, (), Nutrition(None, None, None, 0))
    return [s for s in apply_placement(plan, week.run()).sessions if s.start is not None]


def _valid(week: Week, me: Session, x: Spot, others: dict[str, tuple[Session, Spot]]) -> bool:
    if unary_rules(week, me, x):
        return False
    if any(pair_rules(week, me, x, s, y) for s, y in others.values()):
        return False
    used = {y.day for _, y in others.values() if y.day in WEEK}
    current = spot_of(week, (me.start, me.end))  # type: ignore[arg-type]
    if len(used | {x.day}) > max(7 - week.rest_days, len(used | {current.day})):
        return False  # S6
    sharing = [s for s, y in others.values() if y.day == x.day]
    hard_days_hard = False  # the oracle's weeks never set athlete.hard_days_hard
    if sharing and x.day != current.day:
        return hard_days_hard and any(s.focus in QUALITY for s in [me, *sharing])
    return True


@settings(max_examples=150, deadline=None)
@given(weeks(), st.data())
def test_offered_slots_keep_every_rule_and_miss_no_grid_slot(
    week: Week, data: st.DataObject
) -> None:
    placed = _placed(week)
    if not placed:
        return
    me = data.draw(st.sampled_from(placed))
    note(week.describe())
    note(f"moving {me.id} from {me.start}")
    others = {
        s.id: (s, spot_of(week, (s.start, s.end)))  # type: ignore[arg-type]
        for s in placed
        if s.id != me.id
    }
    offered = alternative_slots(placed, me.id, week.place_rules(), week.busy, now=week.now)
    starts = {minutes(a.start) for a in offered}
    for m in starts:
        x = spot(week, m, me.duration_minutes)
        assert _valid(week, me, x, others), f"offered {instant(m)} breaks a rule"
    current = minutes(me.start)  # type: ignore[arg-type]
    first = minutes(instant(0).replace(year=2027, month=1, day=3))
    for m in range(first - first % GRID, first + 9 * 24 * 60, GRID):
        x = spot(week, m, me.duration_minutes)
        if x.day not in WEEK or m == current:
            continue
        if _valid(week, me, x, others):
            assert m in starts, f"{instant(m)} is valid but not offered"


def test_race_day_and_unknown_sessions_offer_nothing() -> None:
    rules = Week("UTC", "strength", (((420, 1200),),) * 7, (), 0, 1, ()).place_rules()
    start = datetime(2027, 1, 10, 9, tzinfo=UTC)
    race = replace(
        session("race", Focus.EASY, 60, WEEK[6], start=start), kind=Kind.RACE, focus=Focus.RACE
    )
    assert alternative_slots([race], "race", rules, now=BEFORE_WEEK) == []
    assert alternative_slots([race], "nope", rules, now=BEFORE_WEEK) == []
