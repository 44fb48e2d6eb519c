"""The plan as plain data: the JSON contract other tools read (see README, "JSON output")."""

from __future__ import annotations

from typing import Any

from planner.model import Plan, Session
from planner.rules import sorted_ids


def session_to_dict(s: Session) -> dict[str, Any]:
    return {
        "id": s.id,
        "date": s.date.isoformat(),
        "kind": s.kind.value,
        "focus": s.focus.value,
        "phase": s.phase.value,
        "start": s.start.isoformat() if s.start else None,
        "end": s.end.isoformat() if s.end else None,
        "duration_minutes": s.duration_minutes,
        "title": s.title,
        "description": s.description,
        "rules": list(sorted_ids(frozenset(s.rules) | frozenset(s.placement_rules))),
        "reason": s.reason,
        "status": s.status,
        "placement": s.placement,
        "exercises": [
            {
                "name": e.name,
                "sets": e.sets,
                "reps": e.reps,
                "kind": e.kind.value,
                "note": e.note,
                "load": e.load.value,
                "reps_in_reserve": e.reps_in_reserve,
                "per_leg": e.per_leg,
            }
            for e in s.exercises
        ],
        "segments": [
            {
                "kind": seg.kind.value,
                "minutes": seg.minutes,
                "effort": seg.effort.value,
                "repeat": seg.repeat,
            }
            for seg in s.segments
        ],
        "all_day": s.all_day,
    }


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    n = plan.nutrition
    return {
        "timezone": plan.timezone,
        "start": plan.start.isoformat(),
        "end": plan.end.isoformat(),
        "phases": [
            {"name": p.name.value, "start": p.start.isoformat(), "end": p.end.isoformat()}
            for p in plan.phases
        ],
        "nutrition": {
            "protein_g_per_day": list(n.protein_g_per_day) if n.protein_g_per_day else None,
            "bodyweight_lb": n.bodyweight_lb,
            "run_minutes_per_week": n.run_minutes_per_week,
            "extra_kcal_per_week": list(n.extra_kcal_per_week) if n.extra_kcal_per_week else None,
            "rules": list(n.rules),
            "notes": list(n.notes),
        },
        "sessions": [session_to_dict(s) for s in plan.sessions],
        "unplaced": [
            {"id": u.id, "reason": u.reason, "rules": list(u.rules)} for u in plan.unplaced
        ],
        "warnings": list(plan.warnings),
        "suggestions": list(plan.suggestions),
        "weeks": [
            {
                "start": w.start.isoformat(),
                "phase": w.phase.value,
                "run_minutes": w.run_minutes,
                "long_run_minutes": w.long_run_minutes,
                "lift_sets": w.lift_sets,
                "hard_runs": w.hard_runs,
                "cutback": w.cutback,
            }
            for w in plan.weeks
        ],
    }
