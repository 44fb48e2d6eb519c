"""The page over HTTP: every route, every action, every refusal, and the access log.

The backend here renders a real plan with ``web.build`` (placed by the planner, slots from
``planner.alternatives``) and records the actions it is asked for, so what is tested is the
HTTP layer: which URL opens what, which form is accepted, what a refusal looks like. The
actions' effect on the store and the calendars is tested in tests/sync/test_actions.py and in
the browser journeys. One module past ~500 lines: every test here opens the same site (the
fixture, its backend and the form reader) and reads as one list of what the URLs allow.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from adapters.feed_server import create_app
from adapters.feed_token import FeedToken
from planner.alternatives import alternative_slots
from planner.constraints import RuleBook
from planner.model import Plan
from planner.placement import place_plan
from planner.plan import build_plan
from tests.conftest import make_settings
from web import build
from web.access import PAGE, PageSecret, session_capability
from web.actions_http import ActionName, ActionRefused, ActionRequest
from web.app import SECURITY_HEADERS, SessionUrl, create_pages
from web.views import Actions, Links, Overview, SessionView, WeekView

ZONE = ZoneInfo("Europe/Berlin")
NOW = datetime(2027, 1, 13, 18, 30, tzinfo=ZONE)
TODAYS = "20270111-lift-lower-1"  # 17:00 today: begun, so Done and Skipped are offered
LATER = "20270111-run-tempo-1"  # tomorrow: movable
OTHER = "20270118-run-easy-1"
ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//liftrun//test//EN\r\nEND:VCALENDAR\r\n"


@dataclass
class PlanBackend:
    """A placed four-week plan, drawn by ``web.build``; actions are recorded, not applied."""

    planned: Plan
    placed: Plan
    rules: RuleBook
    acted: list[ActionRequest] = field(default_factory=list)
    zone: ZoneInfo = ZONE

    @classmethod
    def make(cls) -> PlanBackend:
        settings = make_settings()
        rules = RuleBook.from_settings(settings)
        planned = build_plan(settings, date(2027, 1, 4), 4)
        return cls(planned, place_plan(planned, rules, [], now=NOW), rules)

    def overview(
        self, now: datetime, *, actions: Actions, links: Links, session_url: SessionUrl
    ) -> Overview:
        return build.overview(
            self.placed, now=now, actions=actions, links=links, session_url=session_url
        )

    def week(
        self, monday: date, now: datetime, *, links: Links, session_url: SessionUrl
    ) -> WeekView:
        return build.week(
            self.placed, monday, self.rules, now=now, links=links, session_url=session_url
        )

    def slots(self, session_id: str, now: datetime) -> list[tuple[datetime, datetime]]:
        found = alternative_slots(self.placed.sessions, session_id, self.rules, now=now)
        return [(a.start, a.end) for a in found]

    def session(
        self, session_id: str, now: datetime, *, actions: Actions, links: Links
    ) -> SessionView | None:
        return build.session(
            session_id,
            self.planned,
            self.placed,
            now=now,
            slots=self.slots(session_id, now),
            actions=actions,
            links=links,
        )

    def act(self, request: ActionRequest, now: datetime) -> None:
        if request.name is ActionName.MOVE:
            assert request.session_id is not None
            if request.slot not in {s for s, _ in self.slots(request.session_id, now)}:
                raise ActionRefused("that time is not free any more; choose another")
        self.acted.append(request)


@dataclass
class Site:
    client: TestClient
    backend: PlanBackend
    secret: PageSecret
    feed_token: str
    state: Path

    @property
    def overview(self) -> str:
        return f"/p/{self.secret.page_token()}/"

    def session(self, session_id: str) -> str:
        return f"/s/{session_id}/{self.secret.signature(session_id)}"

    def csrf(self, session_id: str | None = None) -> str:
        capability = PAGE if session_id is None else session_capability(session_id)
        return self.secret.csrf_token(capability) or ""


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    feed = tmp_path / "out" / "liftrun.ics"
    feed.parent.mkdir()
    feed.write_bytes(ICS)
    state = tmp_path / "state"
    secret = PageSecret(state)
    secret.ensure()
    backend = PlanBackend.make()
    token = FeedToken(state)
    app = create_app(feed, token, pages=create_pages(secret, backend, clock=lambda: NOW))
    with TestClient(app, follow_redirects=False) as client:
        yield Site(client, backend, secret, token.get(), state)


class Forms(HTMLParser):
    """Every form of a page: its action and the fields it would post."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str], list[tuple[str, str]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((a.get("action", ""), {}, []))
        elif self.forms and tag in ("input", "button") and a.get("name"):
            fields, choices = self.forms[-1][1], self.forms[-1][2]
            if a.get("type") in ("radio", "submit"):
                choices.append((a["name"], a.get("value", "")))
            else:
                fields.setdefault(a["name"], a.get("value", ""))


def forms_of(html: str) -> dict[str, tuple[dict[str, str], list[tuple[str, str]]]]:
    parser = Forms()
    parser.feed(html)
    return {action: (fields, choices) for action, fields, choices in parser.forms}


# -- pages ---------------------------------------------------------------------------------------
def test_the_overview_opens_with_the_page_token(site: Site) -> None:
    response = site.client.get(site.overview)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1" in response.text
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value


def test_the_overview_without_its_slash_is_sent_to_it(site: Site) -> None:
    response = site.client.get(site.overview.rstrip("/"))
    assert response.status_code == 303
    assert urljoin(site.overview.rstrip("/"), response.headers["location"]) == site.overview


def test_head_answers_like_get_without_a_body(site: Site) -> None:
    response = site.client.head(site.overview)
    assert response.status_code == 200
    assert response.content == b""


def test_every_link_of_the_overview_opens(site: Site) -> None:
    html = site.client.get(site.overview).text
    links = {urljoin(site.overview, href) for href in _hrefs(html)}
    assert any("/week/" in link for link in links)
    assert any("/session/" in link for link in links)
    for link in links:
        assert site.client.get(link).status_code == 200, link


def test_the_week_page_and_its_neighbours(site: Site) -> None:
    url = f"{site.overview}week/2027-01-13"  # any day opens its week
    response = site.client.get(url)
    assert response.status_code == 200
    for href in _hrefs(response.text):
        assert site.client.get(urljoin(url, href)).status_code == 200, href


@pytest.mark.parametrize("day", ["2027-13-01", "monday", "", "2027-01-11x"])
def test_a_week_that_is_no_date_is_not_found(site: Site, day: str) -> None:
    assert site.client.get(f"{site.overview}week/{day}").status_code == 404


def test_a_session_opens_from_the_overview_with_every_action(site: Site) -> None:
    response = site.client.get(f"{site.overview}session/{TODAYS}")
    assert response.status_code == 200
    actions = {
        urlsplit(urljoin(f"{site.overview}session/{TODAYS}", a)).path
        for a in forms_of(response.text)
    }
    assert f"{site.overview}session/{TODAYS}/done" in actions
    assert f"{site.overview}pause" in actions


def test_a_session_link_opens_that_session_and_offers_no_pause(site: Site) -> None:
    url = site.session(TODAYS)
    response = site.client.get(url)
    assert response.status_code == 200
    assert TODAYS in response.text
    token = site.secret.page_token()
    assert token is not None and token not in response.text
    assert "/p/" not in response.text
    actions = {urlsplit(urljoin(url, a)).path for a in forms_of(response.text)}
    assert f"{url}/done" in actions
    assert all(path.startswith(f"{url}/") for path in actions)
    assert not any(path.endswith(("/pause", "/end-pause")) for path in actions)


# -- refusals ------------------------------------------------------------------------------------
def _not_found_body(site: Site) -> bytes:
    response = site.client.get("/no/such/path")
    assert response.status_code == 404
    body: bytes = response.content
    return body


def _spoiled(secret: str) -> str:
    """``secret`` with its last character changed (to another one: a random secret ends in
    ``x`` one time in 64)."""
    return secret[:-1] + ("y" if secret.endswith("x") else "x")


def test_refusals_are_the_plain_404_of_an_unknown_path(site: Site) -> None:
    body = _not_found_body(site)
    token = site.secret.page_token() or ""
    signature = site.secret.signature(TODAYS) or ""
    wrong_token, wrong_signature = _spoiled(token), _spoiled(signature)
    refused = [
        f"/p/{wrong_token}/",  # a wrong page token
        f"/p/{wrong_token}/week/2027-01-11",
        f"/p/{wrong_token}/session/{TODAYS}",
        f"/s/{TODAYS}/{wrong_signature}",  # a wrong signature
        f"/s/{OTHER}/{signature}",  # another session's signature
        f"/s/{TODAYS}/{token}",  # the page token is no signature
        f"/p/{signature}/",  # nor is a signature a page token
        f"/p/{site.feed_token}/",  # the feed token opens no page
        f"/s/{TODAYS}/{site.feed_token}",
        f"/p/{token}/session/no-such-session",  # a session no plan holds
        f"/s/no-such-session/{site.secret.signature('no-such-session')}",
        f"/p/{token}/week",
        f"/p/{token}/admin",
        f"/s/{TODAYS}",
    ]
    for path in refused:
        response = site.client.get(path)
        assert (response.status_code, response.content) == (404, body), path


def test_the_page_token_reads_no_feed(site: Site) -> None:
    assert site.client.get(f"/{site.feed_token}/liftrun.ics").status_code == 200
    assert site.client.get(f"/{site.secret.page_token()}/liftrun.ics").status_code == 404
    signature = site.secret.signature(TODAYS)
    assert site.client.get(f"/{signature}/liftrun.ics").status_code == 404


def test_rotating_the_secret_voids_every_link_and_form(site: Site) -> None:
    overview, session = site.overview, site.session(TODAYS)
    csrf = site.csrf(TODAYS)
    assert site.client.get(overview).status_code == 200
    PageSecret(site.state).rotate()
    assert site.client.get(overview).status_code == 404
    assert site.client.get(session).status_code == 404
    old_post = site.client.post(f"{session}/skipped", data={"csrf": csrf})
    assert old_post.status_code == 404
    fresh = site.session(TODAYS)  # signed under the new secret
    stale_csrf = site.client.post(f"{fresh}/skipped", data={"csrf": csrf})
    assert stale_csrf.status_code == 404
    assert site.backend.acted == []
    assert site.client.get(site.overview).status_code == 200


# -- actions -------------------------------------------------------------------------------------
def test_done_from_a_session_link(site: Site) -> None:
    url = site.session(TODAYS)
    response = site.client.post(
        f"{url}/done", data={"csrf": site.csrf(TODAYS), "effort": "7", "note": "felt\nstrong"}
    )
    assert response.status_code == 303
    assert urljoin(f"{url}/done", response.headers["location"]) == url
    assert site.backend.acted == [
        ActionRequest(ActionName.DONE, TODAYS, effort=7, note="felt strong")
    ]


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("skipped", {}, ActionRequest(ActionName.SKIPPED, TODAYS)),
        (
            "sore",
            {"soreness": "moderate"},
            ActionRequest(ActionName.SORE, TODAYS, soreness="moderate"),
        ),
        ("not-doing", {}, ActionRequest(ActionName.NOT_DOING, TODAYS)),
        ("restore", {}, ActionRequest(ActionName.RESTORE, TODAYS)),
        ("done", {"effort": ""}, ActionRequest(ActionName.DONE, TODAYS)),
    ],
)
def test_each_session_action(
    site: Site, name: str, data: dict[str, str], expected: ActionRequest
) -> None:
    response = site.client.post(
        f"{site.session(TODAYS)}/{name}", data={"csrf": site.csrf(TODAYS), **data}
    )
    assert response.status_code == 303
    assert site.backend.acted == [expected]


def test_move_to_an_offered_slot_and_not_elsewhere(site: Site) -> None:
    url = site.session(LATER)
    fields, choices = forms_of(site.client.get(url).text)[f"{site.secret.signature(LATER)}/move"]
    slots = [value for name, value in choices if name == "slot"]
    assert slots, "the page offers slots to move to"
    response = site.client.post(f"{url}/move", data={**fields, "slot": slots[-1]})
    assert response.status_code == 303
    assert site.backend.acted == [
        ActionRequest(ActionName.MOVE, LATER, slot=datetime.fromisoformat(slots[-1]))
    ]
    taken = (datetime.fromisoformat(slots[-1]) + timedelta(minutes=7)).isoformat()
    refused = site.client.post(f"{url}/move", data={**fields, "slot": taken})
    assert refused.status_code == 400
    assert "not free" in refused.text
    assert len(site.backend.acted) == 1


def test_pause_and_end_pause_from_the_overview(site: Site) -> None:
    pause = site.client.post(
        f"{site.overview}pause",
        data={"csrf": site.csrf(), "from": "2027-01-14", "to": "2027-01-16"},
    )
    assert pause.status_code == 303
    assert urljoin(f"{site.overview}pause", pause.headers["location"]) == site.overview
    end = site.client.post(f"{site.overview}end-pause", data={"csrf": site.csrf()})
    assert end.status_code == 303
    assert site.backend.acted == [
        ActionRequest(ActionName.PAUSE, start=date(2027, 1, 14), end=date(2027, 1, 16)),
        ActionRequest(ActionName.END_PAUSE),
    ]


def test_actions_on_any_session_from_the_overview(site: Site) -> None:
    url = f"{site.overview}session/{TODAYS}"
    response = site.client.post(f"{url}/skipped", data={"csrf": site.csrf()})
    assert response.status_code == 303
    assert urljoin(f"{url}/skipped", response.headers["location"]) == url
    assert site.backend.acted == [ActionRequest(ActionName.SKIPPED, TODAYS)]


def test_every_form_on_the_pages_posts_with_what_it_carries(site: Site) -> None:
    """The forms as rendered (relative actions, the CSRF field) are accepted as they are."""
    pages = [site.overview, f"{site.overview}session/{TODAYS}", site.session(TODAYS)]
    posted = 0
    for page in pages:
        for action, (fields, choices) in forms_of(site.client.get(page).text).items():
            data = dict(fields)
            if choices:
                data.setdefault(*choices[0])
            if "to" in data:  # the pause's dates are the athlete's to pick
                data |= {"from": data["from"] or "2027-01-14", "to": "2027-01-20"}
            response = site.client.post(urljoin(page, action), data=data)
            assert response.status_code == 303, (page, action, response.text)
            posted += 1
    assert posted >= 8
    assert len(site.backend.acted) == posted


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ({}, "missing CSRF token"),
        ({"csrf": ""}, "empty CSRF token"),
        ({"csrf": "x" * 24}, "wrong CSRF token"),
    ],
)
def test_a_post_without_the_right_csrf_token_is_not_found(
    site: Site, data: dict[str, str], why: str
) -> None:
    body = _not_found_body(site)
    response = site.client.post(f"{site.session(TODAYS)}/skipped", data=data)
    assert (response.status_code, response.content) == (404, body), why
    assert site.backend.acted == []


def test_a_csrf_token_works_only_for_its_own_capability(site: Site) -> None:
    other_session = site.client.post(
        f"{site.session(TODAYS)}/skipped", data={"csrf": site.csrf(OTHER)}
    )
    page_on_link = site.client.post(f"{site.session(TODAYS)}/skipped", data={"csrf": site.csrf()})
    link_on_page = site.client.post(
        f"{site.overview}session/{TODAYS}/skipped", data={"csrf": site.csrf(TODAYS)}
    )
    assert [r.status_code for r in (other_session, page_on_link, link_on_page)] == [404] * 3
    assert site.backend.acted == []


def test_a_session_link_cannot_act_on_the_plan_or_another_session(site: Site) -> None:
    url = site.session(TODAYS)
    csrf = site.csrf(TODAYS)
    pause = site.client.post(
        f"{url}/pause", data={"csrf": csrf, "from": "2027-01-14", "to": "2027-01-15"}
    )
    other = site.client.post(
        f"/s/{OTHER}/{site.secret.signature(TODAYS)}/skipped", data={"csrf": csrf}
    )
    assert (pause.status_code, other.status_code) == (404, 404)
    assert site.backend.acted == []


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
@pytest.mark.parametrize("action", ["done", "skipped", "not-doing", "restore", "sore"])
def test_only_a_post_acts(site: Site, method: str, action: str) -> None:
    url = f"{site.session(TODAYS)}/{action}?csrf={site.csrf(TODAYS)}&soreness=severe"
    response = site.client.request(method, url)
    assert response.status_code == 404
    plan_url = f"{site.overview}pause?csrf={site.csrf()}&from=2027-01-14&to=2027-01-15"
    assert site.client.request(method, plan_url).status_code == 404
    assert site.backend.acted == []


def test_a_form_with_csrf_in_the_query_only_is_refused(site: Site) -> None:
    response = site.client.post(f"{site.session(TODAYS)}/skipped?csrf={site.csrf(TODAYS)}")
    assert response.status_code == 404
    assert site.backend.acted == []


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("done", {"effort": "11"}, "1 to 10"),
        ("done", {"effort": "seven"}, "1 to 10"),
        ("done", {"note": "x" * 501}, "500"),
        ("sore", {"soreness": "very"}, "moderate"),
        ("move", {"slot": "tomorrow"}, "offered"),
        ("move", {"slot": "2027-01-14T06:00:00"}, "offered"),  # no zone: not one we offered
    ],
)
def test_bad_fields_are_refused_with_a_reason(
    site: Site, name: str, data: dict[str, str], message: str
) -> None:
    sid = LATER if name == "move" else TODAYS
    response = site.client.post(
        f"{site.session(sid)}/{name}", data={"csrf": site.csrf(sid), **data}
    )
    assert response.status_code == 400
    assert message in response.text
    assert response.headers["cache-control"] == "no-store"
    assert site.backend.acted == []


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2027-01-16", "2027-01-14", "on or after"),
        ("2027-01-14", "2027-06-01", "at most"),
        ("", "2027-01-14", "from"),
    ],
)
def test_a_bad_pause_is_refused_with_a_reason(
    site: Site, start: str, end: str, message: str
) -> None:
    response = site.client.post(
        f"{site.overview}pause", data={"csrf": site.csrf(), "from": start, "to": end}
    )
    assert response.status_code == 400
    assert message in response.text
    assert site.backend.acted == []


def test_a_form_that_is_not_urlencoded_or_too_big_is_refused(site: Site) -> None:
    url = f"{site.session(TODAYS)}/skipped"
    as_json = site.client.post(url, json={"csrf": site.csrf(TODAYS)})
    huge = site.client.post(url, data={"csrf": site.csrf(TODAYS), "note": "x" * 20_000})
    assert (as_json.status_code, huge.status_code) == (404, 404)
    assert site.backend.acted == []


# -- the access log ------------------------------------------------------------------------------
def test_no_secret_reaches_the_access_log(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="liftrun.feed.access")
    token = site.secret.page_token() or ""
    signature = site.secret.signature(TODAYS) or ""
    csrf = site.csrf(TODAYS)
    site.client.get(site.overview)
    site.client.get(f"{site.overview}week/2027-01-11")
    site.client.get(f"{site.overview}session/{TODAYS}")
    site.client.get(site.session(TODAYS))
    site.client.post(f"{site.session(TODAYS)}/done?x={csrf}", data={"csrf": csrf})
    site.client.get(f"/p/{token[:-2]}/")  # a mistyped token is not logged either
    site.client.get(f"/s/{OTHER}/{signature}")
    site.client.get(f"/{site.feed_token}/liftrun.ics")
    PageSecret(site.state).rotate()
    site.client.get(f"/p/{token}/")  # nor a revoked one
    lines = [r.getMessage() for r in caplog.records if r.name == "liftrun.feed.access"]
    assert len(lines) == 9
    text = "\n".join(lines)
    for secret in (token, token[:-2], signature, csrf, site.feed_token, site.secret.page_token()):
        assert secret and secret not in text
    assert '"GET /p/<token>/" 200' in text
    assert '"GET /s/<token>/<token>" 200' in text
    assert '"POST /s/<token>/<token>/done" 303' in text


def test_the_pages_need_no_feed_file(tmp_path: Path) -> None:
    """The page answers while the feed has not been written yet (503 for the feed only)."""
    secret = PageSecret(tmp_path / "state")
    secret.ensure()
    app = create_app(
        tmp_path / "missing.ics",
        FeedToken(tmp_path / "state"),
        pages=create_pages(secret, PlanBackend.make(), clock=lambda: NOW),
    )
    with TestClient(app) as client:
        assert client.get(f"/p/{secret.page_token()}/").status_code == 200
        assert client.get("/healthz").text == "ok\n"


class Hrefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href and not href.startswith("#"):
            self.found.append(href)


def _hrefs(html: str) -> list[str]:
    parser = Hrefs()
    parser.feed(html)
    return parser.found


def test_the_page_alone_without_a_feed_to_publish(tmp_path: Path) -> None:
    """A calendar set without an ICS feed (vdir, CalDAV, Google) still gets its page."""
    secret = PageSecret(tmp_path / "state")
    secret.ensure()
    token = FeedToken(tmp_path / "state")
    app = create_app(None, token, pages=create_pages(secret, PlanBackend.make(), clock=lambda: NOW))
    with TestClient(app) as client:
        assert client.get(f"/p/{secret.page_token()}/").status_code == 200
        assert client.get(f"/{token.get()}/liftrun.ics").status_code == 404
