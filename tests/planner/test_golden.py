"""The articles' own examples come out as the articles describe them.

[CT] 000_b2c6ff2073ce127f.txt, "Jamie's 12-week concurrent training block";
[LR] 004_17a9b98de5d927f9.txt, "Sample Lift-Run Schedules", build and peak weeks.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from config.models import Settings
from planner.model import Kind, PhaseName, Plan, Session
from planner.plan import build_plan
from planner.serialize import plan_to_dict
from tests.conftest import make_settings
from tests.plan_checks import check_all

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def week_grid(plan: Plan, monday: date) -> dict[str, list[str]]:
    grid: dict[str, list[str]] = {d: [] for d in DAYS}
    for s in plan.sessions:
        if monday <= s.date < monday + timedelta(days=7):
            grid[DAYS[s.date.weekday()]].append(f"{s.kind.value}:{s.focus.value}")
    return {d: sorted(v) for d, v in grid.items()}


def start_of(s: Session) -> datetime:
    """A placed session's start: build_plan gives every session a time."""
    assert s.start is not None
    return s.start


def test_jamies_12_week_5k_block() -> None:
    """Jamie: 160 lb, lifting 2 years, 5K goal, 3 lifts + 2 runs, strength first."""
    race = date(2027, 3, 28)  # a Sunday
    settings = make_settings(
        athlete={
            "experience": "intermediate",
            "priority": "strength",
            "bodyweight_lb": 160,
            "lift_days": 3,
            "run_days": 2,
            "lifting_now": True,  # two years of lifting: no ease-in (L6)
            "weekly_run_minutes": 65,  # G1: a 30-min easy run and a tempo run
        },
        goal={"race": "5k", "race_date": race.isoformat()},
    )
    plan = build_plan(settings, date(2027, 1, 4), 12)
    assert [p.name for p in plan.phases] == [PhaseName.BUILD, PhaseName.RACE]
    assert plan.phases[0].start == date(2027, 1, 4)  # 12 weeks including race week
    expected = {
        "Mon": ["lift:lower"],
        "Tue": ["run:easy"],
        "Wed": ["lift:upper"],
        "Thu": ["run:tempo"],
        "Fri": ["lift:full"],
        "Sat": [],
        "Sun": [],
    }
    for week in range(11):
        monday = date(2027, 1, 4) + timedelta(weeks=week)
        assert week_grid(plan, monday) == expected, monday
    tuesday = next(s for s in plan.sessions if s.date == date(2027, 1, 5))
    thursday = next(s for s in plan.sessions if s.date == date(2027, 1, 7))
    assert tuesday.duration_minutes == 30 and "zone 2" in tuesday.description
    assert thursday.duration_minutes == 35 and "3 x 5 min at tempo" in thursday.description
    assert sum(seg.total for seg in thursday.segments) == 35  # G6
    # G2: running grows from week to week (it was flat for the whole block)
    minutes = [w.run_minutes for w in plan.weeks if w.phase is PhaseName.BUILD and not w.cutback]
    assert minutes[0] == 65 and minutes[-1] > minutes[0]
    assert all(b <= a * 1.1 for a, b in itertools.pairwise(minutes))
    # race week, the 7 days ending on race day: at most one light lift (P4), race day holds
    # only the race
    race_week = [s for s in plan.sessions if s.date >= date(2027, 3, 22)]
    assert sum(s.kind is Kind.LIFT for s in race_week) == 1
    assert all(s.date < race for s in race_week if s.kind is not Kind.RACE)
    assert [s.kind for s in race_week if s.date == race] == [Kind.RACE]
    # N1: 160 lb -> 144-176 g; Jamie's 175 g sits inside
    assert plan.nutrition.protein_g_per_day == (144, 176)
    assert check_all(plan_to_dict(plan), settings) == []


def lr_settings(race: str = "half") -> Settings:
    return make_settings(
        athlete={
            "experience": "advanced",
            "priority": "endurance",
            "bodyweight_lb": 150,
            "lift_days": 3,
            "run_days": 5,
            "hard_days_hard": True,
            "lifting_now": True,
        },
        goal={"race": race, "race_date": "2027-04-18"},
    )


def test_lr_build_week() -> None:
    """Mon tempo, Tue lower, Wed optional easy, Thu speed + upper, Fri easy, Sat long + full."""
    settings = lr_settings()
    plan = build_plan(settings, date(2027, 1, 11), 4)
    for week in range(4):
        monday = date(2027, 1, 11) + timedelta(weeks=week)
        assert week_grid(plan, monday) == {
            "Mon": ["run:tempo"],
            "Tue": ["lift:lower"],
            "Wed": ["run:optional_easy"],
            "Thu": ["lift:upper", "run:intervals"],
            "Fri": ["run:easy"],
            "Sat": ["lift:full", "run:long"],
            "Sun": [],
        }
    # build: plyometrics before the lifts, and only on fresh legs (L3): Thursday's and
    # Saturday's lifts follow their runs (S2), so Tuesday's lower-body lift holds them
    first_week = [s for s in plan.sessions if s.date < date(2027, 1, 18)]
    plyo = [s for s in first_week if s.exercises and s.exercises[0].kind.value == "plyometric"]
    assert [s.date.weekday() for s in plyo] == [1]
    thu = sorted((s for s in first_week if s.date.weekday() == 3), key=start_of)
    assert [s.kind for s in thu] == [Kind.RUN, Kind.LIFT]
    assert check_all(plan_to_dict(plan), settings) == []


def test_lr_peak_week() -> None:
    """Mon tempo, Tue full + optional easy, Wed speed, Thu full, Fri easy, Sat long, Sun off."""
    settings = lr_settings()
    plan = build_plan(settings, date(2027, 3, 8), 4)  # half: peak from 6 weeks out
    assert plan.phases[0].name is PhaseName.PEAK
    for week in range(4):
        monday = date(2027, 3, 8) + timedelta(weeks=week)
        assert week_grid(plan, monday) == {
            "Mon": ["run:tempo"],
            "Tue": ["lift:full", "run:optional_easy"],
            "Wed": ["run:intervals"],
            "Thu": ["lift:full"],
            "Fri": ["run:easy"],
            "Sat": ["run:long"],
            "Sun": [],
        }
    lifts = [s for s in plan.sessions if s.kind is Kind.LIFT]
    for lift in lifts:
        assert all(e.kind.value != "plyometric" for e in lift.exercises)  # L4
        assert all(e.reps.startswith("3-5") and 2 <= e.sets <= 4 for e in lift.exercises)
    drills = next(s for s in plan.sessions if s.focus.value == "intervals").exercises
    assert {e.name for e in drills} == {"Pogo jumps", "Squat jumps"}  # L4: into run warm-ups
    assert check_all(plan_to_dict(plan), settings) == []


def test_lr_marathon_peak_starts_eight_weeks_out() -> None:
    plan = build_plan(lr_settings("marathon"), date(2027, 1, 4), 20)
    names = {p.name: p for p in plan.phases}
    assert names[PhaseName.PEAK].start == date(2027, 2, 22)  # 8 weeks incl. race week
    assert names[PhaseName.TAPER].start == date(2027, 3, 29)  # last 3 weeks
    assert names[PhaseName.RACE].start == date(2027, 4, 12)
    assert names[PhaseName.RECOVERY].end == date(2027, 5, 2)  # 2 weeks off (P5)
