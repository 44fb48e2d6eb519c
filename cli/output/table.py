"""The week grid a person reads at a glance: one row per week, phases visible, Mon to Sun."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from rich.console import Group
from rich.table import Table
from rich.text import Text

from planner.model import Kind, PhaseName, Plan, Session, WeekSummary

PHASE_STYLE = {
    PhaseName.BASE: "cyan",
    PhaseName.BUILD: "green",
    PhaseName.PEAK: "magenta",
    PhaseName.TAPER: "yellow",
    PhaseName.RACE: "bold red",
    PhaseName.RECOVERY: "dim",
    PhaseName.MAINTENANCE: "blue",
}
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _race(s: Session) -> Text:
    """Race day from the race session itself (P4): its title and its start time, or "all day"."""
    text = Text("RACE DAY", style="bold red")
    text.append(f"\n  {s.title.removeprefix('Race: ')}", style="red")
    when = "all day" if s.all_day or s.start is None else s.start.strftime("%H:%M")
    text.append(f"\n  {when}", style="dim")
    return text


def _cell(sessions: list[Session]) -> Text:
    text = Text()
    for i, s in enumerate(sessions):
        if i:
            text.append("\n")
        if s.kind is Kind.RACE:
            text.append_text(_race(s))
            continue
        icon = "L" if s.kind is Kind.LIFT else "R"
        label = s.focus.value.replace("optional_easy", "opt. easy")
        start = s.start.strftime("%H:%M") if s.start else "--:--"
        text.append(f"{icon} {label} {s.duration_minutes}'", style="bold" if icon == "L" else "")
        text.append(f"\n  {start}", style="dim")
    return text


def _volume(week: WeekSummary | None) -> Text:
    """The week's volume as a coach reads it first (G1-G4): run and long-run minutes, sets."""
    if week is None:
        return Text("")
    text = Text(f"run {week.run_minutes}'")
    if week.long_run_minutes:
        text.append(f"\nlong {week.long_run_minutes}'")
    text.append(f"\n{week.lift_sets} sets", style="bold")
    if week.hard_runs:
        text.append(f"\n{week.hard_runs} hard")
    if week.cutback:
        text.append("\ncutback", style="dim")
    return text


def render(plan: Plan) -> Group:
    by_day: dict[date, list[Session]] = defaultdict(list)
    for s in plan.sessions:
        by_day[s.date].append(s)
    table = Table(title=f"liftrun plan ({plan.timezone})", show_lines=True, expand=False)
    table.add_column("Week of", no_wrap=True)
    table.add_column("Phase", no_wrap=True)
    table.add_column("Volume", no_wrap=True)
    for d in DAYS:
        table.add_column(d, no_wrap=True)
    summaries = {w.start: w for w in plan.weeks}
    monday = plan.start
    while monday <= plan.end:
        names = [
            p.name for p in plan.phases if p.start <= monday + timedelta(days=6) and p.end >= monday
        ] or [PhaseName.BASE]
        phase_text = Text()
        for i, name in enumerate(dict.fromkeys(names)):
            phase_text.append(("\n" if i else "") + name.value, style=PHASE_STYLE[name])
        cells: list[Text] = []
        for k in range(7):
            day = monday + timedelta(days=k)
            cell = _cell(by_day.get(day, []))
            if not by_day.get(day):
                cell = Text("rest", style="dim")
            cells.append(cell)
        table.add_row(
            monday.strftime("%d %b %Y"), phase_text, _volume(summaries.get(monday)), *cells
        )
        monday += timedelta(days=7)
    parts: list[Table | Text] = [table]
    n = plan.nutrition
    parts.extend(Text(f"Nutrition: {note} ({', '.join(n.rules)})") for note in n.notes)
    for u in plan.unplaced:
        parts.append(Text(f"Unplaced {u.id}: {u.reason}", style="yellow"))
    for w in plan.warnings:
        parts.append(Text(f"Warning: {w}", style="yellow"))
    for fix in plan.suggestions:
        parts.append(Text(f"Suggestion: {fix}", style="cyan"))
    return Group(*parts)
