"""The SVG pictures: valid XML that names itself, phases named and dated with today marked,
cutbacks and past weeks visible without colour, busy blocks that say only "busy", sessions with
a word and a pattern, pins marked, the grid through a DST change."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from tests.web.page_checks import SVG, check_svg, text_of
from web import charts
from web.views import (
    BusyBlock,
    DayColumn,
    PhaseBand,
    SessionLine,
    SessionState,
    WeekBar,
    WeekView,
)

BERLIN = ZoneInfo("Europe/Berlin")
PHASES = (
    PhaseBand("build", date(2027, 1, 4), date(2027, 3, 7)),
    PhaseBand("peak", date(2027, 3, 8), date(2027, 4, 4)),
    PhaseBand("taper", date(2027, 4, 5), date(2027, 4, 11)),
    PhaseBand("race", date(2027, 4, 12), date(2027, 4, 18)),
    PhaseBand("recovery", date(2027, 4, 19), date(2027, 5, 2)),
)


def _xml(svg: object) -> ET.Element:
    el = ET.fromstring(str(svg))
    check_svg(el)
    return el


def _groups(el: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in el.iter(f"{SVG}g") if cls in g.get("class", "").split()]


def test_the_timeline_names_and_dates_every_phase_and_marks_today() -> None:
    el = _xml(charts.phase_timeline(PHASES, date(2027, 2, 3)))
    phases = _groups(el, "phase")
    assert [g.get("class", "").split()[1] for g in phases] == [
        "phase-build",
        "phase-peak",
        "phase-taper",
        "phase-race",
        "phase-recovery",
    ]
    for g, p in zip(phases, PHASES, strict=True):
        title = g.find(f"{SVG}title")
        assert title is not None
        assert title.text == f"{p.name} {p.start.isoformat()} to {p.end.isoformat()}"
    words = text_of(el)
    assert "build" in words and "peak" in words and "taper" in words and "race" in words
    assert "4 Jan" in words and "8 Mar" in words
    assert "today 3 Feb" in text_of(_groups(el, "today")[0])
    assert "build" in (el.find(f"{SVG}desc").text or "")  # type: ignore[union-attr]


def test_no_today_mark_outside_the_plan() -> None:
    el = _xml(charts.phase_timeline(PHASES, date(2028, 1, 1)))
    assert not _groups(el, "today")
    _xml(charts.phase_timeline((), date(2028, 1, 1)))


def _weeks(n: int) -> tuple[WeekBar, ...]:
    start = date(2027, 1, 4)
    return tuple(
        WeekBar(
            start=start + timedelta(weeks=k),
            phase="build",
            run_minutes=100 + 10 * k,
            long_run_minutes=40 + 5 * k,
            lift_sets=30,
            cutback=k % 4 == 3,
            past=k < 3,
            sessions=5,
            done=4 if k < 3 else 0,
            skipped=1 if k < 3 else 0,
        )
        for k in range(n)
    )


def test_cutback_and_past_weeks_show_without_colour() -> None:
    weeks = _weeks(8)
    el = _xml(charts.volume_chart(weeks, date(2027, 1, 27)))
    groups = _groups(el, "week")
    assert len(groups) == 8
    cut = _groups(el, "cutback")
    assert len(cut) == 2
    for g in cut:
        assert any(t.text == "c" for t in g.iter(f"{SVG}text"))  # a letter, beside the hatch
        assert any(r.get("fill") == "url(#vol-cutback)" for r in g.iter(f"{SVG}rect"))
        assert "cutback week" in (g.find(f"{SVG}title").text or "")  # type: ignore[union-attr]
    past = _groups(el, "past")
    assert len(past) == 3
    for g in past:
        assert "done 4 of 5, skipped 1" in (g.find(f"{SVG}title").text or "")  # type: ignore[union-attr]
        assert any(r.get("fill") == "url(#vol-skip)" for r in g.iter(f"{SVG}rect"))
    # this week is marked by a shape, not a colour
    assert sum(1 for _ in el.iter(f"{SVG}polygon")) == 1


week_bars = st.builds(
    WeekBar,
    start=st.dates(date(2026, 1, 5), date(2030, 1, 1)),
    phase=st.sampled_from(["base", "build", "peak", "taper", "race", "recovery"]),
    run_minutes=st.integers(0, 600),
    long_run_minutes=st.integers(0, 240),
    lift_sets=st.integers(0, 80),
    cutback=st.booleans(),
    past=st.booleans(),
    sessions=st.integers(0, 10),
    done=st.integers(0, 5),
    skipped=st.integers(0, 5),
)


@given(st.lists(week_bars, max_size=60).map(tuple), st.dates(date(2026, 1, 1), date(2030, 1, 1)))
def test_any_weeks_draw_a_valid_chart(weeks: tuple[WeekBar, ...], today: date) -> None:
    el = _xml(charts.volume_chart(weeks, today))
    assert len(_groups(el, "week")) == len(weeks)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["base", "build", "peak", "taper", "race", "recovery"]),
            st.integers(1, 60),
        ),
        min_size=1,
        max_size=8,
    ),
    st.integers(-10, 400),
)
def test_any_phases_draw_a_valid_timeline(parts: list[tuple[str, int]], offset: int) -> None:
    start = date(2027, 1, 4)
    bands = []
    for name, days in parts:
        bands.append(PhaseBand(name, start, start + timedelta(days=days - 1)))
        start += timedelta(days=days)
    el = _xml(charts.phase_timeline(tuple(bands), date(2027, 1, 4) + timedelta(days=offset)))
    assert len(_groups(el, "phase")) == len(bands)


def _at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=BERLIN)


def _line(sid: str, kind: str, start: datetime, minutes: int, **kw: object) -> SessionLine:
    return SessionLine(
        id=sid,
        title=f"{kind} {minutes} min",
        kind=kind,
        focus="easy" if kind == "run" else "lower",
        start=start,
        end=start + timedelta(minutes=minutes),
        duration_minutes=minutes,
        **kw,  # type: ignore[arg-type]
    )


def _week(monday: date) -> WeekView:
    days = []
    for k in range(7):
        d = monday + timedelta(days=k)
        sessions: tuple[SessionLine, ...] = ()
        busy: tuple[BusyBlock, ...] = ()
        if k == 0:
            sessions = (_line("a", "lift", _at(d, 6), 60, pinned=True, url="/s/a/sig"),)
            busy = (BusyBlock(_at(d, 9), _at(d, 17)),)
        if k == 2:
            sessions = (
                _line("b", "run", _at(d, 6, 15), 40, state=SessionState.DONE),
                _line("c", "lift", _at(d, 18), 60, state=SessionState.SKIPPED),
            )
        if k == 6:
            sessions = (
                SessionLine("r", "Race: half", "race", "race", _at(d, 0), _at(d, 0), 0, True),
            )
            busy = (BusyBlock(_at(d, 0), _at(d, 23, 59)),)
        windows = ((_at(d, 6), _at(d, 8)), (_at(d, 17, 30), _at(d, 21, 30)))
        days.append(DayColumn(d, windows, busy, sessions))
    return WeekView("Europe/Berlin", monday, monday + timedelta(days=2), "build", tuple(days))


def test_the_grid_draws_windows_busy_and_sessions_with_words() -> None:
    el = _xml(charts.week_grid(_week(date(2027, 2, 1))))
    busy = _groups(el, "busy")
    assert len(busy) == 2
    for g in busy:
        assert g.find(f"{SVG}title") is None  # no title element: no event's title
        assert text_of(g) in {"busy", ""}
        assert (g.get("aria-label") or "").startswith("busy ")
    sessions = _groups(el, "session")
    assert len(sessions) == 4
    for g in sessions:
        kind = next(c for c in g.get("class", "").split() if c.startswith("kind-"))[5:]
        assert charts.KIND_WORD[kind] in text_of(g)  # a word beside the colour
    lift = [g for g in sessions if "kind-lift" in g.get("class", "")]
    assert all(r.get("fill") == "url(#grid-lift)" for g in lift for r in g.iter(f"{SVG}rect"))
    pinned = _groups(el, "pinned")
    assert len(pinned) == 1 and _groups(pinned[0], "pin")
    assert "P" in text_of(_groups(pinned[0], "pin")[0])
    windows = [r for r in el.iter(f"{SVG}rect") if r.get("class") == "window"]
    assert len(windows) == 14
    links = list(el.iter(f"{SVG}a"))
    assert [a.get("href") for a in links] == ["/s/a/sig"]
    words = text_of(el)
    assert "today" in words and "Wed 3" in words
    skipped = next(g for g in sessions if "skipped" in (g.find(f"{SVG}title").text or ""))  # type: ignore[union-attr]
    assert skipped.get("opacity") == "0.55" and "skipped" in text_of(skipped)


def test_the_grid_through_a_dst_change() -> None:
    """Berlin springs forward on 2027-03-28: that Sunday has 23 hours."""
    view = _week(date(2027, 3, 22))
    el = _xml(charts.week_grid(view))
    assert len(_groups(el, "session")) == 4


def test_an_empty_week_draws() -> None:
    monday = date(2027, 2, 1)
    days = tuple(DayColumn(monday + timedelta(days=k), (), (), ()) for k in range(7))
    el = _xml(charts.week_grid(WeekView("Europe/Berlin", monday, monday, "base", days)))
    assert not _groups(el, "session")
