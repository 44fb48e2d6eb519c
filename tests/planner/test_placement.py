"""The placement engine at minute level: busy time, minimal disruption, pins, DST, bad input."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.models import Settings
from planner.busy import BusyInterval
from planner.constraints import RuleBook
from planner.model import Kind, Session
from planner.placement import PlacementResult, Status, apply_placement, place
from planner.plan import build_plan
from planner.serialize import plan_to_dict
from tests.conftest import ALL_WEEK, make_settings
from tests.plan_checks import check_all

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 1, tzinfo=UTC)
MON = date(2027, 1, 4)


def at(day: date, hh: int, mm: int = 0, zone: ZoneInfo = BERLIN) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=zone)


def busy(day: date, a: tuple[int, int], b: tuple[int, int], what: str = "busy") -> BusyInterval:
    return BusyInterval(at(day, *a), at(day, *b), what)


def setup(weeks: int = 1, **kw: object) -> tuple[Settings, list[Session], RuleBook]:
    settings = make_settings(**kw)
    plan = build_plan(settings, MON, weeks)
    return settings, list(plan.sessions), RuleBook.from_settings(settings)


def planned_times(sessions: list[Session]) -> dict[str, tuple[datetime, datetime]]:
    """Each session's planned (start, end): build_plan gives every session a time."""
    out: dict[str, tuple[datetime, datetime]] = {}
    for s in sessions:
        assert s.start is not None and s.end is not None
        out[s.id] = (s.start, s.end)
    return out


def placed_ok(settings: Settings, sessions: list[Session], result: PlacementResult) -> list[str]:
    plan = build_plan(
        settings, MON, max(1, len({s.date - timedelta(days=s.date.weekday()) for s in sessions}))
    )
    return check_all(plan_to_dict(apply_placement(plan, result)), settings)


def test_no_busy_means_planned_times() -> None:
    _, sessions, rules = setup()
    result = place(sessions, rules, [], now=NOW)
    assert [(p.start, p.status) for p in result.placements] == [
        (s.start, Status.NEW) for s in sessions
    ]
    assert all("the planned time" in p.explanation for p in result.placements)


def test_busy_pushes_a_session_later_the_same_day_with_buffer() -> None:
    _, sessions, rules = setup()
    lift = sessions[0]  # Mon 06:00 lower
    result = place(sessions, rules, [busy(MON, (5, 0), (6, 30), "Stand-up")], now=NOW)
    p = result.by_id()[lift.id]
    assert p.start == at(MON, 6, 45)  # 15 min buffer after the stand-up
    assert "'Stand-up' 05:00-06:30 is busy" in p.explanation


def test_minimal_disruption_only_the_displaced_session_moves() -> None:
    settings, sessions, rules = setup()
    first = place(sessions, rules, [], now=NOW)
    previous = {p.session_id: (p.start, p.end) for p in first.placements}
    tue = MON + timedelta(days=1)
    second = place(
        sessions, rules, [busy(tue, (5, 30), (8, 0), "Team breakfast")], now=NOW, previous=previous
    )
    moved = [p for p in second.placements if p.status is Status.MOVED]
    assert len(moved) == 1 and moved[0].session_id.endswith("run-easy-1")
    assert moved[0].start.date() == tue  # same day first
    assert moved[0].explanation.startswith("moved from Tue 06:00 to Tue 17:00: 'Team breakfast'")
    assert all(p.status is Status.KEPT for p in second.placements if p is not moved[0])
    assert placed_ok(settings, sessions, second) == []


def test_displaced_session_goes_to_the_nearest_day_and_rechecks_day_rules() -> None:
    settings, sessions, rules = setup()
    previous = {
        p.session_id: (p.start, p.end) for p in place(sessions, rules, [], now=NOW).placements
    }
    wed = MON + timedelta(days=2)
    blocked = [busy(wed, (0, 0), (23, 59), "Conference")]
    result = place(sessions, rules, blocked, now=NOW, previous=previous)
    upper = next(p for p in result.placements if "upper" in p.session_id)
    # Tue holds the easy run at 06:00 (S2 wants the lift first), Thu the tempo run (R3), Sat the
    # long run (R3): Sunday is the nearest day where it fits without moving anything else
    assert upper.status is Status.MOVED and upper.start.date() == MON + timedelta(days=6)
    assert sum(p.status is Status.MOVED for p in result.placements) == 1
    assert "nearest day with room" in upper.explanation
    assert placed_ok(settings, sessions, result) == []


def test_removing_busy_time_moves_nothing() -> None:
    _, sessions, rules = setup()
    blocked = [busy(MON, (5, 0), (6, 30))]
    first = place(sessions, rules, blocked, now=NOW)
    previous = {p.session_id: (p.start, p.end) for p in first.placements}
    again = place(sessions, rules, [], now=NOW, previous=previous)
    assert all(p.status is Status.KEPT for p in again.placements), [
        (p.session_id, p.explanation) for p in again.placements if p.status is not Status.KEPT
    ]


def test_pinned_session_stays_and_the_others_reflow() -> None:
    _settings, sessions, rules = setup()
    lower = sessions[0]
    # the athlete drags the full-body lift to Tuesday evening: Monday's lower lift now breaks S5
    full = next(s for s in sessions if s.focus.value == "full")
    pin = (at(MON + timedelta(days=1), 18), at(MON + timedelta(days=1), 19))
    previous = planned_times(sessions)
    result = place(sessions, rules, [], now=NOW, pinned={full.id: pin}, previous=previous)
    assert result.by_id()[full.id].start == pin[0]
    assert result.by_id()[full.id].status is Status.PINNED
    moved = result.by_id()[lower.id]
    assert moved.status is Status.MOVED and "S5" in moved.explanation
    assert result.by_id()[full.id].explanation.startswith("stays at Tue 18:00: moved there by you")


def test_pinned_rule_breaks_are_warnings() -> None:
    _, sessions, rules = setup()
    lower, full = sessions[0], next(s for s in sessions if s.focus.value == "full")
    tue = MON + timedelta(days=1)
    pins = {lower.id: (at(MON, 6), at(MON, 7)), full.id: (at(tue, 22), at(tue, 23))}
    result = place(
        sessions, rules, [busy(tue, (21, 0), (22, 30), "Late call")], now=NOW, pinned=pins
    )
    assert {result.by_id()[k].start for k in pins} == {at(MON, 6), at(tue, 22)}
    text = "\n".join(result.warnings)
    assert "breaks S5" in text and "outside the availability windows (S8)" in text
    assert "overlaps 'Late call'" in text


def test_frozen_and_past() -> None:
    _, sessions, rules = setup()
    previous = planned_times(sessions)
    now = at(MON + timedelta(days=2), 12)  # Wednesday noon
    blocked = [busy(MON, (0, 0), (23, 59))]  # Monday is blocked now, but Monday is past
    result = place(sessions, rules, blocked, now=now.astimezone(UTC), previous=previous)
    assert result.by_id()[sessions[0].id].status is Status.FROZEN
    for p in result.placements:
        if p.status is not Status.FROZEN:
            assert p.start >= now


def test_nothing_before_now_for_new_sessions() -> None:
    _, sessions, rules = setup()
    now = at(MON + timedelta(days=1), 7)
    result = place(sessions, rules, [], now=now)
    assert all(p.start >= now for p in result.placements)


def test_infeasible_week_reports_rule_and_suggestion() -> None:
    settings = make_settings(
        athlete={"lift_days": 3, "run_days": 2, "bodyweight_kg": 70, "weekly_run_minutes": 65},
        availability={
            "mon": ["06:00-08:00"],
            "tue": ["06:00-08:00"],
            "wed": ["06:00-08:00"],
            "thu": ["06:00-08:00"],
            "fri": ["06:00-08:00"],
        },
    )
    plan = build_plan(settings, MON, 1)
    rules = RuleBook.from_settings(settings)
    tue, thu = MON + timedelta(days=1), MON + timedelta(days=3)
    # each leaves 07:30-08:00: room for the 30 min easy run, not for the 35 min tempo run
    blocked = [busy(tue, (6, 0), (7, 15), "School run"), busy(thu, (6, 0), (7, 15), "Dentist")]
    result = place(plan.sessions, rules, blocked, now=NOW)
    (dropped,) = result.unplaced
    assert "tempo" in dropped.id and {"S8", "S10", "R3"} <= set(dropped.rules)
    assert "Thu S8 (busy: 'Dentist' 06:00-07:15)" in dropped.reason
    assert "Mon R3" in dropped.reason  # a tempo run may not share a lift day
    assert result.suggestions == (
        f"{dropped.id}: shorten the run to 30 min zone 2 and it fits (Tue 07:30)",
    ) or any("shorten the run to 30 min zone 2" in t for t in result.suggestions)


@pytest.mark.parametrize(
    ("zone", "switch"),
    [
        ("Europe/Berlin", date(2027, 3, 28)),
        ("America/New_York", date(2027, 3, 14)),
        ("Europe/Berlin", date(2027, 10, 31)),
        ("America/New_York", date(2027, 11, 7)),
    ],
)
def test_dst_weeks_keep_wall_clock_windows(zone: str, switch: date) -> None:
    tz = ZoneInfo(zone)
    settings = make_settings(timezone=zone, availability={d: ["06:00-08:00"] for d in ALL_WEEK})
    monday = switch - timedelta(days=switch.weekday())
    plan = build_plan(settings, monday - timedelta(weeks=1), 3)
    rules = RuleBook.from_settings(settings)
    # a 06:00-06:30 meeting every day, in the plan's zone
    meetings = [
        BusyInterval(
            datetime(d.year, d.month, d.day, 6, tzinfo=tz),
            datetime(d.year, d.month, d.day, 6, 30, tzinfo=tz),
            "Call",
        )
        for d in (monday - timedelta(weeks=1) + timedelta(days=k) for k in range(21))
    ]
    result = place(plan.sessions, rules, meetings, now=NOW)
    assert result.placements
    for p in result.placements:
        local = p.start.astimezone(tz)
        assert local.hour == 6 and local.minute == 45, p
        assert p.start.utcoffset() == local.utcoffset()
    offsets = {p.start.utcoffset() for p in result.placements}
    assert len(offsets) == 2


def test_deterministic() -> None:
    _, sessions, rules = setup(weeks=4)
    blocked = [busy(MON + timedelta(days=k), (5, 0), (7, 0)) for k in range(0, 28, 3)]
    a = place(sessions, rules, blocked, now=NOW)
    b = place(list(reversed(sessions)), rules, list(reversed(blocked)), now=NOW)
    assert a == b


def test_bad_input() -> None:
    with pytest.raises(ValueError, match=r"ends .* at or before it starts"):
        BusyInterval(at(MON, 9), at(MON, 9), "zero")
    with pytest.raises(ValueError, match="naive"):
        BusyInterval(datetime(2027, 1, 4, 9), datetime(2027, 1, 4, 10), "naive")
    _, sessions, rules = setup()
    with pytest.raises(ValueError, match="timezone-aware"):
        place(sessions, rules, [], now=datetime(2026, 1, 1))


def test_duplicates_overlaps_and_100k_events_are_bounded() -> None:
    settings, sessions, rules = setup(weeks=2)
    events = []
    for k in range(100_000):
        day = MON + timedelta(days=k % 14)
        start = at(day, 9) + timedelta(minutes=(k * 7) % 480)
        events.append(BusyInterval(start, start + timedelta(minutes=30), f"m{k % 50}"))
    events += events[:1000]  # exact duplicates
    t0 = clock.perf_counter()
    result = place(sessions, rules, events, now=NOW)
    assert clock.perf_counter() - t0 < 10
    assert placed_ok(settings, sessions, result) == []


@st.composite
def busy_calendars(draw: st.DrawFn) -> list[BusyInterval]:
    out: list[BusyInterval] = []
    for _ in range(draw(st.integers(0, 25))):
        day = MON + timedelta(days=draw(st.integers(0, 13)))
        start = at(day, 0) + timedelta(minutes=15 * draw(st.integers(16, 90)))
        length = timedelta(minutes=15 * draw(st.integers(1, 40)))
        out.append(BusyInterval(start, start + length, f"e{len(out)}"))
    return out


@given(
    busy_calendars(),
    st.sampled_from(["strength", "endurance"]),
    st.integers(1, 4),
    st.integers(1, 5),
)
def test_random_busy_calendars_keep_every_rule(
    events: list[BusyInterval], priority: str, lifts: int, runs: int
) -> None:
    settings = make_settings(
        athlete={"priority": priority, "lift_days": lifts, "run_days": runs, "bodyweight_kg": 70}
    )
    plan = build_plan(settings, MON, 2)
    rules = RuleBook.from_settings(settings)
    result = place(plan.sessions, rules, events, now=NOW)
    final = apply_placement(plan, result)
    assert check_all(plan_to_dict(final), settings) == []
    buffer = timedelta(minutes=15)
    for s in final.sessions:
        assert s.start and s.end
        assert all(not (b.start - buffer < s.end and s.start < b.end + buffer) for b in events)
    # stability: replanning the same input from its own output moves nothing
    previous = {p.session_id: (p.start, p.end) for p in result.placements}
    again = place(plan.sessions, rules, events, now=NOW, previous=previous)
    assert all(p.status is Status.KEPT for p in again.placements), [
        (p.session_id, p.explanation) for p in again.placements if p.status is not Status.KEPT
    ]
    assert {u.id for u in again.unplaced} == {u.id for u in result.unplaced}
    # a busy event that touches no placed session (with buffer) moves nothing
    quiet = BusyInterval(at(MON, 1), at(MON, 2), "night")
    third = place(plan.sessions, rules, [*events, quiet], now=NOW, previous=previous)
    assert all(p.status is Status.KEPT for p in third.placements)


def test_runs_and_lifts_counted() -> None:
    _, sessions, rules = setup()
    result = place(sessions, rules, [], now=NOW)
    kinds = {s.kind for s in sessions}
    assert kinds == {Kind.LIFT, Kind.RUN} and len(result.placements) == len(sessions)
