"""One or more tests per rule id of shared/DOMAIN.md (the planner's contract)."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from planner.daytimes import SameDayRule, Slot, day_times
from planner.lift_load import Soreness
from planner.localtime import resolve
from planner.model import ExerciseKind, Focus, Kind, Load, PhaseName, Session
from planner.phases import timeline
from planner.plan import build_plan
from tests.conftest import make_settings

MON = date(2027, 1, 4)


def lifts(sessions: tuple[Session, ...] | list[Session]) -> list[Session]:
    return [s for s in sessions if s.kind is Kind.LIFT]


def runs(sessions: tuple[Session, ...] | list[Session]) -> list[Session]:
    return [s for s in sessions if s.kind is Kind.RUN]


def week(plan_sessions: tuple[Session, ...], monday: date) -> list[Session]:
    return [s for s in plan_sessions if monday <= s.date < monday + timedelta(days=7)]


def strength_sets(s: Session) -> int:
    return sum(e.sets for e in s.exercises if e.kind is ExerciseKind.STRENGTH)


# -- P: phases ---------------------------------------------------------------------------------
def test_p1_no_race_is_base_or_maintenance() -> None:
    tl = timeline(make_settings().goal)
    assert {p.name for p in tl.clipped(MON, MON + timedelta(days=400))} == {PhaseName.BASE}
    maint = make_settings(goal={"race": "none", "strength_mode": "maintenance"})
    plan = build_plan(maint, MON, 4)
    assert {p.name for p in plan.phases} == {PhaseName.MAINTENANCE}
    assert all(len(lifts(week(plan.sessions, MON + timedelta(weeks=k)))) <= 2 for k in range(4))
    base = build_plan(make_settings(), MON + timedelta(weeks=8), 1)
    assert max(strength_sets(s) for s in lifts(plan.sessions)) < max(
        strength_sets(s) for s in lifts(base.sessions)
    )


def test_p2_half_phases_and_default_block() -> None:
    settings = make_settings(goal={"race": "half", "race_date": "2027-04-18"})
    tl = timeline(settings.goal)
    names = [(p.name, p.start, p.end) for p in tl.clipped(date(2026, 12, 1), date(2027, 5, 30))]
    assert names == [
        (PhaseName.BASE, date(2026, 12, 1), date(2027, 1, 10)),
        (PhaseName.BUILD, date(2027, 1, 11), date(2027, 3, 7)),  # 14-week block
        (PhaseName.PEAK, date(2027, 3, 8), date(2027, 4, 4)),  # 6 weeks out incl. race week
        (PhaseName.TAPER, date(2027, 4, 5), date(2027, 4, 11)),  # last 2 weeks incl. race week
        (PhaseName.RACE, date(2027, 4, 12), date(2027, 4, 18)),
        (PhaseName.RECOVERY, date(2027, 4, 19), date(2027, 4, 25)),  # 1 week (P5)
        (PhaseName.BASE, date(2027, 4, 26), date(2027, 5, 30)),
    ]


def test_p2_plan_start_mid_week_snaps_to_monday() -> None:
    goal = {"race": "half", "race_date": "2027-04-18", "plan_start": "2027-01-06"}
    tl = timeline(make_settings(goal=goal).goal)
    assert tl.phase_on(date(2027, 1, 4)).name is PhaseName.BUILD
    assert tl.phase_on(date(2027, 1, 3)).name is PhaseName.BASE


def test_p3_short_race_keeps_lifting_steady_until_race_week() -> None:
    settings = make_settings(
        athlete={"lift_days": 3, "run_days": 3, "bodyweight_kg": 70},
        goal={"race": "10k", "race_date": "2027-03-28"},
    )
    plan = build_plan(settings, date(2027, 1, 4), 12)
    counts = [
        len(lifts(week(plan.sessions, date(2027, 1, 4) + timedelta(weeks=k)))) for k in range(12)
    ]
    assert counts == [3] * 11 + [1]
    assert {p.name for p in plan.phases} == {PhaseName.BUILD, PhaseName.RACE}


@pytest.mark.parametrize("race", ["half", "marathon"])
def test_p4_no_weights_in_long_race_week(race: str) -> None:
    settings = make_settings(goal={"race": race, "race_date": "2027-04-18"})
    plan = build_plan(settings, date(2027, 4, 12), 1)
    assert lifts(plan.sessions) == []
    assert all(s.date < date(2027, 4, 18) for s in plan.sessions if s.kind is not Kind.RACE)
    assert all("P4" in s.rules for s in plan.sessions)
    (race_day,) = [s for s in plan.sessions if s.date == date(2027, 4, 18)]
    assert race_day.kind is Kind.RACE and race_day.all_day


def test_p4_marathon_option_fourteen_days() -> None:
    goal = {"race": "marathon", "race_date": "2027-04-18", "no_lift_days_before_race": 14}
    plan = build_plan(make_settings(goal=goal), date(2027, 3, 29), 3)
    assert all(s.date < date(2027, 4, 4) for s in lifts(plan.sessions))
    default = build_plan(
        make_settings(goal=goal | {"no_lift_days_before_race": 7}), date(2027, 4, 5), 1
    )
    assert len(lifts(default.sessions)) == 1  # taper's last week still lifts with 7 days


def test_p4_short_race_week_one_light_lift_early() -> None:
    settings = make_settings(goal={"race": "5k", "race_date": "2027-03-28"})
    plan = build_plan(settings, date(2027, 3, 22), 1)
    (lift,) = lifts(plan.sessions)
    assert lift.date <= date(2027, 3, 25)  # not in the 2 days before the race
    assert "light" in lift.title and all(e.sets <= 2 for e in lift.exercises)


def test_p5_recovery_then_lighter_base() -> None:
    settings = make_settings(goal={"race": "marathon", "race_date": "2027-04-18"})
    plan = build_plan(settings, date(2027, 4, 19), 6)
    assert week(plan.sessions, date(2027, 4, 19)) == []
    assert week(plan.sessions, date(2027, 4, 26)) == []  # two weeks fully off
    first = lifts(week(plan.sessions, date(2027, 5, 3)))
    later = lifts(week(plan.sessions, date(2027, 5, 17)))
    assert first and all("P5" in s.rules and "L6" in s.rules for s in first)
    assert strength_sets(first[0]) < strength_sets(later[0])


# -- L: lifting --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("experience", "expected"), [("beginner", 2), ("intermediate", 3), ("advanced", 3)]
)
def test_l1_lift_days_default_by_experience(experience: str, expected: int) -> None:
    settings = make_settings(athlete={"experience": experience})
    plan = build_plan(settings, MON + timedelta(weeks=6), 1)
    assert len(lifts(plan.sessions)) == expected


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_l1_lift_days_as_configured(n: int) -> None:
    plan = build_plan(make_settings(athlete={"lift_days": n, "run_days": 1}), MON, 1)
    assert len(lifts(plan.sessions)) == n


def test_l2_base_is_heavy_with_5x5_for_big_lifts() -> None:
    settings = make_settings(rules={"cutback_every_weeks": 0})
    plan = build_plan(settings, MON + timedelta(weeks=6), 1)
    lower = next(s for s in plan.sessions if s.focus is Focus.LOWER)
    by_name = {e.name: e for e in lower.exercises}
    assert (by_name["Back squat"].sets, by_name["Back squat"].reps) == (5, "5")
    assert (by_name["Romanian deadlift"].sets, by_name["Romanian deadlift"].reps) == (4, "6-8")
    rdl = by_name["Romanian deadlift"]
    assert rdl.reps_in_reserve == "1-2" and rdl.load is Load.WORKING
    assert "3 s lowering (L2)" in rdl.note and "add weight next time (G7)" in rdl.note


def test_l3_plyometrics_first_once_in_base_twice_in_build() -> None:
    base = build_plan(make_settings(), MON + timedelta(weeks=6), 1)
    build = build_plan(
        make_settings(goal={"race": "half", "race_date": "2027-04-18"}), MON + timedelta(weeks=2), 1
    )
    for plan, expected in ((base, 1), (build, 2)):
        with_plyo = [
            s
            for s in lifts(plan.sessions)
            if any(e.kind is ExerciseKind.PLYOMETRIC for e in s.exercises)
        ]
        assert len(with_plyo) == expected
        assert all(s.exercises[0].kind is ExerciseKind.PLYOMETRIC for s in with_plyo)


def test_l4_peak_styles() -> None:
    goal = {"race": "half", "race_date": "2027-04-18"}
    heavy = build_plan(make_settings(goal=goal), date(2027, 3, 8), 4)
    light = build_plan(
        make_settings(goal=goal, athlete={"peak_style": "endurance"}), date(2027, 3, 8), 1
    )
    sets_by_week = [
        max(
            strength_sets(s)
            for s in lifts(week(heavy.sessions, date(2027, 3, 8) + timedelta(weeks=k)))
        )
        for k in range(4)
    ]
    assert sets_by_week == sorted(sets_by_week, reverse=True) and sets_by_week[0] > sets_by_week[-1]
    assert all(
        e.reps.startswith("10-15") and e.sets == 3
        for s in lifts(light.sessions)
        for e in s.exercises
    )


def test_l5_taper_one_lift_2x5_with_mobility() -> None:
    plan = build_plan(
        make_settings(goal={"race": "marathon", "race_date": "2027-04-18"}), date(2027, 3, 29), 2
    )
    for k in range(2):
        (lift,) = lifts(week(plan.sessions, date(2027, 3, 29) + timedelta(weeks=k)))
        strength = [e for e in lift.exercises if e.kind is ExerciseKind.STRENGTH]
        assert all((e.sets, e.reps.split()[0]) == (2, "5") for e in strength)
        assert any(e.kind is ExerciseKind.MOBILITY for e in lift.exercises)


def test_l6_beginner_ramps_up() -> None:
    goal = {"race": "none", "plan_start": "2027-01-04"}
    rules = {"cutback_every_weeks": 0}
    plan = build_plan(
        make_settings(athlete={"experience": "beginner"}, goal=goal, rules=rules), MON, 4
    )
    totals = [
        sum(strength_sets(s) for s in lifts(week(plan.sessions, MON + timedelta(weeks=k))))
        for k in range(4)
    ]
    assert totals[0] < totals[1] < totals[2] == totals[3]
    assert "L6" in lifts(plan.sessions)[0].rules


def test_l6_soreness_lowers_next_week_only() -> None:
    settings = make_settings()
    plain = build_plan(settings, MON, 3)
    sore = build_plan(settings, MON, 3, {MON: Soreness.SEVERE})
    w1 = MON + timedelta(weeks=1)
    assert week(plain.sessions, MON) == week(sore.sessions, MON)
    assert sum(map(strength_sets, lifts(week(sore.sessions, w1)))) < sum(
        map(strength_sets, lifts(week(plain.sessions, w1)))
    )
    assert lifts(week(sore.sessions, w1))[0].exercises[-1].load is Load.LIGHTER
    w2 = MON + timedelta(weeks=2)
    assert week(plain.sessions, w2) == week(sore.sessions, w2)


def test_l7_three_lifts_split_by_region() -> None:
    plan = build_plan(make_settings(), MON, 1)
    assert [s.focus for s in lifts(plan.sessions)] == [Focus.LOWER, Focus.UPPER, Focus.FULL]
    assert all("L7" in s.rules for s in lifts(plan.sessions))


def test_l8_several_long_runs_drop_lifting_to_maintenance() -> None:
    settings = make_settings(athlete={"run_days": 3}, rules={"long_run_minutes": 35})
    normal = build_plan(make_settings(athlete={"run_days": 3}), MON, 1)
    plan = build_plan(settings, MON, 1)
    assert all("L8" in s.rules for s in lifts(plan.sessions))
    assert sum(map(strength_sets, lifts(plan.sessions))) < sum(
        map(strength_sets, lifts(normal.sessions))
    )


# -- R: running --------------------------------------------------------------------------------
def test_r1_run_types_and_zone_2() -> None:
    plan = build_plan(make_settings(athlete={"run_days": 6, "lift_days": 1}), MON, 1)
    assert {s.focus for s in runs(plan.sessions)} <= {
        Focus.EASY,
        Focus.TEMPO,
        Focus.INTERVALS,
        Focus.LONG,
        Focus.OPTIONAL_EASY,
    }
    easy = next(s for s in plan.sessions if s.focus is Focus.EASY)
    assert "zone 2 (60-70 % of max HR)" in easy.description


def test_r2_four_day_week_is_three_lifts_one_run() -> None:
    plan = build_plan(make_settings(athlete={"lift_days": 3, "run_days": 1}), MON, 1)
    assert Counter(s.kind for s in plan.sessions) == {Kind.LIFT: 3, Kind.RUN: 1}
    assert len({s.date for s in plan.sessions}) == 4


def test_r3_run_on_lift_day_is_easy_and_short() -> None:
    only3 = {d: ["06:00-08:00", "17:00-21:00"] for d in ("mon", "wed", "fri")}
    plan = build_plan(
        make_settings(athlete={"lift_days": 3, "run_days": 2}, availability=only3), MON, 1
    )
    shared = [s for s in runs(plan.sessions) if any(x.date == s.date for x in lifts(plan.sessions))]
    assert shared and all(
        s.focus.is_easy_run and s.duration_minutes <= 40 and "R3" in s.rules for s in shared
    )
    (dropped,) = plan.unplaced
    assert "tempo" in dropped.id and "R3" in dropped.reason


def test_r4_fourth_lift_shortens_runs_third_run_costs_a_set() -> None:
    four = build_plan(make_settings(athlete={"lift_days": 4, "run_days": 2}), MON, 1)
    assert all(s.duration_minutes <= 25 and "R4" in s.rules for s in runs(four.sessions))
    two = build_plan(make_settings(athlete={"lift_days": 3, "run_days": 2}), MON, 1)
    three = build_plan(make_settings(athlete={"lift_days": 3, "run_days": 3}), MON, 1)
    for a, b in zip(lifts(two.sessions), lifts(three.sessions), strict=True):
        assert strength_sets(b) == strength_sets(a) - (
            len(a.exercises) - sum(e.kind is not ExerciseKind.STRENGTH for e in a.exercises)
        )
        assert "R4" in b.rules


# -- S: placement and separation -------------------------------------------------------------
def test_s1_s2_s3_strength_same_day_lift_first_six_hours() -> None:
    only3 = {d: ["06:00-08:00", "17:00-21:00"] for d in ("mon", "wed", "fri")}
    plan = build_plan(
        make_settings(athlete={"lift_days": 3, "run_days": 2}, availability=only3), MON, 1
    )
    for day in {s.date for s in plan.sessions}:
        items = sorted(
            (s for s in plan.sessions if s.date == day),
            key=lambda s: s.start.timestamp() if s.start else 0.0,
        )
        if len(items) == 2:
            assert [s.kind for s in items] == [Kind.LIFT, Kind.RUN]
            assert items[1].start is not None and items[0].end is not None
            assert items[1].start - items[0].end >= timedelta(hours=6)
            assert {"S1", "S2", "S3", "S7"} <= set(items[0].rules)


def test_s3_endurance_back_to_back_or_two_hours() -> None:
    rule = SameDayRule(run_first=True, gap_hours=2, back_to_back_run_minutes=55)
    zone = ZoneInfo("Europe/Berlin")
    windows = ((time(6), time(12)),)
    short = day_times(MON, windows, (Slot(Focus.UPPER, 60), Slot(Focus.EASY, 40)), rule, zone)
    long_ = day_times(MON, windows, (Slot(Focus.UPPER, 60), Slot(Focus.LONG, 90)), rule, zone)
    assert short is not None and long_ is not None
    assert short[1][1] == short[0][0]  # run first, lift straight after
    assert long_[0][0] - long_[1][1] == timedelta(hours=2)


def test_s4_hard_runs_stay_off_leg_days() -> None:
    plan = build_plan(
        make_settings(athlete={"lift_days": 4, "run_days": 5, "priority": "endurance"}), MON, 2
    )
    for hard in (s for s in plan.sessions if s.focus.is_hard_run):
        for lift in (s for s in plan.sessions if s.focus.loads_lower):
            assert hard.start and lift.start and hard.end and lift.end
            assert hard.start >= lift.end + timedelta(
                hours=8
            ) or lift.start >= hard.end + timedelta(hours=8)


def test_s5_same_region_two_days_apart_even_across_weeks() -> None:
    av = {d: ["06:00-08:00"] for d in ("mon", "tue", "sat", "sun")}
    plan = build_plan(
        make_settings(athlete={"lift_days": 2, "run_days": 1}, availability=av), MON, 3
    )
    fulls = sorted(s.date for s in plan.sessions if s.focus is Focus.FULL)
    assert all((b - a).days >= 2 for a, b in itertools.pairwise(fulls))


def test_s6_rest_day_and_s7_two_a_days_only_when_needed() -> None:
    plan = build_plan(make_settings(athlete={"lift_days": 4, "run_days": 4}), MON, 1)
    assert len({s.date for s in plan.sessions}) <= 6
    per_day = Counter(s.date for s in plan.sessions)
    assert max(per_day.values()) == 2 and sum(v == 2 for v in per_day.values()) == 8 - 6


def test_s8_only_inside_windows() -> None:
    av = {"tue": ["19:00-20:05"], "thu": ["06:15-07:30"], "sat": ["09:00-10:00"]}
    plan = build_plan(
        make_settings(athlete={"lift_days": 1, "run_days": 2}, availability=av), MON, 1
    )
    for s in plan.sessions:
        assert s.start and s.end
        local = s.start.astimezone(ZoneInfo("Europe/Berlin"))
        assert local.strftime("%a %H:%M") in {"Tue 19:00", "Thu 06:15", "Sat 09:00"}


def test_s10_drop_order_optional_easy_first() -> None:
    av = {d: ["06:00-08:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
    plan = build_plan(
        make_settings(athlete={"lift_days": 3, "run_days": 6}, availability=av), MON, 1
    )
    dropped = {u.id.split("-", 1)[1] for u in plan.unplaced}
    # five 2-hour mornings hold 3 lifts + 2 runs; runs are strength's accessory, optional first
    assert dropped == {"run-optional_easy-1", "run-intervals-1", "run-easy-2", "run-long-1"}
    assert {s.focus for s in runs(plan.sessions)} == {Focus.EASY, Focus.TEMPO}
    assert all("S10" in u.rules for u in plan.unplaced)


# -- N: nutrition ------------------------------------------------------------------------------
def test_n1_n2_nutrition() -> None:
    plan = build_plan(make_settings(athlete={"bodyweight_lb": 165}), MON, 2)
    assert plan.nutrition.protein_g_per_day == (148, 182)
    minutes = plan.nutrition.run_minutes_per_week
    assert plan.nutrition.extra_kcal_per_week == (
        round(minutes * 165 * 0.0444, -1),
        round(minutes * 165 * 0.0556, -1),
    )
    assert any("Protein today: 148-182 g (N1)" in s.description for s in lifts(plan.sessions))
    assert build_plan(make_settings(athlete={}), MON, 1).nutrition.protein_g_per_day is None


# -- local time --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("zone", "spring", "autumn"),
    [
        ("Europe/Berlin", date(2027, 3, 28), date(2027, 10, 31)),
        ("America/New_York", date(2027, 3, 14), date(2027, 11, 7)),
    ],
)
def test_windows_are_wall_clock_across_dst(zone: str, spring: date, autumn: date) -> None:
    tz = ZoneInfo(zone)
    for day in (
        spring - timedelta(days=7),
        spring,
        spring + timedelta(days=1),
        autumn,
        autumn + timedelta(days=1),
    ):
        assert resolve(day, time(6), tz).astimezone(tz).time() == time(6)
    settings = make_settings(
        timezone=zone,
        availability={
            d: ["06:00-08:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        },
    )
    plan = build_plan(settings, spring - timedelta(days=13), 3)
    assert {s.start.astimezone(tz).time() for s in plan.sessions if s.start} == {time(6)}
    offsets = {s.start.utcoffset() for s in plan.sessions if s.start}
    assert len(offsets) == 2  # both sides of the switch, each with its own UTC offset


def test_nonexistent_and_ambiguous_local_times() -> None:
    tz = ZoneInfo("Europe/Berlin")
    gap = resolve(date(2027, 3, 28), time(2, 30), tz)
    assert gap.astimezone(tz).time() == time(3, 30)
    first = resolve(date(2027, 10, 31), time(2, 30), tz)
    second = resolve(date(2027, 10, 31), time(2, 30), tz, late=True)
    assert second - first == timedelta(hours=1)
