"""The athlete's pages rendered from the default sample: one h1, every control named, nothing
loaded from elsewhere, forms that post with a CSRF token, busy titles nowhere, the session
page's rule ids and explanation, a 52-week overview."""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import escape

from planner.constraints import RuleBook
from planner.model import Kind
from tests.web.page_checks import check_page, parse, svgs
from web import build
from web.pages import render_not_found, render_overview, render_session, render_week
from web.preview import ACTIONS, Sample, sample, views, write
from web.views import (
    Actions,
    Links,
    Outcome,
    Overview,
    Pause,
    SessionState,
    SessionView,
    WeekView,
)

BUSY_TITLES = ("Dentist", "Team dinner", "Early call", "office calendar")


@cache
def the_sample(weeks: int | None = None) -> Sample:
    return sample(weeks)


@cache
def the_views(weeks: int | None = None) -> tuple[Overview, WeekView, SessionView]:
    return views(the_sample(weeks))


def test_every_page_keeps_the_basics() -> None:
    overview, week, session = the_views()
    for page in (
        render_overview(overview),
        render_week(week),
        render_session(session),
        render_not_found(),
    ):
        check_page(page)


def test_no_page_shows_a_busy_events_title() -> None:
    """The week grid shows busy time as "busy"; the session page's placement words say
    'busy' where the planner quoted the event (``build.untitled``)."""
    s = the_sample()
    overview, week, _ = the_views()
    pages = [render_overview(overview), render_week(week)]
    for sess in s.placed.sessions:
        view = build.session(sess.id, s.planned, s.placed, now=s.now, busy=s.busy)
        assert view is not None
        pages.append(render_session(view))
    # the sample's busy time does displace something: the words would have named it
    assert any("avoids" in s.placement or "busy" in s.placement for s in s.placed.sessions)
    for page in pages:
        for title in BUSY_TITLES:
            assert title not in page


def test_the_week_grid_shows_busy_blocks_as_busy() -> None:
    _, week, _ = the_views()
    page = render_week(week)
    assert sum(len(d.busy) for d in week.days) == 3
    assert page.count('class="busy"') == 3
    assert "Busy: " in page  # the day-by-day text says it too


def test_the_session_page_says_why() -> None:
    _, _, session = the_views()
    page = render_session(session)
    text = html.unescape(page)
    assert session.rules
    for rule in session.rules:
        assert f'id="rule-{rule.id}"' in page
        assert rule.text in text
    assert session.reason in text
    assert session.placement and session.placement in text
    assert session.explanation.startswith(f"{session.id}: ")
    assert session.explanation in text
    assert "Why this session:" in text


def test_the_session_page_holds_the_prescription() -> None:
    s = the_sample()
    lift = next(x for x in s.placed.sessions if x.kind is Kind.LIFT)
    run = next(x for x in s.placed.sessions if x.kind is Kind.RUN)
    for sess in (lift, run):
        view = build.session(sess.id, s.planned, s.placed, now=s.now, busy=s.busy)
        assert view is not None
        text = html.unescape(render_session(view))
        for e in sess.exercises:
            assert e.name in text
        assert all(ex.dose in text for ex in view.exercises)
        for g in view.segments:
            assert f"{g.minutes} min {g.effort}" in text
    lift_view = build.session(lift.id, s.planned, s.placed, now=s.now)
    assert lift_view is not None
    assert any(" x " in e.dose for e in lift_view.exercises)
    assert any("working weight" in e.guidance for e in lift_view.exercises)


def test_a_52_week_overview_renders() -> None:
    overview, _, _ = the_views(52)
    assert len(overview.weeks) == 52
    page = check_page(render_overview(overview))
    volume = [svg for svg in svgs(render_overview(overview)) if "volume" in svg.get("class", "")]
    assert len(volume) == 1
    groups = [g for g in volume[0].iter() if g.get("class", "").startswith("week")]
    assert len(groups) == 52
    assert page.h1 == 1


def test_the_overview_says_where_the_athlete_is() -> None:
    overview, _, _ = the_views()
    text = html.unescape(render_overview(overview))
    p = overview.position
    assert p.phase == "build" and p.week == 5 and p.days_to_race == 74
    assert f"week {p.week} of {p.weeks}" in text
    assert f"{p.days_to_race} days to the race" in text
    assert "The next seven days" in text
    assert len(overview.next_days) == 7
    assert "phone (CalDAV)" in text and "server answered 503" in text
    past = [w for w in overview.weeks if w.past]
    assert past and all(w.done + w.skipped == w.sessions for w in past)
    assert sum(w.skipped for w in past) > 0


def test_forms_post_with_the_csrf_token_and_their_urls() -> None:
    _, _, session = the_views()
    page = parse(render_session(session))
    actions = {f["action"] for f in page.forms}
    # a session of a later day: done and skipped wait for its day
    assert session.start is not None and session.start.date() > the_sample().now.date()
    assert actions == {"#sore", "#move", "#not-doing", "#pause"}
    for fields in page.form_fields:
        token = next(f for f in fields if f.get("name") == "csrf")
        assert token["value"] == ACTIONS.csrf_token
    move = next(
        fs for f, fs in zip(page.forms, page.form_fields, strict=True) if f["action"] == "#move"
    )
    radios = [f for f in move if f.get("type") == "radio"]
    assert sorted(r["value"] for r in radios) == sorted(c.value for c in session.slots)
    sore = next(
        fs for f, fs in zip(page.forms, page.form_fields, strict=True) if f["action"] == "#sore"
    )
    assert {f.get("value") for f in sore if f["tag"] == "button"} == {"none", "moderate", "severe"}


def test_a_session_of_today_or_before_can_be_done_or_skipped() -> None:
    s = the_sample()
    past = next(x for x in reversed(s.placed.sessions) if x.date <= s.now.date())
    view = build.session(past.id, s.planned, s.placed, now=s.now, actions=ACTIONS)
    assert view is not None
    page = parse(render_session(view))
    assert {"#done", "#skipped"} <= {f["action"] for f in page.forms}
    done = next(
        fs for f, fs in zip(page.forms, page.form_fields, strict=True) if f["action"] == "#done"
    )
    assert {f.get("name") for f in done} == {"csrf", "effort", "note", None}
    effort = next(f for f in done if f.get("name") == "effort")
    assert (effort["type"], effort["min"], effort["max"]) == ("number", "1", "10")
    assert "#move" not in {f["action"] for f in page.forms}  # its time has passed


def test_no_action_url_no_form() -> None:
    overview, week, session = the_views()
    bare = [
        render_overview(replace(overview, actions=Actions())),
        render_week(week),
        render_session(replace(session, actions=Actions())),
    ]
    for page in bare:
        assert not parse(page).forms


def test_links_only_where_access_reaches() -> None:
    """A session link opens its one session: without links the page offers no navigation."""
    _, _, session = the_views()
    page = parse(render_session(replace(session, links=Links())))
    assert not [u for u in page.urls if not u.startswith("#")]
    assert "<nav" not in render_session(replace(session, links=Links()))


def test_a_session_not_being_done_can_only_be_restored() -> None:
    s = the_sample()
    sess = next(x for x in s.placed.sessions if x.start and x.start > s.now)
    view = build.session(
        sess.id,
        s.planned,
        s.placed,
        now=s.now,
        outcome=Outcome(SessionState.NOT_DOING, s.now),
        actions=ACTIONS,
    )
    assert view is not None
    page = parse(render_session(view))
    assert [f["action"] for f in page.forms] == ["#restore"]
    assert "not doing" in render_session(view)


def test_a_future_session_offers_no_done_and_a_pause_ends_early() -> None:
    s = the_sample()
    later = next(x for x in s.placed.sessions if x.date > s.now.date() + timedelta(days=2))
    pause = Pause(later.date, later.date + timedelta(days=3))
    view = build.session(
        later.id,
        s.planned,
        s.placed,
        now=s.now,
        pause=pause,
        actions=ACTIONS,
        slots=[(later.start, later.end)] if later.start and later.end else [],
    )
    assert view is not None
    assert view.state is SessionState.PAUSED
    actions = {f["action"] for f in parse(render_session(view)).forms}
    assert "#done" not in actions and "#skipped" not in actions and "#pause" not in actions
    assert "#end-pause" in actions
    assert "End pause early" in render_session(view)


def test_the_race_is_never_moved_or_dropped() -> None:
    s = sample(16)
    race = next(x for x in s.placed.sessions if x.kind is Kind.RACE)
    assert race.start is not None and race.end is not None
    view = build.session(
        race.id,
        s.planned,
        s.placed,
        now=s.now,
        actions=ACTIONS,
        slots=[(race.start, race.end)],
    )
    assert view is not None
    assert view.actions.move is None and view.actions.not_doing is None
    check_page(render_session(view))


def test_an_unknown_session_has_no_view() -> None:
    s = the_sample()
    assert build.session("nope", s.planned, s.placed, now=s.now) is None


def test_the_week_grid_page_for_every_week_of_the_block() -> None:
    s = the_sample()
    rules = RuleBook.from_settings(s.settings)
    monday = s.placed.start
    while monday <= s.placed.end:
        view = build.week(s.placed, monday, rules, now=s.now, busy=s.busy)
        check_page(render_week(view))
        monday += timedelta(weeks=1)


def test_the_preview_writes_the_pages(tmp_path: Path) -> None:
    written = write(tmp_path / "out", weeks=8)
    assert {p.name for p in written} == {
        "overview.html",
        "week.html",
        "session.html",
        "not_found.html",
    }
    for p in written:
        check_page(p.read_text(encoding="utf-8"))


notes = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=80)


@given(
    state=st.sampled_from(list(SessionState)),
    effort=st.none() | st.integers(1, 10),
    note=notes,
    token=st.text(alphabet="abcdef0123456789-_", min_size=0, max_size=43),
)
def test_any_outcome_renders_escaped(
    state: SessionState, effort: int | None, note: str, token: str
) -> None:
    _, _, session = the_views()
    note = f"<i>{note}</i>"  # markup the page must show as text, never pass through
    outcome = Outcome(state, datetime(2027, 2, 3, 12, tzinfo=UTC), effort, note)
    view = replace(
        session,
        state=state,
        outcome=outcome,
        actions=build.offered(
            replace(ACTIONS, csrf_token=token),
            state,
            kind=session.kind,
            started=True,
            can_move=True,
            pausing=False,
        ),
    )
    page = render_session(view)
    check_page(page)
    assert note not in page  # autoescaped
    if state is SessionState.DONE:
        assert str(escape(note)) in page


@pytest.mark.parametrize("weeks", [1, 3, 16])
def test_short_plans_render(weeks: int) -> None:
    overview, week, session = views(sample(weeks))
    for page in (render_overview(overview), render_week(week), render_session(session)):
        check_page(page)
