"""The week grid (``liftrun plan``): race day shows the race session itself (P4), all day or at
its start time, in the column of its day."""

from __future__ import annotations

import io
from datetime import date

import pytest
from rich.console import Console

from cli.output.table import render
from planner.plan import build_plan
from tests.conftest import make_settings


def grid(**goal: str) -> list[str]:
    settings = make_settings(
        goal={"race": "half", "race_date": "2027-03-28", "plan_start": "2027-01-04", **goal}
    )
    plan = build_plan(settings, date(2027, 3, 15), 3)
    console = Console(file=io.StringIO(), width=200, record=True, color_system=None)
    console.print(render(plan))
    return console.export_text().splitlines()


def column_of(lines: list[str], word: str) -> int:
    """The grid column (0 = "Week of") a cell's text starts in."""
    header = next(line for line in lines if "Week of" in line)
    bars = [i for i, ch in enumerate(header) if ch in "│┃|"]
    line = next(line for line in lines if word in line)
    at = line.index(word)
    return sum(1 for b in bars if b < at) - 1


@pytest.mark.parametrize(("race_time", "when"), [(None, "all day"), ("09:30", "09:30")])
def test_race_day_shows_the_race_session(race_time: str | None, when: str) -> None:
    lines = grid(race_time=race_time) if race_time else grid()
    text = "\n".join(lines)
    assert text.count("RACE DAY") == 1 and "half marathon" in text
    sunday = 1 + 1 + 1 + 6  # "Week of", "Phase", "Volume", then Mon..Sun
    assert column_of(lines, "RACE DAY") == sunday
    assert column_of(lines, "half marathon") == sunday
    race_row = lines.index(next(line for line in lines if "RACE DAY" in line))
    assert when in lines[race_row + 2]
    assert "rest" not in lines[race_row].split("│")[sunday + 1]
