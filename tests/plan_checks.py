"""Rule checks on the JSON contract of ``liftrun plan``: each returns the violations it finds.

They read only the plan's public output and the config, never the planner's internals, so they
check the contract other tools rely on and cannot share a bug with the code they test. Every rule
of ``shared/DOMAIN.md`` that a plan's output can show is checked here, week by week.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from config.models import Experience, Priority, Race, Settings, StrengthMode

LOWER = {"lower", "full"}
UPPER = {"upper", "full"}
HARD = {"tempo", "intervals"}
EASY = {"easy", "optional_easy"}
LOADS = {"working", "lighter", "light"}
SEGMENT_KINDS = {"warmup", "work", "recovery", "cooldown", "strides", "drills"}
EFFORTS = {"easy", "steady", "tempo", "interval", "race"}
PER_LEG = ("split squat", "lunge")
DAYS_BEFORE = re.compile(r"(\d+) days before the race|the day before the race")


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _sessions(plan: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for raw in plan["sessions"]:
        s = dict(raw)
        s["_date"] = date.fromisoformat(s["date"])
        s["_start"] = datetime.fromisoformat(s["start"])
        s["_end"] = datetime.fromisoformat(s["end"])
        out.append(s)
    return out


def _phase_on(plan: dict[str, Any], d: date) -> str | None:
    for p in plan["phases"]:
        if date.fromisoformat(p["start"]) <= d <= date.fromisoformat(p["end"]):
            return str(p["name"])
    return None


def hard_run_limit(settings: Settings) -> int:
    a = settings.athlete
    if a.experience is Experience.BEGINNER or (
        a.experience is Experience.INTERMEDIATE and a.run_days <= 3
    ):
        return min(1, settings.rules.max_hard_runs)
    return settings.rules.max_hard_runs


def check_all(plan: dict[str, Any], settings: Settings) -> list[str]:
    errors: list[str] = []
    everything = _sessions(plan)
    races = [s for s in everything if s["kind"] == "race"]
    sessions = [s for s in everything if s["kind"] != "race"]
    errors += _check_race(plan, settings, races, sessions)
    errors += _check_sessions(plan, settings, sessions)
    errors += _check_days(plan, settings, sessions)
    errors += _check_across(settings, sessions)
    errors += _check_weeks(plan, settings, sessions)
    errors += _check_volume(plan, settings, sessions)
    for w in plan.get("unplaced", []):
        if not any(
            r in w["reason"] for r in ("S4", "S5", "S6", "S7", "S8", "P4", "S3", "R3", "L3", "G5")
        ):
            errors.append(f"unplaced {w['id']} reason names no rule: {w['reason']}")
    return errors


def _check_race(
    plan: dict[str, Any],
    settings: Settings,
    races: list[dict[str, Any]],
    sessions: list[dict[str, Any]],
) -> list[str]:
    """P4: race day is an event of its own, and nothing else is on it."""
    errors: list[str] = []
    race_day = settings.goal.race_date
    start, end = date.fromisoformat(plan["start"]), date.fromisoformat(plan["end"])
    inside = race_day is not None and start <= race_day <= end
    if len(races) != (1 if inside else 0):
        errors.append(f"P4: {len(races)} race sessions for a race day inside the plan: {inside}")
    for r in races:
        if r["_date"] != race_day:
            errors.append(f"P4: race session on {r['date']}, race day {race_day}")
        if settings.goal.race_time is None and not r.get("all_day"):
            errors.append("P4: race without race_time is not all day")
    for s in sessions:
        if race_day is not None and s["_date"] == race_day:
            errors.append(f"P4: {s['id']} on race day")
    return errors


def _check_sessions(
    plan: dict[str, Any], settings: Settings, sessions: list[dict[str, Any]]
) -> list[str]:
    errors: list[str] = []
    goal = settings.goal
    race_day = goal.race_date
    zone = settings.zone
    ids = [s["id"] for s in sessions]
    if len(ids) != len(set(ids)):
        errors.append("duplicate session ids")
    for s in sessions:
        where = f"{s['id']} on {s['date']}"
        if not s["rules"]:
            errors.append(f"{where}: no rule ids")
        if not s["reason"]:
            errors.append(f"{where}: no reason")
        if s["_start"].utcoffset() is None:
            errors.append(f"{where}: start without UTC offset")
        minutes = (s["_end"] - s["_start"]).total_seconds() / 60
        if round(minutes) != s["duration_minutes"]:
            errors.append(f"{where}: lasts {minutes} min but says {s['duration_minutes']}")
        local = s["_start"].astimezone(zone)
        local_end = s["_end"].astimezone(zone)
        inside = any(
            local.time() >= lo and (local_end.time() <= hi or local_end.date() > local.date())
            for lo, hi in settings.availability.windows(local.weekday())
        )
        if not inside:
            errors.append(f"S8: {where} {local.time()} outside the day's windows")
        phase = _phase_on(plan, s["_date"])
        if phase != s["phase"]:
            errors.append(f"{where}: phase {s['phase']} but the timeline says {phase}")
        if phase == "recovery":
            errors.append(f"P5: {where} in a recovery week")
        text = f"{s['title']}\n{s['description']}\n{s['reason']}"
        for m in DAYS_BEFORE.finditer(text):
            said = int(m.group(1)) if m.group(1) else 1
            if race_day is None or (race_day - s["_date"]).days != said:
                errors.append(f"P3: {where} says {m.group(0)!r}, race day {race_day}")
        if any(line.strip() in ("L5", "(L5)") for line in s["description"].splitlines()):
            errors.append(f"text: {where} has a stray rule id line")
        if s["kind"] == "lift":
            errors += _check_lift(s, phase, settings, where, plan["phases"])
        else:
            errors += _check_run(s, settings, where)
        if s["kind"] == "lift" and race_day is not None:
            cutoff = race_day - timedelta(days=goal.defaults().no_lift_days_before_race)
            if cutoff <= s["_date"] <= race_day:
                errors.append(f"P4: {where} lift within the no-lift days before the race")
    return errors


def _check_lift(
    s: dict[str, Any],
    phase: str | None,
    settings: Settings,
    where: str,
    phases: list[dict[str, str]],
) -> list[str]:
    errors: list[str] = []
    ex = s["exercises"]
    kinds = [e["kind"] for e in ex]
    if "plyometric" in kinds and kinds.index("plyometric") != 0:
        errors.append(f"L3: {where} plyometrics not first")
    for e in ex:
        if e["load"] not in LOADS:
            errors.append(f"{where}: {e['name']} load {e['load']!r}")
        if any(n in e["name"].lower() for n in PER_LEG) and "per leg" not in e["reps"]:
            errors.append(f"text: {where} {e['name']} does not say per leg")
        line = next((ln for ln in s["description"].splitlines() if ln.startswith(e["name"])), "")
        if e["note"] and e["note"] not in line:
            errors.append(f"text: {where} {e['name']}'s note is not beside it")
    strength = [e for e in ex if e["kind"] == "strength"]
    if phase == "peak":
        if "plyometric" in kinds:
            errors.append(f"L4: {where} plyometrics in a peak lift")
        for e in strength:
            reps = e["reps"].replace(" per leg", "")
            if not (2 <= e["sets"] <= 4 and reps in ("3-5", "10-15")):
                errors.append(f"L4: {where} {e['name']} {e['sets']}x{e['reps']}")
        if settings.athlete.peak_style.value == "endurance" and "heavy, low volume" in s["reason"]:
            errors.append(f"text: {where} endurance peak style called heavy")
    if phase == "taper":
        if any(e["sets"] > 2 or not e["reps"].startswith("5") for e in strength):
            errors.append(f"L5: {where} is not about 2x5")
        if "mobility" not in kinds:
            errors.append(f"L5: {where} has no mobility")
    if phase in ("peak", "taper") and "keep the build weight" in s["description"]:
        # built: enough weeks of this plan's own lifting before the peak began
        start = _plan_start(settings)
        first = min(
            (date.fromisoformat(p["start"]) for p in phases if p["name"] in ("peak", "taper")),
            default=s["_date"],
        )
        if start is None or (first - start).days < 7 * max(1, settings.rules.ease_in_weeks):
            errors.append(f"L6: {where} says 'keep the build weight' without a build")
    # L6: a session's length follows the work it holds
    work = 8 + sum(
        1.5 * e["sets"]
        if e["kind"] == "plyometric"
        else int(e["reps"].split()[0]) * e["sets"]
        if e["kind"] == "mobility"
        else 2.5 * e["sets"]
        for e in ex
    )
    if s["duration_minutes"] > max(20, work * 1.6 + 10):
        errors.append(f"L6: {where} lasts {s['duration_minutes']} min for {work} min of work")
    return errors


def _plan_start(settings: Settings) -> date | None:
    """The plan's first Monday: goal.plan_start, or the distance's usual block before the race
    (the config's own defaults)."""
    goal = settings.goal
    if goal.plan_start is not None:
        return _monday(goal.plan_start)
    if goal.race_date is None:
        return None
    return _monday(goal.race_date) - timedelta(weeks=goal.defaults().block_weeks - 1)


def _check_run(s: dict[str, Any], settings: Settings, where: str) -> list[str]:
    errors: list[str] = []
    segs = s.get("segments", [])
    total = sum(seg["minutes"] * seg.get("repeat", 1) for seg in segs)
    if total != s["duration_minutes"]:
        errors.append(f"G6: {where} segments add up to {total}, not {s['duration_minutes']}")
    for seg in segs:
        if seg["kind"] not in SEGMENT_KINDS or seg["effort"] not in EFFORTS:
            errors.append(f"G6: {where} segment {seg}")
    if s["focus"] == "long" and s["duration_minutes"] <= 45:
        errors.append(f"R3: {where} a {s['duration_minutes']}-min run called long")
    fuel = "fuelling" in s["description"]
    may_fuel = (
        settings.goal.race.is_long and s["duration_minutes"] >= settings.rules.fuelling_min_minutes
    )
    if fuel and not may_fuel:
        errors.append(f"G6: {where} fuelling practice on a {s['duration_minutes']}-min run")
    if s["focus"] in HARD:
        first = re.match(r"(\d+) min:", s["description"])
        if first is None or int(first.group(1)) != s["duration_minutes"]:
            errors.append(f"G6: {where} text does not fit its slot: {s['description']!r}")
    return errors


def _check_days(
    plan: dict[str, Any], settings: Settings, sessions: list[dict[str, Any]]
) -> list[str]:
    errors: list[str] = []
    goal = settings.goal
    strength = settings.athlete.priority is Priority.STRENGTH
    hdh = settings.athlete.hard_days_hard and not strength
    by_day: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for s in sessions:
        by_day[s["_date"]].append(s)
    for day, items in by_day.items():
        lifts = [s for s in items if s["kind"] == "lift"]
        runs = [s for s in items if s["kind"] == "run"]
        if len(items) > settings.rules.max_sessions_per_day or len(lifts) > 1 or len(runs) > 1:
            errors.append(f"S7: {day} has {[s['id'] for s in items]}")
        if not (lifts and runs):
            continue
        lift, run = lifts[0], runs[0]
        if strength and (run["focus"] not in EASY or run["duration_minutes"] > 40):
            errors.append(f"R3: {day} lift day with a {run['focus']} run")
        if lift["focus"] in LOWER and run["focus"] in HARD:
            errors.append(f"S4: {day} {run['focus']} on a {lift['focus']} day")
        run_first = not strength and goal.race.is_long and lift["phase"] in ("build", "peak")
        first, second = (run, lift) if run_first else (lift, run)
        if first["_end"] > second["_start"]:
            errors.append(f"S2: {day} order should be {first['kind']} first")
        if run["_start"] < lift["_start"] and any(
            e["kind"] == "plyometric" for e in lift["exercises"]
        ):
            errors.append(f"L3: {day} plyometrics in a lift after a run")
        gap_h = (second["_start"] - first["_end"]).total_seconds() / 3600
        if strength:
            need = settings.rules.same_day_gap_hours
        elif run["duration_minutes"] < settings.rules.endurance_back_to_back_run_minutes:
            need = 0
        else:
            need = settings.rules.endurance_gap_hours
        if gap_h + 1e-9 < need:
            errors.append(f"S3: {day} gap {gap_h:.1f} h < {need} h")
        endorsed = hdh  # hard_days_hard pairs lifts with hard runs and R5's own pairs
        named = any(
            str(_monday(day)) in w and day.strftime("%a") in w and "S7" in w
            for w in plan["warnings"]
        )
        if not endorsed and not named:
            errors.append(f"S7: {day} is a two-a-day no warning names")
    return errors


def _check_across(settings: Settings, sessions: list[dict[str, Any]]) -> list[str]:
    """S4 and S5 across days and weeks; G5's day between hard runs."""
    errors: list[str] = []
    ordered = sorted(sessions, key=lambda s: s["_start"])
    gap = timedelta(hours=settings.rules.hard_run_lower_lift_gap_hours)
    for a in ordered:
        for b in ordered:
            apart = b["_start"] >= a["_end"] + gap or a["_start"] >= b["_end"] + gap
            if a["focus"] in HARD and b["focus"] in LOWER and not apart:
                errors.append(f"S4: {a['id']} within 8 h of {b['id']}")
            if a is b or a["_date"] > b["_date"]:
                continue
            days = (b["_date"] - a["_date"]).days
            if a["kind"] == b["kind"] == "lift":
                clash = (a["focus"] in LOWER and b["focus"] in LOWER) or (
                    a["focus"] in UPPER and b["focus"] in UPPER
                )
                if clash and days < settings.rules.region_gap_days:
                    errors.append(f"S5: {a['id']} and {b['id']} {days} days apart")
            if a["focus"] in HARD and b["focus"] in HARD and days == 1:
                errors.append(f"G5: hard runs {a['id']} and {b['id']} on consecutive days")
    return errors


def _check_weeks(
    plan: dict[str, Any], settings: Settings, sessions: list[dict[str, Any]]
) -> list[str]:
    errors: list[str] = []
    goal = settings.goal
    race_day = goal.race_date
    by_week: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for s in sessions:
        by_week[_monday(s["_date"])].append(s)
    start = date.fromisoformat(plan["start"])
    end = date.fromisoformat(plan["end"])
    if race_day is not None:
        window = [s for s in sessions if race_day - timedelta(days=6) <= s["_date"] <= race_day]
        lifts = [s for s in window if s["kind"] == "lift"]
        if goal.race.is_long and lifts:
            errors.append(f"P4: {goal.race} race week with lifts")
        if not goal.race.is_long and len(lifts) > 1:
            errors.append(f"P4: {goal.race} race week with {len(lifts)} lifts")
        if any(s["phase"] != "race" for s in window):
            errors.append("P3: a session in the 7 days before the race is not in race week")
    monday = start
    limit = hard_run_limit(settings)
    while monday <= end:
        items = by_week.get(monday, [])
        days_used = {s["_date"] for s in items}
        if 7 - len(days_used) < settings.rules.rest_days_per_week:
            errors.append(f"S6: week of {monday} has no rest day")
        phase = _phase_on(plan, monday)
        lifts = [s for s in items if s["kind"] == "lift"]
        if len(lifts) > settings.athlete.weekly_lifts:
            errors.append(f"L1: week of {monday} has {len(lifts)} lifts")
        if phase == "peak" and len(lifts) > 2:
            errors.append(f"L4: peak week of {monday} has {len(lifts)} lifts")
        if phase == "taper" and len([s for s in lifts if s["phase"] == "taper"]) > 1:
            errors.append(f"L5: taper week of {monday} has {len(lifts)} lifts")
        hard = [s for s in items if s["focus"] in HARD and s["phase"] != "race"]
        if len(hard) > limit:
            errors.append(f"G5: week of {monday} has {len(hard)} hard runs (limit {limit})")
        full_phase = all(_phase_on(plan, monday + timedelta(days=k)) == phase for k in range(7))
        if phase in ("base", "build") and full_phase and lifts:
            has_plyo = any(e["kind"] == "plyometric" for s in lifts for e in s["exercises"])
            warned = any(str(monday) in w and "L3" in w for w in plan["warnings"])
            if not has_plyo and not warned:
                errors.append(f"L3: {phase} week of {monday} without plyometrics")
        if goal.race is Race.NONE and phase not in ("base", "maintenance"):
            errors.append(f"P1: race none but phase {phase}")
        monday += timedelta(days=7)
    maintenance = goal.strength_mode is StrengthMode.MAINTENANCE
    warned = any("maintenance" in w and "L1" in w for w in plan["warnings"])
    if maintenance and settings.athlete.weekly_lifts > 2 and not warned:
        errors.append("L1: maintenance lowers lift days without a warning")
    return errors


RUN_MINIMUM = {"easy": 15, "optional_easy": 15, "tempo": 25, "intervals": 30, "long": 50}


def _check_volume(
    plan: dict[str, Any], settings: Settings, sessions: list[dict[str, Any]]
) -> list[str]:
    """G1-G4 on the week-by-week volume (``weeks``). A week whose every run is as short as its
    kind allows may exceed them: the athlete asked for that many runs."""
    floors: dict[date, int] = defaultdict(int)
    for s in sessions:
        if s["kind"] == "run":
            floors[_monday(s["_date"])] += RUN_MINIMUM[s["focus"]]
    errors: list[str] = []
    weeks = plan.get("weeks", [])
    start = date.fromisoformat(plan["start"])
    end = date.fromisoformat(plan["end"])
    if len(weeks) != ((end - start).days + 1) // 7:
        errors.append(f"weeks: {len(weeks)} summaries for the plan's weeks")
    r = settings.rules
    if not r.run_progression:
        return errors
    race_day = settings.goal.race_date
    weekly, _ = settings.athlete.run_volume
    last_full: dict[str, Any] | None = None
    taper: list[int] = []
    for w in weeks:
        monday = date.fromisoformat(w["start"])
        phases = {_phase_on(plan, monday + timedelta(days=k)) for k in range(7)}
        full = len(phases) == 1 and w["phase"] in ("base", "build", "peak") and not w["cutback"]
        after_race = race_day is not None and monday > race_day
        if w["phase"] == "taper" and len(phases) == 1:
            taper.append(w["run_minutes"])
        floor = floors[monday]
        first = settings.goal.plan_start is not None and monday == _monday(settings.goal.plan_start)
        whole = len(phases) == 1  # a week cut by race week also holds race-week runs
        if first and whole and w["run_minutes"] > max(weekly, floor):  # G1: where they are
            errors.append(f"G1: first week runs {w['run_minutes']} min, athlete {weekly}")
        if first:
            last_full = None  # G2 counts from the plan's first week, not the weeks before it
        if full and last_full is not None and w["run_minutes"]:
            grow = last_full["run_minutes"] * (1 + r.weekly_run_growth)
            if w["run_minutes"] > max(grow, floor) + 1e-9 and not after_race:
                errors.append(
                    f"G2: week of {monday} runs {w['run_minutes']} min after "
                    f"{last_full['run_minutes']} in the last full week"
                )
            step = last_full["long_run_minutes"] + r.long_run_step_minutes
            if w["long_run_minutes"] > step and last_full["long_run_minutes"] and not after_race:
                errors.append(
                    f"G2: long run {w['long_run_minutes']} min in the week of {monday} "
                    f"after {last_full['long_run_minutes']}"
                )
        if (
            w["cutback"]
            and last_full is not None
            and w["run_minutes"] > max(last_full["run_minutes"], floor)
        ):
            errors.append(f"G3: cutback week of {monday} runs more than the last full week")
        if full:
            last_full = w
    if any(b > a for a, b in itertools.pairwise(taper)):
        errors.append(f"G4: taper run minutes {taper} do not fall week by week")
    return errors
