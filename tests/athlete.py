"""The athlete most sync tests and benchmarks share: the sample's half-marathon plan, mornings
and evenings on weekdays, weekend mornings, state beside the config. Each test adds only its
``[sync]`` and ``[[calendars]]``, the part it is about."""

from __future__ import annotations

ATHLETE = """\
timezone = "Europe/Berlin"
[athlete]
bodyweight_kg = 70
lift_days = 3
run_days = 2
[goal]
race = "half"
race_date = "{race_date}"
plan_start = "{plan_start}"{race_time}
[availability]
mon = ["06:00-08:00", "17:30-21:30"]
tue = ["06:00-08:00", "17:30-21:30"]
wed = ["06:00-08:00", "17:30-21:30"]
thu = ["06:00-08:00", "17:30-21:30"]
fri = ["06:00-08:00", "17:00-20:00"]
sat = ["07:00-12:00"]
sun = ["08:00-11:00"]
[state]
path = "state"
"""


def athlete_toml(
    *, race_date: str = "2027-04-18", plan_start: str = "2027-01-04", race_time: str | None = None
) -> str:
    """The shared athlete as TOML, with no braces left: safe to ``str.format`` the rest."""
    time_line = f'\nrace_time = "{race_time}"' if race_time else ""
    return ATHLETE.format(race_date=race_date, plan_start=plan_start, race_time=time_line)
