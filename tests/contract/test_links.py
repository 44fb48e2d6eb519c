"""Every event links to its own session's page where a public URL is set, in every kind of
calendar (issue 15): ``URL`` and the description's last line in iCalendar (the ICS feed, vdir,
CalDAV), ``source`` and the description in Google. What each calendar holds is read on its own
terms, as the rest of the suite does (icalendar, a WebDAV REPORT, the emulator's store), and each
link is checked against ``web.access`` and opened in the real page app. Without a public URL
no event links anywhere, and the busy-shadow feed never does."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import icalendar
import pytest
from starlette.testclient import TestClient

from adapters.feed_server import create_app
from adapters.feed_token import FeedToken
from adapters.protocol import session_id_of
from cli.web import pages
from tests.contract.backends import TARGET, Backend, FeedBackend, VdirBackend
from tests.contract.remote import CalDAVBackend, GoogleBackend
from tests.contract.world import START, World
from web.access import PageSecret, session_url

PUBLIC = "https://coach.example/liftrun"  # behind a proxy, under a path
LINE = "Open in liftrun: "


@dataclass(frozen=True)
class Linked:
    """What one event says of its session's page: the link a calendar app opens (``URL``,
    Google's ``source.url``) and the description's last line."""

    url: str | None
    last_line: str


def last_line(text: str) -> str:
    return text.rsplit("\n", maxsplit=1)[-1]


def _in_ical(data: bytes) -> dict[str, Linked]:
    out = {}
    for ev in icalendar.Calendar.from_ical(data).walk("VEVENT"):
        sid = session_id_of(str(ev.get("UID", "")))
        if sid is not None and str(ev.get("STATUS", "")).upper() != "CANCELLED":
            url = ev.get("URL")
            text = str(ev.get("DESCRIPTION", ""))
            out[sid] = Linked(None if url is None else str(url), last_line(text))
    return out


def links_in(calendar: Backend) -> dict[str, Linked]:
    """Each live event's link, by session id, read without liftrun's adapters."""
    if isinstance(calendar, GoogleBackend):
        found = {}
        for event in calendar._events():
            sid = event.get("extendedProperties", {}).get("private", {}).get("liftrunSession")
            if sid:
                source = event.get("source") or {}
                assert source.get("title", "liftrun") == "liftrun"
                found[str(sid)] = Linked(source.get("url"), last_line(event.get("description", "")))
        return found
    if isinstance(calendar, CalDAVBackend):
        blobs = [data for _, data in calendar._resources().values()]
    elif isinstance(calendar, VdirBackend):
        blobs = [p.read_bytes() for p in sorted(calendar.path.glob("*.ics"))]
    else:
        assert isinstance(calendar, FeedBackend)
        blobs = [calendar.path.read_bytes()]
    return {sid: linked for data in blobs for sid, linked in _in_ical(data).items()}


def public(world: World, url: str = PUBLIC, table: str = "web") -> None:
    with (world.root / "liftrun.toml").open("a") as config:
        config.write(f'[{table}]\npublic_url = "{url}"\n')


def secret_of(world: World) -> PageSecret:
    return PageSecret(world.loaded().state_dir)


def assert_each_links_to_itself(world: World) -> dict[str, str]:
    """Every live event carries its own session's link, signed under the current secret, in
    both places; returns the links."""
    secret = secret_of(world)
    found = links_in(world.calendar)
    assert set(found) == set(world.calendar.times()) and found
    links = {}
    for sid, linked in found.items():
        url = linked.url
        assert url is not None and url == session_url(PUBLIC, secret, sid), sid
        assert linked.last_line == f"{LINE}{url}"
        *_, link_sid, signature = urlsplit(url).path.split("/")
        assert link_sid == sid and secret.session_allows(sid, signature)
        links[sid] = url
    return links


def test_every_event_links_to_its_own_session(calendar: Backend, tmp_path: Path) -> None:
    world = World(tmp_path, calendar)
    public(world)
    report = world.cycle(START)
    assert not report.failed and not report.warnings, report.as_dict()
    links = assert_each_links_to_itself(world)
    assert len(set(links.values())) == len(links)
    again = world.cycle(START + timedelta(minutes=5))  # links and all, an idle cycle is idle
    assert again.writes == 0 and not again.actions, again.actions


def test_a_rotated_secret_relinks_every_event_at_the_next_cycle(
    calendar: Backend, tmp_path: Path
) -> None:
    world = World(tmp_path, calendar)
    public(world)
    world.cycle(START)
    before = assert_each_links_to_itself(world)
    secret_of(world).rotate()  # liftrun web rotate-token
    report = world.cycle(START)
    assert not report.failed, report.as_dict()
    assert report.targets[TARGET].updated == len(before)
    after = assert_each_links_to_itself(world)
    assert set(after) == set(before) and not set(after.values()) & set(before.values())
    assert world.cycle(START).writes == 0


def test_no_public_url_no_link(calendar: Backend, tmp_path: Path) -> None:
    """The listen address is not a link a phone can open: without a public URL, no event
    carries one, and no page secret is made for it."""
    world = World(tmp_path, calendar)
    world.cycle(START)
    found = links_in(calendar)
    assert found and all(v.url is None and not v.last_line.startswith(LINE) for v in found.values())
    assert not secret_of(world).path.exists()


def test_a_link_opens_its_session_and_only_it(tmp_path: Path) -> None:
    """The link as an event carries it, followed through the page app ``liftrun serve`` mounts
    (the proxy takes the public URL's path off): that session's page, and another session's
    signature on it is the plain not-found page."""
    feed = FeedBackend(tmp_path)
    world = World(tmp_path, feed)
    public(world)
    world.cycle(START)
    links = assert_each_links_to_itself(world)
    (sid, link), (other, other_link) = sorted(links.items())[:2]
    loaded = world.loaded()
    app = create_app(None, FeedToken(loaded.state_dir), pages=pages(loaded))
    path = urlsplit(link).path.removeprefix(urlsplit(PUBLIC).path)
    summaries = {
        session_id_of(str(ev["UID"])): str(ev["SUMMARY"])
        for ev in icalendar.Calendar.from_ical(feed.path.read_bytes()).walk("VEVENT")
    }
    with TestClient(app) as client:
        page = client.get(path)
        assert page.status_code == 200
        assert html.escape(summaries[sid], quote=False) in page.text
        assert client.get(path.replace(sid, other)).status_code == 404
        other_page = client.get(urlsplit(other_link).path.removeprefix(urlsplit(PUBLIC).path))
        assert html.escape(summaries[other], quote=False) in other_page.text


@pytest.mark.parametrize("table", ["web", "feed"])
def test_either_public_url_links(table: str, tmp_path: Path) -> None:
    world = World(tmp_path, VdirBackend(tmp_path))
    public(world, table=table)
    world.cycle(START)
    assert_each_links_to_itself(world)


class ShadowedFeed(FeedBackend):
    """The feed with its busy-only shadow beside it, for colleagues to see busy time."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.shadow = root / "out" / "busy.ics"

    def calendar_toml(self) -> str:
        return super().calendar_toml() + 'push_busy_shadow_to = "out/busy.ics"\n'


def test_the_busy_shadow_never_links(tmp_path: Path) -> None:
    feed = ShadowedFeed(tmp_path)
    world = World(tmp_path, feed)
    public(world)
    world.cycle(START)
    assert_each_links_to_itself(world)
    raw = feed.shadow.read_bytes()
    events = icalendar.Calendar.from_ical(raw).walk("VEVENT")
    assert len(events) == len(feed.times())
    assert all("URL" not in e and "DESCRIPTION" not in e for e in events)
    assert b"coach.example" not in raw and LINE.encode() not in raw


def test_a_dry_run_makes_no_secret_and_an_unusable_one_no_links(tmp_path: Path) -> None:
    world = World(tmp_path, VdirBackend(tmp_path))
    public(world)
    world.cycle(START, dry_run=True)
    assert not secret_of(world).path.exists()
    world.cycle(START)
    assert_each_links_to_itself(world)
    secret_of(world).path.chmod(0o644)  # readable by others: the page refuses every request
    report = world.cycle(START)
    assert any("no link to their page" in w for w in report.warnings), report.warnings
    found = links_in(world.calendar)
    assert found and all(v.url is None for v in found.values())
