"""Pauses alone (``planner.pause``): which sessions they take out, when lifting eases in."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from planner.model import Focus
from planner.pause import EASE_IN_AFTER_DAYS, Pause, returned_from_break, split_paused
from tests.planner.test_placement_oracle import session

MONDAY = date(2027, 1, 4)
DAYS = [MONDAY + timedelta(days=k) for k in range(28)]


@given(
    st.lists(st.tuples(st.sampled_from(DAYS), st.integers(0, 12)), max_size=3),
    st.lists(st.sampled_from(DAYS), min_size=1, max_size=12),
)
def test_every_session_is_kept_or_paused_once_with_its_reason(
    spans: list[tuple[date, int]], days: list[date]
) -> None:
    pauses = [Pause(first, first + timedelta(days=n)) for first, n in spans]
    sessions = [session(f"s{k}", Focus.EASY, 30, d) for k, d in enumerate(days)]
    kept, removed = split_paused(sessions, pauses)
    assert sorted([s.id for s in kept] + [u.id for u in removed]) == sorted(s.id for s in sessions)
    by_id = {s.id: s for s in sessions}
    assert all(not any(p.covers(s.date) for p in pauses) for s in kept)
    for u in removed:
        assert any(p.covers(by_id[u.id].date) for p in pauses)
        assert u.rules == ("S9",) and "not made up" in u.reason


def test_only_a_week_or_more_eases_in_from_the_week_of_return() -> None:
    week = Pause(date(2027, 1, 11), date(2027, 1, 11) + timedelta(days=EASE_IN_AFTER_DAYS - 1))
    assert week.return_monday == date(2027, 1, 18)
    short = Pause(week.first, week.last - timedelta(days=1))
    assert short.return_monday is None
    midweek = Pause(date(2027, 1, 6), date(2027, 1, 13))  # back on a Thursday: that week
    assert midweek.return_monday == date(2027, 1, 11)
    assert returned_from_break([week, short], date(2027, 1, 25)) == date(2027, 1, 18)
    assert returned_from_break([week], date(2027, 1, 11)) is None


def test_a_pause_ended_before_it_began_covers_nothing() -> None:
    empty = Pause(date(2027, 1, 11), date(2027, 1, 10))
    assert empty.days == 0 and not empty.covers(date(2027, 1, 10))
    assert empty.return_monday is None
