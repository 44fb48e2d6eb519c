"""The commented ``liftrun.toml`` that ``liftrun init`` writes from its answers.

Every key ``init`` decided is written, plus the defaults worth knowing, each with a comment
naming the rule it feeds. The default values are read from the config models, which own them,
so the file never disagrees with what the loader would assume without it. The calendar's section
is its kind's (:class:`adapters.wizard.KindAnswers`).
"""

from __future__ import annotations

from adapters.wizard import default, q, q_list
from cli.init_questions import PRESETS, Answers
from config.models import (
    DISTANCE_DEFAULTS,
    WEEKDAYS,
    Athlete,
    Availability,
    Goal,
    Race,
    State,
    Sync,
)


def render(a: Answers) -> str:
    """The commented config: every key ``init`` decided, plus the defaults worth knowing."""
    out = [
        f"# liftrun configuration, written by `liftrun init` on {a.today}.",
        '# Every key is listed in README.md ("Configuration"); rule ids (L1, S8, ...) name the',
        "# rules in shared/DOMAIN.md a key feeds. Any key can be overridden from the environment",
        "# as LIFTRUN_<SECTION>__<KEY> (e.g. LIFTRUN_ATHLETE__LIFT_DAYS=2). Relative paths are",
        "# relative to this file. `liftrun check` reaches every calendar without writing.",
        "",
        "# IANA time zone: every time of day below is wall-clock time there.",
        f"timezone = {q(a.timezone)}",
        "",
        "[athlete]",
        "# beginner / intermediate / advanced: the default lift count (L1) and ease-in weeks (L6).",
        default(Athlete, "experience"),
        "# strength: strength first, the concurrent-training rules [CT];",
        "# endurance: running first, the lift-run programme [LR].",
        f"priority = {q(a.priority)}",
        "# Lift sessions a week, 1..4 (L1); peak and taper phases may lower it (L4, L5).",
        f"lift_days = {a.lift_days}",
        "# Runs a week, 1..6 (R1-R5 pick the week template).",
        f"run_days = {a.run_days}",
        "# Body weight for the daily protein (N1) and extra energy on run days (N2);",
        "# bodyweight_lb works too (one of the two).",
    ]
    if a.bodyweight_kg is None:
        out.append("# bodyweight_kg = 70")
    else:
        out.append(f"bodyweight_kg = {a.bodyweight_kg:g}")
    out += [
        "# S7: lift on the hard-run days to keep the easy days easy (endurance priority).",
        default(Athlete, "hard_days_hard"),
        '# L4: peak lifting heavy (2-4 x 3-5, "strength") or 3 x 10-15 ("endurance").',
        default(Athlete, "peak_style"),
        "# L6: false (the default) eases sets and weights in over the first weeks; set true if",
        "# you already lift regularly.",
        default(Athlete, "lifting_now"),
        "# G1: where your running starts, in minutes a week and your longest run; default by",
        "# experience (beginner 90/40, intermediate 150/60, advanced 240/90).",
        "# weekly_run_minutes = 150",
        "# long_run_minutes = 60",
        "",
        "[goal]",
        "# The race (P1): none, 5k, 10k, half or marathon. Without a race the plan builds",
        '# strength continuously (or maintains it: strength_mode = "maintenance").',
        f"race = {q(a.race)}",
    ]
    if a.race_date is None:
        out += [
            '# race_date = "YYYY-MM-DD"     # needed once race is not "none"',
            default(Goal, "strength_mode"),
        ]
    else:
        block = DISTANCE_DEFAULTS[Race(a.race)].block_weeks
        out += [
            f"race_date = {q(a.race_date.isoformat())}",
            '# race_time = "09:30"          # P4: race day is an all-day event unless set',
            f'# plan_start = "YYYY-MM-DD"    # default: {block} weeks before race day, on a Monday',
            "# P2-P5 (peak_weeks, taper_weeks, recovery_weeks, no_lift_days_before_race) default",
            "# by distance; see DISTANCE_DEFAULTS in config/models.py.",
        ]
    meaning = PRESETS[a.preset][0] if a.preset in PRESETS else "entered day by day"
    out += [
        "",
        "[availability]",
        '# When you can train (S8): local "HH:MM-HH:MM" windows per weekday, no overlaps;',
        "# [] is a day without training.",
        f"# Chosen at init: {a.preset} ({meaning}).",
        *(f"{day} = {q_list(a.windows.get(day, []))}" for day in WEEKDAYS),
        "# Minutes kept clear before and after every busy event in your calendar (S8).",
        default(Availability, "buffer_minutes"),
        "",
        "[state]",
        "# The SQLite state store, the lock, source caches and the feed token.",
        default(State, "path"),
        "",
        "[sync]",
        default(Sync, "interval_minutes", "`liftrun sync` runs a cycle this often (10 % jitter)"),
        default(Sync, "horizon_days", "how far ahead sessions are placed and pushed"),
        default(Sync, "freeze_hours", "sessions starting sooner than this are not moved any more"),
        default(
            Sync, "source_timeout_seconds", "a busy calendar slower than this counts as unreadable"
        ),
        "",
        *a.calendar.section(),
    ]
    return "\n".join(out) + "\n"
