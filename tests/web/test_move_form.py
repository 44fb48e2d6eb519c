"""The Move form as a runner on a phone uses it: the engine's valid starts grouped by day, each
run of starts collapsed to its first, last and whole hours, every other valid start a tap away,
the session's own time marked in its place, labels that say weekday, date and times in the
plan's zone, one radio group and one button, no script."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from planner.alternatives import alternative_slots
from planner.constraints import RuleBook
from planner.model import Kind
from tests.web.page_checks import check_page, parse
from web import build
from web.move_choices import MAX_OFFERED, collapse, offered_starts, runs, slot_days
from web.pages import render_session
from web.preview import ACTIONS, Sample, sample
from web.views import SessionView

BERLIN = ZoneInfo("Europe/Berlin")
THU = date(2027, 2, 4)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=BERLIN)


def window(day: date, first: str, last: str, minutes: int = 45) -> list[tuple[datetime, datetime]]:
    """The engine's starts over one free span: quarter hours from ``first`` to ``last``
    (the span's last start, which may be off the grid)."""
    a = at(day, *map(int, first.split(":")))
    b = at(day, *map(int, last.split(":")))
    starts = []
    t = a
    while t < b:
        starts.append(t)
        t += timedelta(minutes=15)
    starts.append(b)
    return [(s, s + timedelta(minutes=minutes)) for s in starts]


def hm(ts: list[datetime]) -> list[str]:
    return [f"{t:%H:%M}" for t in ts]


# -- the rule ------------------------------------------------------------------------------------
def test_a_window_offers_its_first_start_whole_hours_and_its_last() -> None:
    slots = window(THU, "08:00", "11:20", 40)
    starts = [a for a, _ in slots]
    assert hm(collapse(starts, 60)) == ["08:00", "09:00", "10:00", "11:20"]
    # 11:00 is 20 min before the window's last start: the last is offered, 11:00 is not
    (day,) = slot_days(slots, BERLIN)
    assert [c.times for c in day.choices] == [
        "08:00-08:40",
        "09:00-09:40",
        "10:00-10:40",
        "11:20-12:00",
    ]
    assert len(day.more) == len(slots) - 4


def test_runs_break_where_busy_time_or_a_window_ends() -> None:
    morning = window(THU, "06:10", "07:15")
    evening = window(THU, "17:30", "20:00")
    starts = sorted(a for a, _ in morning + evening)
    assert [hm(r)[0] for r in runs(starts)] == ["06:10", "17:30"]
    (day,) = slot_days(morning + evening, BERLIN)
    assert [c.times[:5] for c in day.choices] == [
        "06:10",
        "07:15",
        "17:30",
        "18:00",
        "19:00",
        "20:00",
    ]


def test_a_short_run_offers_one_time() -> None:
    (day,) = slot_days(window(THU, "07:00", "07:15"), BERLIN)
    assert [c.times[:5] for c in day.choices] == ["07:00"]
    assert [c.times[:5] for c in day.more] == ["07:15"]


def test_a_long_free_day_coarsens_its_hours() -> None:
    slots = window(THU, "06:00", "20:15")
    (day,) = slot_days(slots, BERLIN)
    assert len(day.choices) <= MAX_OFFERED
    assert [c.times[:5] for c in day.choices] == [
        "06:00",
        "09:00",
        "12:00",
        "15:00",
        "18:00",
        "20:15",
    ]
    assert {c.value for c in day.choices + day.more} == {choice_value(a) for a, _ in slots}


def test_the_sessions_own_time_is_marked_in_its_place_and_not_offered() -> None:
    slots = [s for s in window(THU, "06:00", "09:00") if s[0] != at(THU, 7)]
    current = (at(THU, 7), at(THU, 7, 45))
    (day,) = slot_days(slots, BERLIN, current)
    assert [(c.times, c.current) for c in day.choices] == [
        ("06:00-06:45", False),
        ("07:00-07:45", True),
        ("08:00-08:45", False),
        ("09:00-09:45", False),
    ]
    assert not any(c.current for c in day.more)


def test_the_sessions_day_is_shown_even_with_nothing_else_free() -> None:
    friday = THU + timedelta(days=1)
    days = slot_days(window(friday, "18:00", "19:00"), BERLIN, (at(THU, 7), at(THU, 7, 45)), THU)
    assert [(d.label, d.relative) for d in days] == [
        ("Thu 4 Feb", "today"),
        ("Fri 5 Feb", "tomorrow"),
    ]
    assert [c.current for c in days[0].choices] == [True]


def test_labels_say_weekday_date_and_times_in_the_plans_zone() -> None:
    utc = datetime(2027, 2, 4, 6, 0, tzinfo=UTC)  # 07:00 in Berlin
    (day,) = slot_days([(utc, utc + timedelta(minutes=45))], BERLIN)
    (c,) = day.choices
    assert (day.label, c.label) == ("Thu 4 Feb", "Thu 4 Feb 07:00-07:45")
    assert c.value == "2027-02-04T06:00:00+00:00"
    # the night clocks go forward: the wall clock of the plan's zone, not UTC's
    spring = datetime(2027, 3, 28, 8, 0, tzinfo=UTC)
    (day,) = slot_days([(spring, spring + timedelta(minutes=40))], BERLIN)
    assert day.choices[0].label == "Sun 28 Mar 10:00-10:40"


def choice_value(t: datetime) -> str:
    return t.astimezone(UTC).isoformat()


@given(
    st.lists(st.integers(min_value=0, max_value=24 * 12 - 1), min_size=1, max_size=120, unique=True)
)
def test_every_valid_start_is_offered_or_a_tap_away_exactly_once(fives: list[int]) -> None:
    """Any set of starts (five-minute steps, as neighbours fix them off the grid): the offered
    and the more lists split it, each run's first start is offered, nothing is made up."""
    starts = sorted(at(THU, 0) + timedelta(minutes=5 * k) for k in fives)
    slots = [(a, a + timedelta(minutes=30)) for a in starts]
    (day,) = slot_days(slots, BERLIN)
    offered = [c.value for c in day.choices]
    more = [c.value for c in day.more]
    assert sorted(offered + more) == sorted(choice_value(a) for a in starts)
    assert len(set(offered + more)) == len(starts)
    assert {choice_value(r[0]) for r in runs(starts)} <= set(offered)
    assert offered_starts(starts) == [c.start for c in day.choices]


# -- the page, with the engine's own slots -------------------------------------------------------
@cache
def the_sample() -> Sample:
    return sample()


def move_page(sample_: Sample, kind: Kind) -> tuple[SessionView, list[tuple[datetime, datetime]]]:
    """The session page of the first session of ``kind`` a day or more ahead, with every slot
    ``planner.alternatives`` finds for it."""
    s = sample_
    rules = RuleBook.from_settings(s.settings)
    chosen = next(
        x
        for x in s.placed.sessions
        if x.kind is kind and x.start and x.start > s.now + timedelta(days=1)
    )
    found = alternative_slots(s.placed.sessions, chosen.id, rules, s.busy, now=s.now)
    slots = [(a.start, a.end) for a in found]
    view = build.session(
        chosen.id, s.planned, s.placed, now=s.now, busy=s.busy, slots=slots, actions=ACTIONS
    )
    assert view is not None
    return view, slots


def test_the_form_offers_a_few_times_per_day_and_keeps_every_valid_one() -> None:
    for kind in (Kind.RUN, Kind.LIFT):
        view, slots = move_page(the_sample(), kind)
        html = render_session(view)
        page = check_page(html)
        move = next(
            fs for f, fs in zip(page.forms, page.form_fields, strict=True) if f["action"] == "#move"
        )
        radios = [f for f in move if f.get("type") == "radio"]
        engine = {choice_value(a) for a, _ in slots}
        assert len(radios) == len(engine) and {r["value"] for r in radios} == engine
        assert [f["tag"] for f in move if f["tag"] in {"button", "select"}] == ["button"]
        offered = [c for d in view.slot_days for c in d.choices if not c.current]
        assert len(slots) > 2 * len(offered), (len(slots), len(offered))
        assert all(
            len([c for c in d.choices if not c.current]) <= MAX_OFFERED for d in view.slot_days
        )
        assert html.count('<fieldset class="slot-day">') == len(view.slot_days)
        for d in view.slot_days:
            assert f"<legend>{d.label}" in html
        assert view.start is not None and view.end is not None
        current = [c for d in view.slot_days for c in d.choices if c.current]
        assert [(c.start, c.end) for c in current] == [(view.start, view.end)]
        assert "current time" in html  # in words, not only a dashed border


def test_each_radio_is_labelled_with_its_day_and_times() -> None:
    view, _ = move_page(the_sample(), Kind.RUN)
    html = render_session(view)
    page = parse(html)
    ids = [c.attrs["id"] for c in page.controls if c.attrs.get("type") == "radio"]
    assert len(ids) == len(set(ids)) and set(ids) <= page.label_for
    for d in view.slot_days:
        for c in d.choices + d.more:
            if not c.current:
                assert f'<span class="vh">{d.label} </span>{c.times}' in html
