"""The week templates of the two articles, as (focus, preferred weekday) in order of importance.

Order matters twice: the first N entries are the week's sessions for N lift or run days, and the
later an entry, the earlier S10 drops it when a week cannot hold everything.
"""

from __future__ import annotations

from config.models import Race
from planner.model import Focus

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
F = Focus

Template = tuple[tuple[Focus, int], ...]

# R2 + L7 [CT]: lift Mon/Wed/Fri split lower / upper / full; 4 days as an upper/lower split
# whose same-region days stay two days apart (S5).
STRENGTH_LIFTS: dict[int, Template] = {
    1: ((F.FULL, MON),),
    2: ((F.FULL, MON), (F.FULL, THU)),
    3: ((F.LOWER, MON), (F.UPPER, WED), (F.FULL, FRI)),
    4: ((F.LOWER, MON), (F.UPPER, TUE), (F.LOWER, THU), (F.UPPER, FRI)),
}

# R2 [CT, Jamie's week]: Tue 30 min zone 2, Thu tempo; further runs on the free days.
STRENGTH_RUNS: Template = (
    (F.EASY, TUE),
    (F.TEMPO, THU),
    (F.LONG, SAT),
    (F.EASY, WED),
    (F.INTERVALS, SUN),
    (F.OPTIONAL_EASY, FRI),
)
# A half or marathon needs its long run even when running is the accessory.
STRENGTH_RUNS_LONG_RACE: Template = (
    (F.EASY, TUE),
    (F.LONG, SAT),
    (F.TEMPO, THU),
    (F.EASY, WED),
    (F.INTERVALS, SUN),
    (F.OPTIONAL_EASY, FRI),
)
# A 5K/10K runner still needs a long run once there are three runs (G2: it is where beginners
# and advanced runners differ most); speed comes fourth.
STRENGTH_RUNS_SHORT_RACE: Template = (
    (F.EASY, TUE),
    (F.TEMPO, THU),
    (F.LONG, SAT),
    (F.INTERVALS, SUN),
    (F.EASY, WED),
    (F.OPTIONAL_EASY, FRI),
)

# R5 [LR build]: Mon tempo, Tue lower, Wed optional easy, Thu speed + upper, Fri easy,
# Sat long + full, Sun off.
ENDURANCE_BUILD_LIFTS: dict[int, Template] = {
    1: ((F.FULL, TUE),),
    2: ((F.LOWER, TUE), (F.UPPER, THU)),
    3: ((F.LOWER, TUE), (F.UPPER, THU), (F.FULL, SAT)),
    4: ((F.LOWER, TUE), (F.UPPER, THU), (F.FULL, SAT), (F.UPPER, MON)),
}
ENDURANCE_BUILD_RUNS: Template = (
    (F.LONG, SAT),
    (F.INTERVALS, THU),
    (F.TEMPO, MON),
    (F.EASY, FRI),
    (F.OPTIONAL_EASY, WED),
    (F.EASY, TUE),
)

# R5 [LR peak]: Mon tempo, Tue full + optional easy, Wed speed, Thu full, Fri easy, Sat long.
ENDURANCE_PEAK_LIFTS: dict[int, Template] = {
    1: ((F.FULL, TUE),),
    2: ((F.FULL, TUE), (F.FULL, THU)),
}
ENDURANCE_PEAK_RUNS: Template = (
    (F.LONG, SAT),
    (F.INTERVALS, WED),
    (F.TEMPO, MON),
    (F.EASY, FRI),
    (F.OPTIONAL_EASY, TUE),
    (F.EASY, THU),
)


def strength_runs(race: Race) -> Template:
    if race in (Race.FIVE_K, Race.TEN_K):
        return STRENGTH_RUNS_SHORT_RACE
    return STRENGTH_RUNS_LONG_RACE if race.is_long else STRENGTH_RUNS
