"""CalDAV credentials stay on the configured server (issue 13, item 2).

The configured server is played by a scripted server on loopback (:mod:`tests.caldav.hostile`)
that does what a hostile or misconfigured one would: asks for the password with a 401, then
redirects, or lists a principal, a calendar home, a calendar or an event on another server. The
other server is a second recorder on 127.0.0.2 (another host) or on another port of 127.0.0.1,
and every test asserts it received no request at all: a redirect or href off the configured
origin is refused, not followed without credentials. The error is one line naming both origins,
never the password, the Basic token or the path the hostile server chose.
"""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from adapters.cache import Cache
from adapters.caldav.client import CalDAVClient
from adapters.caldav.collection import Mirror
from adapters.caldav.origin import Origin, OtherServer
from adapters.caldav.source import CalDAVSource
from adapters.caldav.target import CalDAVTarget
from adapters.protocol import AdapterError, SourceUnavailable
from tests.athlete import athlete_toml
from tests.caldav.hostile import (
    Answer,
    Request,
    Script,
    Scripted,
    login_then,
    multistatus,
    self_signed,
)

ROOT = Path(__file__).resolve().parents[2]
USER = "athlete"
SECRET = "St4y-H0me-Pa55word"  # distinctive, so its absence anywhere can be asserted
TOKEN = base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
HIDDEN = "secret-home-7f3a"  # a path the hostile server picks: never in a message
DIGEST = 'Digest realm="hostile", qop="auth", algorithm=MD5, nonce="n0nce1", opaque="0paque"'
WINDOW = (datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC))
CALENDAR = "<D:resourcetype><D:collection/><C:calendar/></D:resourcetype>"
EVENT = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//hostile//EN\r\nBEGIN:VEVENT\r\n"
    "UID:e1@hostile\r\nDTSTAMP:20270301T000000Z\r\nDTSTART:20270310T100000Z\r\n"
    "DTEND:20270310T110000Z\r\nSUMMARY:Busy\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def no_wait(_: int) -> float:
    return 0.0


def client_for(server: Scripted, **kwargs: object) -> CalDAVClient:
    return CalDAVClient(
        server.url,
        username=USER,
        password=SECRET,
        label="CalDAV 'Work'",
        timeout=5.0,
        retry_wait=no_wait,
        sleep=lambda _: None,
        **kwargs,  # type: ignore[arg-type]
    )


def source_for(server: Scripted, tmp_path: Path, **kwargs: object) -> CalDAVSource:
    options: dict[str, object] = {"calendar": "Work", **kwargs}
    return CalDAVSource(
        server.url,
        username=USER,
        password=SECRET,
        timezone="UTC",
        cache=Cache(tmp_path / "cache"),
        name="CalDAV 'Work'",
        timeout=5.0,
        retry_wait=no_wait,
        sleep=lambda _: None,
        **options,  # type: ignore[arg-type]
    )


def assert_refused(error: BaseException, ours: Scripted, theirs: str, *logs: str) -> str:
    """One line naming both origins; no password, token or hidden path in it or in the logs."""
    text = str(error)
    assert "\n" not in text, text
    assert ours.origin in text and theirs in text, text
    for where in (text, *logs):
        assert SECRET not in where and TOKEN not in where and HIDDEN not in where
    return text


@pytest.fixture(params=["another host", "another port"])
def elsewhere(request: pytest.FixtureRequest) -> Iterator[Scripted]:
    """The server liftrun has no business with; it records whatever reaches it."""
    host = "127.0.0.2" if request.param == "another host" else "127.0.0.1"
    with Scripted(host=host) as server:
        yield server


@pytest.fixture
def hostile() -> Iterator[Scripted]:
    """The configured server; each test gives it a script."""
    with Scripted() as server:
        yield server


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # the HTTP libraries' own debug lines too
    return caplog


def redirect(location: str, status: int = 301) -> Script:
    return lambda _: Answer(status, (("Location", location),))


def authorized(server: Scripted) -> list[str]:
    return [v for r in server.seen if (v := r.header("Authorization")) is not None]


# ----------------------------------------------------------------------------------------------
# Redirects


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_login_then_a_redirect_to_another_server_is_refused(
    status: int, hostile: Scripted, elsewhere: Scripted, logs: pytest.LogCaptureFixture
) -> None:
    hostile.script = login_then(redirect(f"{elsewhere.origin}/{HIDDEN}/", status))
    with pytest.raises(OtherServer) as caught:
        client_for(hostile).calendar_home()
    text = assert_refused(caught.value, hostile, elsewhere.origin, logs.text)
    assert (
        f"the server redirects (HTTP {status}) to {elsewhere.origin} instead of {hostile.origin} ("
        in text
    )
    assert authorized(hostile) == [f"Basic {TOKEN}"]  # the configured server had the password
    assert elsewhere.seen == []  # nothing at all, with or without credentials


def test_a_digest_login_then_a_redirect_to_another_server_is_refused(
    hostile: Scripted, elsewhere: Scripted, logs: pytest.LogCaptureFixture
) -> None:
    hostile.script = login_then(redirect(f"{elsewhere.origin}/{HIDDEN}/"), challenge=DIGEST)
    client = client_for(hostile)
    with pytest.raises(OtherServer) as caught:
        client.calendar_home()
    assert_refused(caught.value, hostile, elsewhere.origin, logs.text)
    assert [a.split()[0] for a in authorized(hostile)] == ["Digest"]
    assert elsewhere.seen == []
    # The digest state (a known nonce) answers every later request in advance: still only here.
    with pytest.raises(OtherServer):
        client.calendar_home()
    assert elsewhere.seen == []


def test_the_adapter_reports_the_refusal_as_the_sources_one_line_error(
    hostile: Scripted, elsewhere: Scripted, tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    hostile.script = login_then(redirect(f"{elsewhere.origin}/{HIDDEN}/"))
    source = source_for(hostile, tmp_path)
    with pytest.raises(SourceUnavailable) as caught:
        source.read_busy(*WINDOW)
    assert_refused(caught.value, hostile, elsewhere.origin, logs.text)
    assert "CalDAV 'Work'" in str(caught.value)
    assert any(r.levelno == logging.WARNING and elsewhere.origin in r.message for r in logs.records)
    assert elsewhere.seen == []


def test_the_target_refuses_too(
    hostile: Scripted, elsewhere: Scripted, tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    hostile.script = login_then(redirect(f"{elsewhere.origin}/{HIDDEN}/"))
    target = CalDAVTarget(
        hostile.url,
        username=USER,
        password=SECRET,
        calendar="Training",
        timezone="UTC",
        now=WINDOW[0],
        cache=Cache(tmp_path / "cache"),
        name="CalDAV 'Training'",
        timeout=5.0,
        retry_wait=no_wait,
        sleep=lambda _: None,
    )
    with pytest.raises(OtherServer) as caught:
        target.list_owned(*WINDOW)
    assert_refused(caught.value, hostile, elsewhere.origin, logs.text)
    assert elsewhere.seen == []


def test_a_redirect_to_a_file_url_is_refused_without_a_retry(
    hostile: Scripted, logs: pytest.LogCaptureFixture
) -> None:
    hostile.script = login_then(redirect("file:///etc/passwd"))
    with pytest.raises(OtherServer) as caught:
        client_for(hostile).calendar_home()
    assert "redirects (HTTP 301) to a file: URL" in str(caught.value)
    assert "/etc/passwd" not in str(caught.value)
    assert len(hostile.seen) == 2  # the challenge and the login: no retry of a refusal


@pytest.mark.parametrize(
    "location",
    [
        "http://[::1/",
        "http://ex\u2100ample.com/",
        "http://127.0.0.2\x1b[31m/",
        "http://:80/",
        "https://127.0.0.1:99999/",
        "http://127.0.0.2:0/",
    ],
)
def test_an_unparsable_location_is_refused_in_one_line_without_a_retry(
    location: str, hostile: Scripted, logs: pytest.LogCaptureFixture
) -> None:
    hostile.script = login_then(redirect(location))
    with pytest.raises(AdapterError) as caught:
        client_for(hostile).calendar_home()
    text = str(caught.value)
    assert text.isprintable() and hostile.origin in text, text
    assert "cannot read" in text or "redirects (HTTP 301) to" in text, text
    assert SECRET not in logs.text and TOKEN not in logs.text
    # The challenge and the login, then discovery's second start; nothing is retried.
    assert [r.path for r in hostile.seen] in (["/", "/"], ["/", "/", "/.well-known/caldav"])


# ----------------------------------------------------------------------------------------------
# Hrefs in multistatus answers


def discovery(where: str, elsewhere: str) -> Script:
    """A server whose principal, home set or calendar lives at ``elsewhere`` (an origin)."""

    def script(request: Request) -> Answer:
        if request.method != "PROPFIND":
            return Answer(405)
        if where == "current-user-principal" and request.path == "/":
            href = f"{elsewhere}/{HIDDEN}/principal/"
            return multistatus(
                [
                    (
                        "/",
                        f"<D:current-user-principal><D:href>{href}</D:href>"
                        "</D:current-user-principal>",
                    )
                ]
            )
        if where == "calendar-home-set" and request.path == "/":
            return multistatus(
                [
                    (
                        "/",
                        "<D:current-user-principal><D:href>/principal/</D:href>"
                        "</D:current-user-principal>",
                    )
                ]
            )
        if where == "calendar-home-set" and request.path == "/principal/":
            href = f"{elsewhere}/{HIDDEN}/"
            return multistatus(
                [
                    (
                        "/principal/",
                        f"<C:calendar-home-set><D:href>{href}</D:href></C:calendar-home-set>",
                    )
                ]
            )
        if where == "calendar" and request.path == "/":
            return multistatus(
                [("/", "<C:calendar-home-set><D:href>/home/</D:href></C:calendar-home-set>")]
            )
        if where == "calendar" and request.path == "/home/":
            return multistatus(
                [
                    ("/home/", "<D:resourcetype><D:collection/></D:resourcetype>"),
                    (f"{elsewhere}/{HIDDEN}/", f"{CALENDAR}<D:displayname>Work</D:displayname>"),
                ]
            )
        return Answer(404)

    return login_then(script)


SAID = {
    "current-user-principal": "the current-user-principal points to",
    "calendar-home-set": "the calendar-home-set points to",
    "calendar": "the PROPFIND answer lists a resource on",
}


@pytest.mark.parametrize("where", list(SAID))
def test_a_principal_home_or_calendar_on_another_server_is_refused(
    where: str,
    hostile: Scripted,
    elsewhere: Scripted,
    tmp_path: Path,
    logs: pytest.LogCaptureFixture,
) -> None:
    hostile.script = discovery(where, elsewhere.origin)
    with pytest.raises(SourceUnavailable) as caught:
        source_for(hostile, tmp_path).read_busy(*WINDOW)
    text = assert_refused(caught.value, hostile, elsewhere.origin, logs.text)
    assert f"{SAID[where]} {elsewhere.origin} instead of {hostile.origin}" in text
    if where != "calendar":  # a provider's home on another host (iCloud): say how to opt in
        assert f"set url to {elsewhere.origin} if you trust it" in text
    assert authorized(hostile)
    assert elsewhere.seen == []


def collection(kind: str, elsewhere: str) -> Script:
    """A calendar at /cal/ whose calendar-query, calendar-multiget or sync-collection answer
    lists an event on ``elsewhere``."""
    far = f"{elsewhere}/{HIDDEN}/e1.ics"

    def script(request: Request) -> Answer:
        if request.method == "PROPFIND" and request.path == "/cal/":
            return multistatus([("/cal/", f"{CALENDAR}<D:sync-token>t2</D:sync-token>")])
        if request.method != "REPORT":
            return Answer(404)
        etag = '<D:getetag>"1"</D:getetag>'
        data = f"<C:calendar-data>{EVENT}</C:calendar-data>"
        if b"sync-collection" in request.body:
            return multistatus([(far, etag)], sync_token="t3")
        if b"calendar-multiget" in request.body:
            return multistatus([(far, etag + data)])
        if kind == "calendar-multiget":  # no data inline: the client asks for it by href
            return multistatus([("/cal/e1.ics", etag)])
        return multistatus([(far, etag + data)])

    return login_then(script)


@pytest.mark.parametrize("kind", ["calendar-query", "calendar-multiget", "sync-collection"])
def test_an_event_href_on_another_server_is_refused(
    kind: str, hostile: Scripted, elsewhere: Scripted, logs: pytest.LogCaptureFixture
) -> None:
    hostile.script = collection(kind, elsewhere.origin)
    client = client_for(hostile)
    url = f"{hostile.url}cal/"
    mirror = Mirror(url, sync_token="t1") if kind == "sync-collection" else None
    with pytest.raises(OtherServer) as caught:
        client.refresh(mirror, url, str, window=WINDOW)
    text = assert_refused(caught.value, hostile, elsewhere.origin, logs.text)
    assert f"the {kind} answer lists a resource on {elsewhere.origin}" in text
    assert elsewhere.seen == []


def home_at(href: str) -> Script:
    home = f"<C:calendar-home-set><D:href>{escape(href)}</D:href></C:calendar-home-set>"

    def script(request: Request) -> Answer:
        return multistatus([("/", home)]) if request.path == "/" else Answer(404)

    return script


def test_network_path_and_userinfo_tricks_never_reach_the_other_server(
    hostile: Scripted, elsewhere: Scripted, tmp_path: Path
) -> None:
    """``//host/`` is another server; ``http://other\\@ours/`` is ours to one URL parser and
    may be the other to another, so what is sent is respelt on the configured origin."""
    for href in (
        f"//{elsewhere.host}:{elsewhere.port}/{HIDDEN}/",
        f"http://{elsewhere.host}:{elsewhere.port}\\@{hostile.host}:{hostile.port}/{HIDDEN}/",
        f"http://{USER}:{SECRET}@{elsewhere.host}:{elsewhere.port}/{HIDDEN}/",
    ):
        hostile.script = login_then(home_at(href))
        with pytest.raises(SourceUnavailable) as caught:
            source_for(hostile, tmp_path).read_busy(*WINDOW)
        assert SECRET not in str(caught.value) and "\n" not in str(caught.value)
    assert elsewhere.seen == []
    client = client_for(hostile)
    key = f"//{elsewhere.host}:{elsewhere.port}/x.ics"  # a decoded path, not a network path
    assert client.resource_url(f"{hostile.url}cal/", key).startswith(f"{hostile.origin}//")


def test_a_configured_calendar_url_on_another_server_is_refused_before_any_request(
    hostile: Scripted, elsewhere: Scripted, tmp_path: Path
) -> None:
    source = source_for(hostile, tmp_path, calendar=f"{elsewhere.url}{HIDDEN}/")
    with pytest.raises(SourceUnavailable) as caught:
        source.read_busy(*WINDOW)
    text = assert_refused(caught.value, hostile, elsewhere.origin)
    assert "the calendar URL given is on" in text
    assert hostile.seen == [] and elsewhere.seen == []


def test_every_request_is_held_to_the_origin_where_it_is_sent(
    hostile: Scripted, elsewhere: Scripted
) -> None:
    """The lowest layer refuses too, so a future caller that forgets to check cannot leak."""
    client = client_for(hostile, auth_type="basic")  # credentials on every request, unasked
    far = f"{elsewhere.url}{HIDDEN}/e.ics"
    calls: list[Callable[[], object]] = [
        lambda: client.request("GET", far),
        lambda: client.put(far, b"BEGIN:VCALENDAR", etag=None),
        lambda: client.delete(far, etag='"1"'),
        lambda: client.propfind(far, [("DAV:", "getetag")], 0, follow=True),
    ]
    for call in calls:
        with pytest.raises(OtherServer) as caught:
            call()
        assert_refused(caught.value, hostile, elsewhere.origin)
    assert hostile.seen == [] and elsewhere.seen == []
    assert client.requests_made == 0


# ----------------------------------------------------------------------------------------------
# https never becomes http


def test_https_redirected_to_http_on_the_same_host_is_refused(
    certificate: tuple[Path, Path], logs: pytest.LogCaptureFixture
) -> None:
    with Scripted(tls=certificate) as secure, Scripted() as plain:
        for target in (plain.origin, f"http://127.0.0.1:{secure.port}"):
            secure.script = login_then(redirect(f"{target}/{HIDDEN}/"))
            before = len(secure.seen)
            client = client_for(secure, ca_file=str(certificate[0]))
            with pytest.raises(OtherServer) as caught:
                client.calendar_home()
            text = assert_refused(caught.value, secure, target, logs.text)
            assert "liftrun never downgrades https to http" in text
            assert len(secure.seen) == before + 2  # challenge, login; nothing in clear after
        assert plain.seen == []


def test_an_http_home_set_from_an_https_server_is_refused(
    certificate: tuple[Path, Path], tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    with Scripted(tls=certificate) as secure, Scripted() as plain:
        secure.script = discovery("calendar-home-set", f"http://127.0.0.1:{plain.port}")
        source = source_for(secure, tmp_path, ca_file=str(certificate[0]))
        with pytest.raises(SourceUnavailable) as caught:
            source.read_busy(*WINDOW)
        text = assert_refused(caught.value, secure, plain.origin, logs.text)
        assert "never downgrades https to http" in text
        assert plain.seen == []


# ----------------------------------------------------------------------------------------------
# What keeps working


def same_origin(origin: str) -> Script:
    """RFC 6764 discovery that stays home: / is 404, /.well-known/caldav redirects to /dav/
    (spelt with an upper-case scheme), the principal and home are relative and absolute."""

    def script(request: Request) -> Answer:
        path = request.path
        if path == "/.well-known/caldav":
            return Answer(301, (("Location", origin.replace("http", "HTTP", 1) + "/dav/"),))
        if path == "/dav/":
            principal = (
                "<D:current-user-principal><D:href>/dav/p/</D:href></D:current-user-principal>"
            )
            return multistatus([("/dav/", principal)])
        if path == "/dav/p/":
            home = f"<C:calendar-home-set><D:href>{origin}/dav/home/</D:href></C:calendar-home-set>"
            return multistatus([("/dav/p/", home)])
        if path == "/dav/home/":
            return multistatus(
                [
                    ("/dav/home/", "<D:resourcetype><D:collection/></D:resourcetype>"),
                    (f"{origin}/dav/home/work/", f"{CALENDAR}<D:displayname>Work</D:displayname>"),
                ]
            )
        return Answer(404)

    return login_then(script)


def test_same_origin_redirects_and_absolute_hrefs_keep_working(hostile: Scripted) -> None:
    hostile.script = same_origin(hostile.origin)
    found = client_for(hostile).require_calendar("Work")
    assert found.url == f"{hostile.origin}/dav/home/work/"
    assert {r.path for r in hostile.seen} >= {"/.well-known/caldav", "/dav/", "/dav/home/"}


def test_same_origin_over_https_keeps_working(certificate: tuple[Path, Path]) -> None:
    with Scripted(tls=certificate) as secure:
        secure.script = same_origin(secure.origin)
        found = client_for(secure, ca_file=str(certificate[0])).require_calendar("Work")
        assert found.url == f"{secure.origin}/dav/home/work/"


def test_origins_compare_scheme_host_and_port_with_default_ports() -> None:
    assert Origin.of("https://Cal.Example:443/x") == Origin.of("https://cal.example/")
    assert Origin.of("http://cal.example:80/") == Origin.of("HTTP://CAL.EXAMPLE/dav/")
    assert Origin.of("http://cal.example/") != Origin.of("https://cal.example/")
    assert Origin.of("http://cal.example:443/") != Origin.of("https://cal.example/")
    assert Origin.of("https://cal.example:8443/") != Origin.of("https://cal.example/")
    assert Origin.of("https://[::1]:443/") == Origin.of("https://[::1]/")
    assert str(Origin.of("https://[::1]:8443/a")) == "https://[::1]:8443"
    for bad in ("file:///etc/passwd", "http://cal.example:99999/", "//cal.example/", "/dav/"):
        assert Origin.of(bad) is None


# ----------------------------------------------------------------------------------------------
# The whole program


def test_sync_once_reports_the_refusal_in_one_line_and_exits_3(
    hostile: Scripted, tmp_path: Path
) -> None:
    """What the issue saw: ``sync --once`` against a server that takes the login and redirects
    elsewhere. The other host hears nothing; the cycle reports and exits 3."""
    with Scripted(host="127.0.0.2") as other:
        hostile.script = login_then(redirect(f"{other.origin}/{HIDDEN}/"))
        config = tmp_path / "liftrun.toml"
        config.write_text(
            athlete_toml(race_date="2027-06-20", plan_start="2027-03-08") + "[[calendars]]\n"
            'kind = "caldav"\nname = "training"\n'
            f'url = "{hostile.url}"\nusername = "{USER}"\npassword = "{SECRET}"\n'
            'push_to = "Training"\nbusy_from = ["Work"]\n'
        )
        result = subprocess.run(
            [sys.executable, "-m", "cli", "sync", "--once", "--config", str(config)],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert other.seen == []
    output = result.stdout + result.stderr
    assert result.returncode == 3, output
    assert "Traceback" not in output
    assert f"to {other.origin} instead of {hostile.origin}" in output
    for secret in (SECRET, TOKEN, HIDDEN):
        assert secret not in output
    assert authorized(hostile)
