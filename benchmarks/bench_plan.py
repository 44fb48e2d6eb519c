"""Benchmark: building whole plans, and checking every DOMAIN.md rule on them, for many athletes.

What it measures (CPU time, ``time.process_time``):

1. ``build_plan`` of each sample shape's whole block (plan start through recovery), in a fresh
   process state (the day search's layout memo cleared) and again warm, as the sync loop sees it
   every cycle: the strength-first half marathon of the embedded default, the endurance-first
   marathon sample, a beginner starting five weeks before a half, a Wednesday 10K;
2. throughput over random athletes (experience, priority, distance, 1-4 lifts, 1-6 runs, any
   weekday race, starts 4-40 weeks out, narrow and wide windows): plans a second and the share
   that keep every rule of ``tests/plan_checks.py`` (it must be all of them).

Run: ``.venv/bin/python benchmarks/bench_plan.py [ATHLETES]``; exits 1 if a plan breaks a rule.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.loader import load
from config.models import Settings
from planner import week
from planner.plan import build_plan, default_span
from planner.serialize import plan_to_dict
from tests.plan_checks import check_all

ROOT = Path(__file__).resolve().parents[1]
WINDOWS = [["06:00-08:00"], ["06:00-07:00", "18:00-20:00"], ["17:00-21:00"], ["12:00-13:00"]]


def shapes() -> dict[str, Settings]:
    default = load(str(ROOT / "config/samples/default.toml"), {}).settings
    marathon = load(str(ROOT / "config/samples/marathon-endurance.toml"), {}).settings
    every_day = {d: ["06:00-08:00", "17:30-21:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
    every_day |= {"sat": ["07:00-12:00"], "sun": ["08:00-11:00"]}
    late = Settings(
        timezone="Europe/Berlin",
        athlete={"experience": "beginner", "run_days": 3, "bodyweight_kg": 70},
        goal={"race": "half", "race_date": "2027-05-16", "plan_start": "2027-04-12"},
        availability=every_day,
    )
    wednesday = Settings(
        timezone="Europe/Berlin",
        athlete={"lift_days": 3, "run_days": 4, "lifting_now": True},
        goal={"race": "10k", "race_date": "2027-05-12"},
        availability=every_day,
    )
    return {
        "strength-first half (default)": default,
        "endurance-first marathon (sample)": marathon,
        "beginner, 5 weeks before a half": late,
        "Wednesday 10K": wednesday,
    }


def random_athlete(rng: random.Random) -> Settings:
    race = rng.choice(["none", "5k", "10k", "half", "marathon"])
    goal: dict[str, Any] = {"race": race}
    if race != "none":
        day = date(2027, 1, 4) + timedelta(days=rng.randrange(365))
        goal["race_date"] = day.isoformat()
        if rng.random() < 0.7:
            goal["plan_start"] = (day - timedelta(weeks=rng.randint(4, 40))).isoformat()
    availability = {
        d: rng.choice(WINDOWS)
        for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        if rng.random() < 0.8
    } or {"mon": ["06:00-08:00"]}
    return Settings(
        timezone=rng.choice(["Europe/Berlin", "America/New_York", "UTC"]),
        athlete={
            "experience": rng.choice(["beginner", "intermediate", "advanced"]),
            "priority": rng.choice(["strength", "endurance"]),
            "lift_days": rng.randint(1, 4),
            "run_days": rng.randint(1, 6),
            "hard_days_hard": rng.random() < 0.5,
            "lifting_now": rng.random() < 0.5,
            "bodyweight_kg": 70,
        },
        goal=goal,
        availability=availability,
    )


def timed(settings: Settings) -> tuple[float, int]:
    start, weeks = default_span(settings, date(2027, 1, 4))
    t0 = time.process_time()
    build_plan(settings, start, weeks)
    return time.process_time() - t0, weeks


def main() -> int:
    athletes = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    print("whole block, CPU time (cold: layout memo cleared; warm: as the sync loop sees it)")
    for name, settings in shapes().items():
        week._LAYOUTS.clear()
        cold, weeks = timed(settings)
        warm = statistics.median(timed(settings)[0] for _ in range(5))
        print(
            f"  {name:36} {weeks:3d} weeks  cold {cold * 1000:7.1f} ms  warm {warm * 1000:6.1f} ms"
        )
    rng = random.Random(12)
    broken = 0
    weeks_total = 0
    t0 = time.process_time()
    for _ in range(athletes):
        settings = random_athlete(rng)
        start, weeks = default_span(settings, date(2027, 1, 4))
        plan = build_plan(settings, start, weeks)
        weeks_total += weeks
        errors = check_all(plan_to_dict(plan), settings)
        if errors:
            broken += 1
            print("  BROKEN:", settings.model_dump_json(), errors[:3])
    spent = time.process_time() - t0
    print(
        f"random athletes: {athletes} plans ({weeks_total} weeks) built and checked in "
        f"{spent:.1f} s CPU: {athletes / spent:.1f} plans/s, {spent / weeks_total * 1000:.1f} ms "
        f"a week; {athletes - broken}/{athletes} keep every rule"
    )
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
