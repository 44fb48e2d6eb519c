"""Rule checks on the JSON contract of ``liftrun plan``: each returns the violations it finds.

They read only the plan's public output and the config, never the planner's internals, so they
check the contract other tools rely on and cannot share a bug with the code they test.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from config.models import Priority, Race, Settings

LOWER = {"lower", "full"}
UPPER = {"upper", "full"}
HARD = {"tempo", "intervals"}
EASY = {"easy", "optional_easy"}


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


def check_all(plan: dict[str, Any], settings: Settings) -> list[str]:
    errors: list[str] = []
    sessions = _sessions(plan)
    by_day: dict[date, list[dict[str, Any]]] = defaultdict(list)
    by_week: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for s in sessions:
        by_day[s["_date"]].append(s)
        by_week[_monday(s["_date"])].append(s)
    goal = settings.goal
    race_day = goal.race_date
    strength = settings.athlete.priority is Priority.STRENGTH
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
        # S8: inside a window
        local = s["_start"].astimezone(zone)
        local_end = s["_end"].astimezone(zone)
        windows = settings.availability.windows(local.weekday())
        inside = False
        for lo, hi in windows:
            if local.time() >= lo and (local_end.time() <= hi or local_end.date() > local.date()):
                inside = True
        if not inside:
            errors.append(f"S8: {where} {local.time()} outside the day's windows")
        phase = _phase_on(plan, s["_date"])
        if phase != s["phase"]:
            errors.append(f"{where}: phase {s['phase']} but the timeline says {phase}")
        if phase == "recovery":
            errors.append(f"P5: {where} in a recovery week")
        if race_day is not None and s["_date"] == race_day:
            errors.append(f"P4: {where} on race day")
        if s["kind"] == "lift":
            ex = s["exercises"]
            kinds = [e["kind"] for e in ex]
            if "plyometric" in kinds and kinds.index("plyometric") != 0:
                errors.append(f"L3: {where} plyometrics not first")
            if phase == "peak":
                if "plyometric" in kinds:
                    errors.append(f"L4: {where} plyometrics in a peak lift")
                for e in ex:
                    if e["kind"] == "strength" and not (
                        2 <= e["sets"] <= 4 and e["reps"] in ("3-5", "10-15")
                    ):
                        errors.append(f"L4: {where} {e['name']} {e['sets']}x{e['reps']}")
            if phase == "taper":
                strength_ex = [e for e in ex if e["kind"] == "strength"]
                if any(e["sets"] > 2 or e["reps"] != "5" for e in strength_ex):
                    errors.append(f"L5: {where} is not about 2x5")
                if "mobility" not in kinds:
                    errors.append(f"L5: {where} has no mobility")
            if race_day is not None:
                cutoff = race_day - timedelta(days=goal.defaults().no_lift_days_before_race)
                if cutoff <= s["_date"] <= race_day:
                    errors.append(f"P4: {where} lift within the no-lift days before the race")

    for day, items in by_day.items():
        lifts = [s for s in items if s["kind"] == "lift"]
        runs = [s for s in items if s["kind"] == "run"]
        if len(items) > settings.rules.max_sessions_per_day or len(lifts) > 1 or len(runs) > 1:
            errors.append(f"S7: {day} has {[s['id'] for s in items]}")
        if lifts and runs:
            lift, run = lifts[0], runs[0]
            if strength and (run["focus"] not in EASY or run["duration_minutes"] > 40):
                errors.append(f"R3: {day} lift day with a {run['focus']} run")
            if lift["focus"] in LOWER and run["focus"] in HARD:
                errors.append(f"S4: {day} {run['focus']} on a {lift['focus']} day")
            run_first = not strength and goal.race.is_long and lift["phase"] in ("build", "peak")
            first, second = (run, lift) if run_first else (lift, run)
            if first["_end"] > second["_start"]:
                errors.append(f"S2: {day} order should be {first['kind']} first")
            gap_h = (second["_start"] - first["_end"]).total_seconds() / 3600
            if strength:
                need = settings.rules.same_day_gap_hours
            elif run["duration_minutes"] < settings.rules.endurance_back_to_back_run_minutes:
                need = 0
            else:
                need = settings.rules.endurance_gap_hours
            if gap_h + 1e-9 < need:
                errors.append(f"S3: {day} gap {gap_h:.1f} h < {need} h")

    # S4 across days, S5 across weeks
    ordered = sorted(sessions, key=lambda s: s["_start"])
    gap = timedelta(hours=settings.rules.hard_run_lower_lift_gap_hours)
    for a in ordered:
        for b in ordered:
            apart = b["_start"] >= a["_end"] + gap or a["_start"] >= b["_end"] + gap
            if a["focus"] in HARD and b["focus"] in LOWER and not apart:
                errors.append(f"S4: {a['id']} within 8 h of {b['id']}")
            if a is not b and a["kind"] == b["kind"] == "lift" and a["_date"] <= b["_date"]:
                clash = (a["focus"] in LOWER and b["focus"] in LOWER) or (
                    a["focus"] in UPPER and b["focus"] in UPPER
                )
                days = (b["_date"] - a["_date"]).days
                if clash and days < settings.rules.region_gap_days:
                    errors.append(f"S5: {a['id']} and {b['id']} {days} days apart")

    start = date.fromisoformat(plan["start"])
    end = date.fromisoformat(plan["end"])
    monday = start
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
        if phase == "taper" and len(lifts) > 1:
            errors.append(f"L5: taper week of {monday} has {len(lifts)} lifts")
        if race_day is not None and monday <= race_day <= monday + timedelta(days=6):
            if goal.race.is_long and lifts:
                errors.append(f"P4: {goal.race} race week with lifts")
            if not goal.race.is_long and len(lifts) > 1:
                errors.append(f"P4: {goal.race} race week with {len(lifts)} lifts")
        if phase in ("base", "build") and lifts:
            has_plyo = any(e["kind"] == "plyometric" for s in lifts for e in s["exercises"])
            lower_lifts = [s for s in lifts if s["focus"] in LOWER]
            if lower_lifts and not has_plyo:
                errors.append(f"L3: {phase} week of {monday} without plyometrics")
        if goal.race is Race.NONE and phase not in ("base", "maintenance"):
            errors.append(f"P1: race none but phase {phase}")
        monday += timedelta(days=7)

    for w in plan.get("unplaced", []):
        if not any(r in w["reason"] for r in ("S4", "S5", "S6", "S7", "S8", "P4", "S3", "R3")):
            errors.append(f"unplaced {w['id']} reason names no rule: {w['reason']}")
    return errors
