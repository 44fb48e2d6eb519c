"""The three pages of the default sample written to files, to look at them without a server:
``python -m web.preview OUTDIR [--weeks N] [--now 2027-02-03T12:00]``.

The sample is the embedded default config (a strength-first half marathon) placed around a few
busy events, one of them pinned, with a week behind the athlete that holds a done and a skipped
session; the links between the files work, the forms post nowhere, and the Move form offers
the slots the engine finds (``planner.alternatives``), grouped by day as served. The tests and
``benchmarks/bench_pages.py`` draw the same sample.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

import config
from config.loader import load
from config.models import Settings
from planner.alternatives import alternative_slots
from planner.busy import BusyInterval
from planner.constraints import RuleBook
from planner.model import Kind, Plan
from planner.phases import monday_of
from planner.placement import place_plan
from planner.plan import build_plan, default_span
from sync.state import Health
from web import build
from web.pages import render_not_found, render_overview, render_session, render_week
from web.views import Actions, Links, Outcome, Overview, SessionState, SessionView, WeekView

SAMPLE = Path(config.__file__).parent / "samples" / "default.toml"
ACTIONS = Actions(
    csrf_token="preview",
    done="#done",
    skipped="#skipped",
    sore="#sore",
    move="#move",
    not_doing="#not-doing",
    restore="#restore",
    pause="#pause",
    end_pause="#end-pause",
)
FILES = {"overview": "overview.html", "week": "week.html", "session": "session.html"}


@dataclass(frozen=True)
class Sample:
    settings: Settings
    planned: Plan
    placed: Plan
    busy: tuple[BusyInterval, ...]
    now: datetime
    outcomes: dict[str, Outcome]
    health: tuple[Health, ...]


def default_now(settings: Settings) -> datetime:
    """Wednesday noon of the plan's fifth week: some weeks behind, most ahead."""
    start, _ = default_span(settings, datetime.now(settings.zone).date())
    return datetime.combine(start + timedelta(weeks=4, days=2), time(12), settings.zone)


def sample(weeks: int | None = None, now: datetime | None = None) -> Sample:
    """The default sample's plan of ``weeks`` weeks (default: its whole block) at ``now``."""
    settings = load(str(SAMPLE), {}).settings
    now = now or default_now(settings)
    start, block = default_span(settings, now.date())
    planned = build_plan(settings, start, weeks or block)
    zone = settings.zone
    monday = monday_of(now.astimezone(zone).date())

    def at(day: int, hour: float, minutes: int, title: str) -> BusyInterval:
        a = datetime.combine(monday + timedelta(days=day), time(0), zone)
        a += timedelta(hours=hour)
        return BusyInterval(a, a + timedelta(minutes=minutes), title, "office calendar")

    busy = (
        at(3, 6.5, 60, "Dentist"),
        at(3, 17.5, 150, "Team dinner"),
        at(4, 7.0, 45, "Early call"),
    )
    rules = RuleBook.from_settings(settings)
    ahead = [s for s in planned.sessions if s.start and s.start > now and s.kind is not Kind.RACE]
    pins = {}
    if ahead:
        pick = ahead[min(1, len(ahead) - 1)]
        assert pick.start is not None and pick.end is not None
        pins[pick.id] = (pick.start, pick.end)
    # the weeks behind were placed by earlier cycles: they stay where they were (S9)
    previous = {
        s.id: (s.start, s.end) for s in planned.sessions if s.start and s.end and s.start < now
    }
    placed = place_plan(planned, rules, busy, now=now, previous=previous, pinned=pins)
    behind = [s for s in placed.sessions if s.date < monday and s.kind is not Kind.RACE]
    outcomes: dict[str, Outcome] = {}
    for k, done in enumerate(behind):
        said = SessionState.SKIPPED if k % 5 == 3 else SessionState.DONE
        outcomes[done.id] = Outcome(
            said, done.end, 6 + k % 3 if said is SessionState.DONE else None
        )
    if behind and outcomes[behind[-1].id].state is SessionState.DONE:
        last = behind[-1]
        outcomes[last.id] = Outcome(SessionState.DONE, last.end, 7, "felt strong")
    checked = now - timedelta(minutes=4)
    health = (
        Health("source", "work calendar", True, checked, checked, None),
        Health("target", "training feed", True, checked, checked, None),
        Health(
            "target",
            "phone (CalDAV)",
            False,
            checked,
            checked - timedelta(hours=3),
            "server answered 503; retried 3 times",
        ),
    )
    return Sample(settings, planned, placed, busy, now, outcomes, health)


def views(s: Sample, links: Links | None = None) -> tuple[Overview, WeekView, SessionView]:
    """The three views of the sample, linked as the preview's files."""
    links = links or Links(overview=FILES["overview"], week=FILES["week"])
    url = FILES["session"]
    overview = build.overview(
        s.placed,
        now=s.now,
        outcomes=s.outcomes,
        health=s.health,
        last_cycle=s.now - timedelta(minutes=4),
        actions=ACTIONS,
        links=links,
        session_url=lambda _: url,
    )
    rules = RuleBook.from_settings(s.settings)
    week = build.week(
        s.placed,
        s.now.date(),
        rules,
        now=s.now,
        busy=s.busy,
        outcomes=s.outcomes,
        links=links,
        session_url=lambda _: url,
    )
    ahead = [x for x in s.placed.sessions if x.start and x.start > s.now]
    chosen = next((x for x in ahead if x.kind is Kind.LIFT), ahead[0] if ahead else None)
    if chosen is None:
        chosen = s.placed.sessions[-1]
    found = alternative_slots(s.placed.sessions, chosen.id, rules, s.busy, now=s.now)
    session = build.session(
        chosen.id,
        s.planned,
        s.placed,
        now=s.now,
        busy=s.busy,
        slots=[(a.start, a.end) for a in found],
        actions=ACTIONS,
        links=links,
    )
    assert session is not None
    return overview, week, session


def write(outdir: Path, weeks: int | None = None, now: datetime | None = None) -> list[Path]:
    overview, week, session = views(sample(weeks, now))
    outdir.mkdir(parents=True, exist_ok=True)
    pages = {
        FILES["overview"]: render_overview(overview),
        FILES["week"]: render_week(week),
        FILES["session"]: render_session(session),
        "not_found.html": render_not_found(),
    }
    written = []
    for name, html in pages.items():
        path = outdir / name
        path.write_text(html, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m web.preview", description=__doc__)
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--weeks", type=int, help="weeks of plan (default: the whole block)")
    parser.add_argument("--now", help="the current time, ISO 8601 (default: in week 5)")
    args = parser.parse_args(argv)
    now = datetime.fromisoformat(args.now) if args.now else None
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=load(str(SAMPLE), {}).settings.zone)
    for path in write(args.outdir, args.weeks, now):
        print(path)


if __name__ == "__main__":
    main()
