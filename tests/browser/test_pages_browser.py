"""The page in a real browser: the overview, a week, a session opened from its calendar event,
the basics of accessibility in the real DOM, screenshots at a laptop's and a phone's size, and
the journeys a runner makes from a phone, each checked where it must land: the ICS feed and a
vdir, after the cycle the action started."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar, Event
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from adapters.protocol import session_id_of
from sync.state import StateStore
from tests.browser.conftest import LiveSite, accessibility, screenshots
from web.access import PageSecret, page_url, session_url

CYCLE_SECONDS = 10.0  # the issue asks for <= 5 s; the margin is for a loaded CI machine


def events_in(paths: list[Path]) -> dict[str, Event]:
    """The events of ICS files by session id."""
    found: dict[str, Event] = {}
    for path in paths:
        for event in Calendar.from_ical(path.read_bytes()).walk("VEVENT"):
            sid = session_id_of(str(event.get("UID", "")))
            if sid and isinstance(event, Event):
                found[sid] = event
    return found


def feed_events(site: LiveSite) -> dict[str, Event]:
    return events_in([site.feed])


def vdir_events(site: LiveSite) -> dict[str, Event]:
    return events_in(sorted(site.vdir.rglob("*.ics")))


def live(events: dict[str, Event]) -> dict[str, Event]:
    return {k: e for k, e in events.items() if str(e.get("STATUS", "")).upper() != "CANCELLED"}


def start_of(event: Event) -> datetime:
    value = event.decoded("DTSTART")
    assert isinstance(value, datetime)
    return value


def wait_for(what: str, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + CYCLE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {CYCLE_SECONDS:g} s: {what}")
        time.sleep(0.1)


def overview_url(site: LiveSite) -> str:
    url = page_url(site.base, PageSecret(site.state))
    assert url is not None
    return url


def link_of(site: LiveSite, sid: str) -> str:
    """The session's link as its event in the feed carries it (``URL``), as a phone opens it.

    Events carry a link only where the config says where a phone reaches the page (``[web]``
    or ``[feed] public_url``, ``sync/links.py``); a site without one has none in its events,
    and there the link is made as ``web.access`` makes it."""
    url = feed_events(site)[sid].get("URL")
    settings = site.loaded.settings
    if settings.web.public_url or settings.feed.public_url:
        assert url is not None, f"{sid}: its event in the feed carries no link"
        return str(url)
    assert url is None, "a link to the listen address, which no phone can open"
    made = session_url(site.base, PageSecret(site.state), sid)
    assert made is not None
    return made


def upcoming(site: LiveSite, *, kind: str = "", after: timedelta = timedelta(days=2)) -> str:
    """A session of the feed starting ``after`` from now or later (past the freeze, so it can
    move), of ``kind`` (lift, run) if given."""
    soon = datetime.now().astimezone() + after
    found = sorted(
        (start_of(e), sid)
        for sid, e in live(feed_events(site)).items()
        if start_of(e) > soon and (not kind or f"-{kind}-" in sid)
    )
    assert found, f"a {kind or 'session'} after {soon}"
    return found[0][1]


def assert_accessible(browser: WebDriver) -> None:
    found = accessibility(browser)
    assert found["h1"] == 1
    assert found["unlabelled"] == []
    assert found["external"] == []
    assert found["scripts"] == 0


def submit(browser: WebDriver, form_action_ends: str, button_text: str | None = None) -> None:
    """Press the submit button of the form whose action ends with ``form_action_ends``."""
    form = browser.find_element(By.CSS_SELECTOR, f'form[action$="{form_action_ends}"]')
    buttons = form.find_elements(By.CSS_SELECTOR, 'button, input[type="submit"]')
    chosen = [b for b in buttons if button_text is None or b.text.strip() == button_text]
    assert chosen, f"a {button_text or 'submit'} button in the {form_action_ends} form"
    chosen[0].click()
    # the answer redirects to the same address, so only the old form going stale says it landed
    WebDriverWait(browser, 15).until(expected_conditions.staleness_of(form))


# -- looking -------------------------------------------------------------------------------------
def test_the_overview(browser: WebDriver, live_site: LiveSite) -> None:
    browser.get(overview_url(live_site))
    assert browser.find_element("tag name", "h1").text
    assert_accessible(browser)
    screenshots(browser, "overview")


def test_a_week(browser: WebDriver, live_site: LiveSite) -> None:
    browser.get(overview_url(live_site))
    browser.find_element(By.CSS_SELECTOR, 'a[href^="week/"]').click()
    assert "/week/" in browser.current_url
    assert_accessible(browser)
    assert browser.find_elements(By.CSS_SELECTOR, "svg[role=img]")
    screenshots(browser, "week")


def test_a_session_opened_from_its_event(browser: WebDriver, live_site: LiveSite) -> None:
    sid = upcoming(live_site, kind="lift")
    link = link_of(live_site, sid)
    browser.get(link)
    assert browser.current_url == link
    assert_accessible(browser)
    body = browser.find_element("tag name", "body").text
    assert str(feed_events(live_site)[sid]["SUMMARY"]) in body
    token = PageSecret(live_site.state).page_token()
    assert token and token not in browser.page_source  # one session opens nothing else
    screenshots(browser, "session")


def test_a_wrong_link_is_the_not_found_page(browser: WebDriver, live_site: LiveSite) -> None:
    sid = upcoming(live_site)
    browser.get(f"{link_of(live_site, sid)[:-2]}xx")
    assert_accessible(browser)
    browser.get(f"{live_site.base}/no/such/page")
    unknown = browser.page_source
    browser.get(f"{link_of(live_site, sid)[:-2]}xx")
    assert browser.page_source == unknown


# -- acting --------------------------------------------------------------------------------------
def test_moderately_sore_from_a_session_link(browser: WebDriver, live_site: LiveSite) -> None:
    sid = upcoming(live_site, kind="lift")
    before = {k: str(e.get("DESCRIPTION", "")) for k, e in live(feed_events(live_site)).items()}
    browser.get(link_of(live_site, sid))
    submit(browser, "/sore", "Moderately sore")
    assert browser.current_url == link_of(live_site, sid)  # back on the session's page
    with StateStore(live_site.state) as store:
        assert "moderate" in {level.value for level in store.soreness().values()}

    def lighter_lifts_somewhere(events: dict[str, Event]) -> bool:
        return any(
            str(e.get("DESCRIPTION", "")) != before.get(k, "")
            for k, e in live(events).items()
            if "-lift-" in k
        )

    wait_for(
        "the feed carries the lighter lifts",
        lambda: lighter_lifts_somewhere(feed_events(live_site)),
    )
    wait_for(
        "the vdir carries the lighter lifts",
        lambda: lighter_lifts_somewhere(vdir_events(live_site)),
    )


def test_move_to_an_offered_slot(browser: WebDriver, live_site: LiveSite) -> None:
    sid = upcoming(live_site, kind="run")
    browser.get(link_of(live_site, sid))
    offered = 'form[action$="/move"] fieldset.slot-day > ul.slots input[name="slot"]'
    slots = browser.find_elements(By.CSS_SELECTOR, offered)  # the day's few, not "more times"
    assert slots, "the page offers somewhere to move to"
    chosen = slots[-1]
    browser.find_element(By.CSS_SELECTOR, f'label[for="{chosen.get_attribute("id")}"]').click()
    target = datetime.fromisoformat(str(chosen.get_attribute("value")))
    screenshots(browser, "session-move")
    submit(browser, "/move")
    assert browser.current_url == link_of(live_site, sid)

    def moved(events: dict[str, Event]) -> bool:
        event = live(events).get(sid)
        return event is not None and start_of(event) == target

    wait_for("the feed shows the new time", lambda: moved(feed_events(live_site)))
    wait_for("the vdir shows the new time", lambda: moved(vdir_events(live_site)))


def test_pause_three_days(browser: WebDriver, live_site: LiveSite) -> None:
    sid = upcoming(live_site, after=timedelta(days=3))
    first: date = start_of(feed_events(live_site)[sid]).date()
    last = first + timedelta(days=2)
    inside = {
        k for k, e in live(feed_events(live_site)).items() if first <= start_of(e).date() <= last
    }
    assert inside
    browser.get(overview_url(live_site))
    browser.execute_script(
        "document.getElementById('pause-from').value = arguments[0];"
        "document.getElementById('pause-to').value = arguments[1];",
        first.isoformat(),
        last.isoformat(),
    )
    submit(browser, "pause")
    assert browser.current_url == overview_url(live_site)
    assert_accessible(browser)
    screenshots(browser, "overview-paused")

    def cleared(events: dict[str, Event]) -> bool:
        return not any(first <= start_of(e).date() <= last for e in live(events).values())

    wait_for("the feed drops the paused days", lambda: cleared(feed_events(live_site)))
    wait_for("the vdir drops the paused days", lambda: cleared(vdir_events(live_site)))
    assert inside.isdisjoint(live(vdir_events(live_site)))
