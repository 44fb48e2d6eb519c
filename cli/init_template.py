"""The commented ``liftrun.toml`` that ``liftrun init`` writes from its answers.

Every key ``init`` decided is written, plus the defaults worth knowing, each with a comment
naming the rule it feeds. The default values are read from the config models, which own them,
so the file never disagrees with what the loader would assume without it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from pydantic import BaseModel

from cli.init_questions import PRESETS, Answers, CalendarAnswers
from config.models import (
    DISTANCE_DEFAULTS,
    WEEKDAYS,
    Athlete,
    Availability,
    CaldavCalendar,
    Feed,
    Goal,
    GoogleCalendar,
    IcsCalendar,
    Race,
    State,
    Sync,
    VdirCalendar,
)

COMMENT_COLUMN = 29  # where a key's trailing comment starts (0-based), as in the samples


def q(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def q_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(q(v) for v in values) + "]"


def toml(value: object) -> str:
    """A default as TOML: booleans lower-case, strings (and string enums) quoted, 12.0 as 12."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return q(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def default(model: type[BaseModel], name: str, comment: str | None = None) -> str:
    """``name = <the model's default>``, with ``comment`` after it at the comment column."""
    line = f"{name} = {toml(model.model_fields[name].default)}"
    return f"{line.ljust(COMMENT_COLUMN - 1)} # {comment}" if comment else line


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
        *_render_calendar(a.calendar),
    ]
    return "\n".join(out) + "\n"


def _render_calendar(c: CalendarAnswers) -> list[str]:
    out = ["[[calendars]]", f"kind = {q(c.kind)}"]
    if c.kind == "ics":
        out += [
            "# The feed liftrun writes; `liftrun serve` serves it for your calendar app to",
            '# subscribe to (see README.md, "The ICS feed").',
            f"push_to = {q(c.push_to or 'out/liftrun.ics')}",
            "# Busy time: secret iCal addresses (https, webcal) or absolute paths of .ics files;",
            "# sessions keep buffer_minutes clear of every event in them (S8).",
            f"busy_from = {q_list(c.busy_from)}",
            default(
                IcsCalendar, "alarm_minutes", "a reminder before each session; remove for none"
            ),
            "",
            "[feed]",
            default(Feed, "listen", "`liftrun serve` binds loopback unless told otherwise"),
            '# public_url = "https://training.example.com"   # behind a reverse proxy',
        ]
    elif c.kind == "caldav":
        out += [
            'name = "training"            # how reports and `liftrun status` name it',
            "# The server's base URL; the calendars are discovered from it (RFC 6764).",
            f"url = {q(c.url or '')}",
        ]
        if c.username is not None:
            out.append(f"username = {q(c.username)}")
        out += [
            '# The password is read from this file (or use password_env = "VARIABLE");',
            "# it is never printed, not even in error messages.",
            f"password_file = {q(c.password_file or '')}",
            "# The calendar for the sessions, by display name or URL: created if missing.",
            f"push_to = {q(c.push_to or 'Training')}",
            "# Calendars whose events are busy time (display names or URLs).",
            f"busy_from = {q_list(c.busy_from)}",
            default(CaldavCalendar, "alarm_minutes"),
            default(CaldavCalendar, "timeout_seconds"),
            '# auth = "basic"             # or "digest"; default: what the server asks for',
            '# verify_tls = true, ca_file = "/etc/ssl/my-ca.pem"',
        ]
    elif c.kind == "google":
        out += [
            'name = "google"',
            'auth = "oauth"               # or "service_account" with service_account_file',
            "# The OAuth client (a desktop app's JSON) `liftrun auth google` signs in with.",
            f"client_secrets_file = {q(c.client_secrets_file or 'google-client.json')}",
            '# token_file = "/path/google-token.json"  # default: in the state directory (0600)',
            "# A dedicated secondary calendar for the sessions: created on the first sync.",
            f"push_to = {q(c.push_to or 'Training')}",
            "# Calendar ids whose busy time is read (freebusy only: no titles or details).",
            f"busy_from = {q_list(c.busy_from)}",
            default(GoogleCalendar, "alarm_minutes"),
        ]
    else:
        out += [
            "# A directory with one .ics file per session (khal, vdirsyncer): created if missing.",
            f"push_to = {q(c.push_to or 'calendars/training')}",
            "# Directories whose events are busy time.",
            f"busy_from = {q_list(c.busy_from)}",
            default(VdirCalendar, "alarm_minutes"),
        ]
    return out
