"""Tests for ICS busy sources (adapters/ics/source.py) against a real HTTP server on loopback.

The server plays a script of responses (status, body, headers, delay) and records every request
it sees, so each test can say both what the source got and what it asked for. Nothing sleeps
for back-off: waits are injected and recorded.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from adapters.cache import Cache
from adapters.ics.source import (
    MAX_REDIRECTS,
    RETRY_AFTER_CAP,
    VALIDATORS,
    IcsSource,
    _retry_after,
)
from adapters.locations import display_name, fetch_url
from adapters.protocol import BusySource, SourceRead, SourceUnavailable

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2027, 3, 1, tzinfo=BERLIN)
END = datetime(2027, 4, 1, tzinfo=BERLIN)


def cal(*events: str) -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events)
    return (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//liftrun//tests//EN\r\n{body}END:VCALENDAR\r\n"
    ).encode()


ONE = cal("UID:one@example.com\nDTSTART:20270302T080000Z\nDTEND:20270302T090000Z")
TWO = cal("UID:two@example.com\nDTSTART:20270303T080000Z\nDTEND:20270303T090000Z")
WEEKLY = cal(
    "UID:weekly@example.com\nSUMMARY:Team sync\n"
    "DTSTART;TZID=Europe/Berlin:20270301T100000\nDTEND;TZID=Europe/Berlin:20270301T110000\n"
    "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=4\nEXDATE;TZID=Europe/Berlin:20270315T100000"
)
BROKEN_SERIES = cal(
    "UID:good@example.com\nDTSTART:20270302T080000Z\nDTEND:20270302T090000Z",
    "UID:bad-rrule@example.com\nDTSTART:20270303T080000Z\nDTEND:20270303T090000Z\n"
    "RRULE:FREQ=SOMETIMES",
)
HTML = b"<!DOCTYPE html><html><body><form>Sign in</form></body></html>"


def uids(read: SourceRead) -> list[str]:
    return [interval.uid for interval in read.busy.intervals]


# --------------------------------------------------------------------------------------------
# The loopback server


@dataclass
class Reply:
    status: int = 200
    body: bytes = ONE
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content_length: bool = True  # False: close-delimited body (HTTP/1.0), streamed in chunks


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


class Server:
    """Plays ``replies`` in order (the last one repeats) and records the requests."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.seen: list[Seen] = []
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False  # handler threads may still sleep in a delay
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)

    def url(self, path: str = "/calendar.ics") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def play(self, *replies: Reply) -> None:
        with self.lock:
            self.replies = list(replies)

    def _next(self, seen: Seen) -> Reply:
        with self.lock:
            self.seen.append(seen)
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                reply = server._next(Seen(self.path, dict(self.headers.items())))
                if reply.delay and server.stopping.wait(reply.delay):
                    return
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    if reply.content_length and "Content-Length" not in reply.headers:
                        self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    for i in range(0, len(reply.body), 1024):
                        self.wfile.write(reply.body[i : i + 1024])
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading, as it should for an oversize body

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    srv.thread.start()
    yield srv
    srv.stopping.set()
    srv.httpd.shutdown()
    srv.httpd.server_close()


@dataclass
class Waits:
    backoff_for: list[int] = field(default_factory=list)
    slept: list[float] = field(default_factory=list)

    def backoff(self, attempt: int) -> float:
        self.backoff_for.append(attempt)
        return 0.0

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def make(tmp_path: Path, waits: Waits) -> _Maker:
    return _Maker(tmp_path / "cache", waits)


class _Maker:
    def __init__(self, cache_dir: Path, waits: Waits) -> None:
        self.cache_dir = cache_dir
        self.waits = waits

    def __call__(self, location: str, *, persist: bool = True, **kwargs: object) -> IcsSource:
        options: dict[str, object] = {
            "cache": Cache(self.cache_dir, persist=persist),
            "tz": BERLIN,
            "timeout": 2.0,
            "retry_wait": self.waits.backoff,
            "sleep": self.waits.sleep,
        }
        options.update(kwargs)
        return IcsSource(location, **options)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Locations and names


def test_is_a_busy_source(make: _Maker, server: Server) -> None:
    assert isinstance(make(server.url()), BusySource)


@pytest.mark.parametrize(
    ("location", "url"),
    [
        ("webcal://example.com/cal/basic.ics", "https://example.com/cal/basic.ics"),
        ("webcals://example.com/basic.ics", "https://example.com/basic.ics"),
        ("WEBCAL://example.com/basic.ics?x=1", "https://example.com/basic.ics?x=1"),
        ("http://example.com/basic.ics", "http://example.com/basic.ics"),
        ("https://example.com/basic.ics", "https://example.com/basic.ics"),
    ],
)
def test_webcal_is_fetched_over_https(location: str, url: str) -> None:
    assert fetch_url(location) == url


@pytest.mark.parametrize(
    ("location", "name"),
    [
        (
            "https://calendar.google.com/calendar/ical/me%40gmail.com/private-0123456789abcdef"
            "0123456789abcdef/basic.ics",
            "https://calendar.google.com/…/basic.ics",
        ),
        (
            "webcal://p52-caldav.icloud.com/published/2/MTAxNTU5ODMyNTEwMTU1OXyXqAbCdEfGhIjK",
            "webcal://p52-caldav.icloud.com/…/MTAx…",
        ),
        ("https://cloud.example.org/dav/public/aB3dEfGh1jKlMnOp?export", None),
        ("https://user:hunter2@example.com/calendar.ics", "https://example.com/calendar.ics"),
        ("https://example.com:8443/", "https://example.com:8443/"),
        ("/home/me/work.ics", "/home/me/work.ics"),
        ("file:///home/me/work.ics", "file:///home/me/work.ics"),
    ],
)
def test_display_name_hides_the_secret_parts(location: str, name: str | None) -> None:
    shown = display_name(location)
    if name is not None:
        assert shown == name
    else:
        assert shown == "https://cloud.example.org/…/aB3d…?…"
    assert "hunter2" not in shown
    assert "0123456789abcdef" not in shown


def test_webcal_location_is_requested_over_https(make: _Maker, server: Server) -> None:
    """End to end over loopback: the request leaves as https, and a transport that speaks plain
    http to the test server stands in for TLS."""
    schemes: list[str] = []

    class Downgrade(httpx.BaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.HTTPTransport()

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            schemes.append(request.url.scheme)
            request.url = request.url.copy_with(scheme="http")
            return self.inner.handle_request(request)

    server.play(Reply(body=ONE))
    location = f"webcal://127.0.0.1:{server.port}/calendar.ics"
    with httpx.Client(transport=Downgrade()) as client:
        read = make(location, client=client).read_busy(START, END)
    assert schemes == ["https"]
    assert read.name == location
    assert uids(read) == ["one@example.com"]


@pytest.mark.parametrize(
    "location", ["ftp://example.com/a.ics", "relative/a.ics", "file://otherhost/a.ics"]
)
def test_unsupported_locations_are_refused(make: _Maker, location: str) -> None:
    with pytest.raises(ValueError):
        make(location)


# --------------------------------------------------------------------------------------------
# HTTP: fetch, conditional GET, cache


def test_fetch_reads_recurring_events_and_sends_a_user_agent(make: _Maker, server: Server) -> None:
    server.play(Reply(body=WEEKLY, headers={"Content-Type": "text/calendar; charset=utf-8"}))
    read = make(server.url()).read_busy(START, END)
    assert read.fresh
    assert read.error is None
    starts = [i.start for i in read.busy.intervals]
    assert starts == [datetime(2027, 3, d, 10, tzinfo=BERLIN) for d in (1, 8, 22)]
    assert server.seen[0].headers["User-Agent"].startswith("liftrun")


def test_etag_gives_a_conditional_get_and_304_uses_the_cached_body(
    make: _Maker, server: Server
) -> None:
    server.play(Reply(body=ONE, headers={"ETag": '"v1"'}), Reply(status=304, body=b""))
    source = make(server.url())
    assert uids(source.read_busy(START, END)) == ["one@example.com"]
    assert "If-None-Match" not in server.seen[0].headers
    second = source.read_busy(START, END)
    assert server.seen[1].headers["If-None-Match"] == '"v1"'
    assert second.fresh
    assert uids(second) == ["one@example.com"]


def test_last_modified_gives_if_modified_since(make: _Maker, server: Server) -> None:
    stamp = "Wed, 21 Oct 2026 07:28:00 GMT"
    server.play(Reply(body=ONE, headers={"Last-Modified": stamp}), Reply(status=304, body=b""))
    source = make(server.url())
    source.read_busy(START, END)
    second = source.read_busy(START, END)
    assert server.seen[1].headers["If-Modified-Since"] == stamp
    assert "If-None-Match" not in server.seen[1].headers
    assert uids(second) == ["one@example.com"]


def test_the_cache_survives_a_new_process(make: _Maker, server: Server) -> None:
    server.play(Reply(body=ONE, headers={"ETag": '"v1"'}), Reply(status=304, body=b""))
    make(server.url()).read_busy(START, END)
    again = make(server.url()).read_busy(START, END)  # a new instance, same cache_dir
    assert server.seen[1].headers["If-None-Match"] == '"v1"'
    assert uids(again) == ["one@example.com"]
    server.play(Reply(status=404, body=b"gone"))
    fallback = make(server.url()).read_busy(START, END)
    assert not fallback.fresh
    assert uids(fallback) == ["one@example.com"]


def test_a_new_body_replaces_the_last_good_copy(make: _Maker, server: Server) -> None:
    server.play(Reply(body=ONE), Reply(body=TWO), Reply(status=404, body=b""))
    source = make(server.url())
    assert uids(source.read_busy(START, END)) == ["one@example.com"]
    assert uids(source.read_busy(START, END)) == ["two@example.com"]
    fallback = source.read_busy(START, END)
    assert (fallback.fresh, uids(fallback)) == (False, ["two@example.com"])


def test_validators_that_do_not_match_the_body_are_not_sent(make: _Maker, server: Server) -> None:
    """A crash between writing the body and its validators must not let a 304 vouch for the
    wrong body; a broken validator file leaves the body usable as the last good copy."""
    server.play(Reply(body=ONE, headers={"ETag": '"v1"'}))
    make(server.url()).read_busy(START, END)
    meta = Cache(make.cache_dir).path(VALIDATORS, server.url())
    meta.write_bytes(meta.read_bytes()[:-1])
    server.play(Reply(status=500, body=b""))
    read = make(server.url()).read_busy(START, END)
    assert "If-None-Match" not in server.seen[1].headers
    assert (read.fresh, uids(read)) == (False, ["one@example.com"])


def test_a_source_that_must_not_persist_uses_its_cache_and_writes_nothing(
    make: _Maker, server: Server
) -> None:
    """A dry run: the cold read creates no cache directory; after a real read, the dry one
    sends the validators, parses through the kept copy and leaves every file as it was."""
    server.play(Reply(body=ONE, headers={"ETag": '"v1"'}))
    make(server.url(), persist=False).read_busy(START, END)
    assert not make.cache_dir.exists()
    make(server.url()).read_busy(START, END)
    before = {p.name: p.read_bytes() for p in make.cache_dir.iterdir()}
    server.play(Reply(body=TWO, headers={"ETag": '"v2"'}), Reply(status=500, body=b""))
    dry = make(server.url(), persist=False)
    assert uids(dry.read_busy(START, END)) == ["two@example.com"]
    assert server.seen[-1].headers["If-None-Match"] == '"v1"'
    fallback = dry.read_busy(START, END)
    assert (fallback.fresh, uids(fallback)) == (False, ["one@example.com"])
    assert {p.name: p.read_bytes() for p in make.cache_dir.iterdir()} == before


# --------------------------------------------------------------------------------------------
# HTTP: failures and retries


def test_404_without_a_cache_is_unavailable(make: _Maker, server: Server) -> None:
    server.play(Reply(status=404, body=b"not here"))
    with pytest.raises(SourceUnavailable, match="HTTP 404 Not Found"):
        make(server.url()).read_busy(START, END)


def test_404_after_a_good_fetch_uses_the_last_good_copy(make: _Maker, server: Server) -> None:
    server.play(Reply(body=ONE), Reply(status=404, body=b"not here"))
    source = make(server.url())
    source.read_busy(START, END)
    read = source.read_busy(START, END)
    assert not read.fresh
    assert read.error is not None
    assert re.fullmatch(
        r"HTTP 404 Not Found; using the last good copy from \w{3} \d{1,2} \w{3} \d\d:\d\d",
        read.error,
    )
    assert uids(read) == ["one@example.com"]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_client_errors_are_not_retried(make: _Maker, server: Server, status: int) -> None:
    server.play(Reply(status=status, body=b"no"))
    with pytest.raises(SourceUnavailable, match=f"HTTP {status}"):
        make(server.url()).read_busy(START, END)
    assert len(server.seen) == 1


def test_5xx_is_retried_until_it_succeeds(make: _Maker, server: Server, waits: Waits) -> None:
    server.play(Reply(status=500, body=b""), Reply(status=500, body=b""), Reply(body=ONE))
    read = make(server.url()).read_busy(START, END)
    assert len(server.seen) == 3
    assert (read.fresh, uids(read)) == (True, ["one@example.com"])
    assert waits.backoff_for == [1, 2]
    assert waits.slept == [0.0, 0.0]


def test_503_three_times_is_a_failure(make: _Maker, server: Server) -> None:
    server.play(Reply(status=503, body=b""))
    with pytest.raises(SourceUnavailable, match=r"HTTP 503 Service Unavailable \(3 attempts\)"):
        make(server.url()).read_busy(START, END)
    assert len(server.seen) == 3


def test_429_honours_retry_after(make: _Maker, server: Server, waits: Waits) -> None:
    server.play(
        Reply(status=429, body=b"", headers={"Retry-After": "7"}),
        Reply(status=429, body=b"", headers={"Retry-After": "86400"}),
        Reply(body=ONE),
    )
    read = make(server.url(), deadline_seconds=120).read_busy(START, END)  # both waits fit
    assert uids(read) == ["one@example.com"]
    assert waits.slept == [7.0, RETRY_AFTER_CAP]  # the server's wish, capped
    assert waits.backoff_for == []  # Retry-After replaces the back-off


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("0", 0.0),
        ("12", 12.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # an HTTP-date in the past: go now
        ("Fri, 31 Dec 9999 23:59:59 GMT", RETRY_AFTER_CAP),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_forms(header: str | None, seconds: float | None) -> None:
    assert _retry_after(header) == seconds


def test_redirects_are_followed(make: _Maker, server: Server) -> None:
    server.play(Reply(status=301, body=b"", headers={"Location": "/moved.ics"}), Reply(body=ONE))
    read = make(server.url()).read_busy(START, END)
    assert [s.path for s in server.seen] == ["/calendar.ics", "/moved.ics"]
    assert uids(read) == ["one@example.com"]


def test_a_redirect_loop_is_cut_off_and_not_retried(make: _Maker, server: Server) -> None:
    server.play(Reply(status=302, body=b"", headers={"Location": "/calendar.ics"}))
    with pytest.raises(SourceUnavailable, match="too many redirects"):
        make(server.url()).read_busy(START, END)
    assert len(server.seen) == MAX_REDIRECTS + 1


def test_timeout_is_retried_then_fails(make: _Maker, server: Server) -> None:
    server.play(Reply(body=ONE, delay=2.0))
    with pytest.raises(SourceUnavailable, match=r"timed out after 0.3 s \(3 attempts\)"):
        make(server.url(), timeout=0.3, deadline_seconds=10).read_busy(START, END)
    assert len(server.seen) == 3


def test_connection_refused_is_a_failure(make: _Maker, server: Server) -> None:
    url = server.url()
    server.httpd.shutdown()
    server.httpd.server_close()
    with pytest.raises(SourceUnavailable, match="connection failed"):
        make(url).read_busy(START, END)


def test_html_is_not_icalendar(make: _Maker, server: Server) -> None:
    server.play(Reply(body=HTML, headers={"Content-Type": "text/html; charset=utf-8"}))
    with pytest.raises(SourceUnavailable, match="not an iCalendar file") as info:
        make(server.url()).read_busy(START, END)
    assert "text/html" in str(info.value)
    assert len(server.seen) == 1


@pytest.mark.parametrize("body", [b"", b"\x00\xff\xfe garbage", b"BEGIN:VCALENDAR\r\n"])
def test_garbage_and_empty_bodies_fail(make: _Maker, server: Server, body: bytes) -> None:
    server.play(Reply(body=body))
    with pytest.raises(SourceUnavailable):
        make(server.url()).read_busy(START, END)


def test_a_bad_body_never_overwrites_the_last_good_copy(make: _Maker, server: Server) -> None:
    server.play(Reply(body=ONE), Reply(body=HTML), Reply(status=500, body=b""))
    source = make(server.url())
    source.read_busy(START, END)
    html = source.read_busy(START, END)
    assert html.error is not None
    assert "not an iCalendar file" in html.error
    assert (html.fresh, uids(html)) == (False, ["one@example.com"])
    later = make(server.url()).read_busy(START, END)
    assert (later.fresh, uids(later)) == (False, ["one@example.com"])


def test_content_length_over_the_cap_is_refused_up_front(make: _Maker, server: Server) -> None:
    # The body is short of the declared length: reading it would fail differently (and retry).
    server.play(Reply(body=ONE, headers={"Content-Length": str(10**9)}))
    with pytest.raises(SourceUnavailable, match="larger than 2048 bytes"):
        make(server.url(), max_bytes=2048).read_busy(START, END)
    assert len(server.seen) == 1


def test_streamed_body_over_the_cap_is_cut_off(make: _Maker, server: Server) -> None:
    server.play(Reply(body=b"X" * 200_000, content_length=False))
    with pytest.raises(SourceUnavailable, match="larger than 2048 bytes"):
        make(server.url(), max_bytes=2048).read_busy(START, END)
    assert len(server.seen) == 1


def test_reader_warnings_pass_through(make: _Maker, server: Server) -> None:
    server.play(Reply(body=BROKEN_SERIES))
    source = make(server.url())
    read = source.read_busy(START, END)
    assert "good@example.com" in uids(read)
    (warning,) = read.busy.warnings
    assert "bad-rrule@example.com" in warning
    assert warning.startswith(source.name)


# --------------------------------------------------------------------------------------------
# Secrets


SECRET = "private-5f3a9c0d1e2b4a6978b8c7d6e5f4a3b2"
TOKEN = "MTAxNTU5ODMyNTEwMTU1OXyXqAbCdEfGhIjK"


@pytest.mark.parametrize(
    "path", [f"/calendar/ical/me%40gmail.com/{SECRET}/basic.ics", f"/published/2/{TOKEN}"]
)
def test_the_secret_url_never_leaves_the_source(
    make: _Maker, server: Server, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    caplog.set_level(logging.DEBUG)
    url = server.url(path) + "?token=s3cr3tvalue"
    # A login page quoting the address, a broken series, a 5xx, then a 404.
    quoting = f'<a href="{url}">sign in</a>'.encode()
    server.play(Reply(status=404, body=b""))
    with pytest.raises(SourceUnavailable) as unavailable:
        make(url).read_busy(START, END)
    server.play(
        Reply(body=quoting),
        Reply(body=BROKEN_SERIES),
        Reply(status=503, body=b""),
        Reply(status=500, body=b""),
        Reply(status=500, body=b""),
    )
    source = make(url)
    with pytest.raises(SourceUnavailable) as login_page:
        source.read_busy(START, END)
    good = source.read_busy(START, END)
    failed = source.read_busy(START, END)
    shown = [
        source.name,
        repr(source),
        str(unavailable.value),
        str(login_page.value),
        *good.busy.warnings,
        *(i.source for i in good.busy.intervals),
        str(failed.error),
        caplog.text,
        *(p.read_text(errors="replace") for p in make.cache_dir.iterdir()),
    ]
    assert good.busy.warnings
    assert failed.error is not None
    for text in shown:
        for secret in (url, path, SECRET, TOKEN, "s3cr3tvalue", "me%40gmail.com"):
            assert secret not in text, (secret, text)


# --------------------------------------------------------------------------------------------
# Files


@pytest.mark.parametrize("as_url", [False, True])
def test_files_are_read_directly(make: _Maker, tmp_path: Path, as_url: bool) -> None:
    path = tmp_path / "work.ics"
    path.write_bytes(WEEKLY)
    location = f"file://{path}" if as_url else str(path)
    read = make(location).read_busy(START, END)
    assert read.name == location
    assert read.fresh
    assert len(read.busy.intervals) == 3


def test_a_missing_file_is_unavailable(make: _Maker, tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="cannot read the file"):
        make(str(tmp_path / "missing.ics")).read_busy(START, END)


def test_a_file_gone_bad_uses_the_last_good_copy(make: _Maker, tmp_path: Path) -> None:
    path = tmp_path / "work.ics"
    path.write_bytes(ONE)
    make(str(path)).read_busy(START, END)
    path.write_bytes(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n")  # caught mid-rewrite
    read = make(str(path)).read_busy(START, END)
    assert (read.fresh, uids(read)) == (False, ["one@example.com"])
    assert read.error is not None
    path.unlink()
    gone = make(str(path)).read_busy(START, END)
    assert (gone.fresh, uids(gone)) == (False, ["one@example.com"])


def test_a_file_over_the_cap_is_refused(make: _Maker, tmp_path: Path) -> None:
    path = tmp_path / "big.ics"
    path.write_bytes(WEEKLY + b" " * 4096)
    with pytest.raises(SourceUnavailable, match=r"cannot read the file: \d+ bytes, more than 2048"):
        make(str(path), max_bytes=2048).read_busy(START, END)


def test_a_naive_window_is_a_programming_error(make: _Maker, tmp_path: Path) -> None:
    path = tmp_path / "work.ics"
    path.write_bytes(ONE)
    with pytest.raises(ValueError):
        make(str(path)).read_busy(datetime(2027, 3, 1), END)
