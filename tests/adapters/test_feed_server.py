"""The feed server over real HTTP on loopback: caching headers, gzip, the token's secrecy
(responses, logs, file mode, rotation on a running server) and the CLI around it."""

from __future__ import annotations

import gzip
import logging
import os
import pty
import re
import select
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from adapters.feed_server import (
    accepts_gzip,
    create_app,
    listen_socket,
    redact_path,
)
from adapters.feed_token import TOKEN_FILE, FeedToken, FeedTokenError
from adapters.hardened_server import HardenedServer, ServerLimits
from adapters.ics.feed_address import subscription_urls
from cli.feed import feed, serve
from config.loader import load
from tests.background_server import hardened_on_thread

ROOT = Path(__file__).resolve().parents[2]
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//liftrun//test//EN\r\n"
    + "".join(
        f"BEGIN:VEVENT\r\nUID:s{i}@liftrun.invalid\r\nDTSTAMP:20270101T000000Z\r\n"
        f"DTSTART:202701{i % 28 + 1:02d}T060000Z\r\nDURATION:PT1H\r\n"
        f"SUMMARY:Easy run {i}\r\nEND:VEVENT\r\n"
        for i in range(20)
    )
    + "END:VCALENDAR\r\n"
).encode()
SHADOW = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//liftrun//busy//EN\r\nEND:VCALENDAR\r\n"
PLAIN = {"Accept-Encoding": "identity"}

CONFIG = """\
timezone = "Europe/Berlin"
[athlete]
bodyweight_kg = 70
[availability]
mon = ["06:00-08:00"]
[state]
path = "state"
[[calendars]]
kind = "ics"
push_to = "out/liftrun.ics"
{shadow}
[feed]
listen = "127.0.0.1:{port}"
{extra}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def write_config(
    directory: Path, port: int = 8080, *, shadow: bool = False, extra: str = ""
) -> Path:
    path = directory / "liftrun.toml"
    path.write_text(
        CONFIG.format(
            port=port,
            shadow='push_busy_shadow_to = "out/busy.ics"' if shadow else "",
            extra=extra,
        )
    )
    return path


def replace_file(path: Path, data: bytes) -> None:
    """As the feed writer does: a new file renamed over the old one."""
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


@dataclass
class Site:
    base: str
    feed: Path
    shadow: Path
    state: Path
    token: str
    config: Path

    def url(self, token: str | None = None, name: str = "liftrun.ics") -> str:
        return f"{self.base}/{token or self.token}/{name}"


@contextmanager
def running_site(tmp_path: Path, limits: ServerLimits | None = None) -> Iterator[Site]:
    """The server ``serve`` runs (uvicorn under ``HardenedServer``) in a thread on a pre-bound
    loopback socket (no port race), with ``limits`` or the ones of this process."""
    (tmp_path / "out").mkdir()
    feed_path = tmp_path / "out" / "liftrun.ics"
    shadow_path = tmp_path / "out" / "busy.ics"
    feed_path.write_bytes(ICS)
    shadow_path.write_bytes(SHADOW)
    state = tmp_path / "state"
    token = FeedToken(state)
    app = create_app(feed_path, token, shadow_path=shadow_path, max_age=900)
    sock = listen_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = HardenedServer(app, limits or ServerLimits.for_this_process())
    with hardened_on_thread(server, sock):
        yield Site(
            base=f"http://127.0.0.1:{port}",
            feed=feed_path,
            shadow=shadow_path,
            state=state,
            token=token.get(),
            config=write_config(tmp_path, port, shadow=True),
        )


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with running_site(tmp_path) as running:
        yield running


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as c:
        yield c


def test_get_serves_the_feed_with_caching_headers(site: Site, client: httpx.Client) -> None:
    r = client.get(site.url(), headers=PLAIN)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/calendar; charset=utf-8"
    assert r.content == ICS
    assert "content-encoding" not in r.headers
    assert re.fullmatch(r'"[0-9a-f]{32}"', r.headers["etag"])
    assert r.headers["cache-control"] == "private, max-age=900"
    assert r.headers["vary"] == "Accept-Encoding"
    mtime = int(site.feed.stat().st_mtime)
    assert r.headers["last-modified"] == formatdate(mtime, usegmt=True)


def test_head_has_the_headers_of_get_and_no_body(site: Site, client: httpx.Client) -> None:
    got = client.get(site.url(), headers=PLAIN)
    head = client.head(site.url(), headers=PLAIN)
    assert head.status_code == 200
    assert head.content == b""
    for name in ("content-type", "content-length", "etag", "last-modified", "cache-control"):
        assert head.headers[name] == got.headers[name]


def test_if_none_match_gives_304(site: Site, client: httpx.Client) -> None:
    etag = client.get(site.url(), headers=PLAIN).headers["etag"]
    r = client.get(site.url(), headers={**PLAIN, "If-None-Match": etag})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["etag"] == etag
    assert r.headers["cache-control"] == "private, max-age=900"
    weak = client.get(site.url(), headers={**PLAIN, "If-None-Match": f'"x", W/{etag}'})
    assert weak.status_code == 304
    other = client.get(site.url(), headers={**PLAIN, "If-None-Match": '"stale"'})
    assert other.status_code == 200


def test_if_modified_since_gives_304(site: Site, client: httpx.Client) -> None:
    os.utime(site.feed, (1_800_000_000, 1_800_000_000))
    r = client.get(site.url(), headers=PLAIN)
    assert r.headers["last-modified"] == formatdate(1_800_000_000, usegmt=True)
    same = client.get(site.url(), headers={"If-Modified-Since": r.headers["last-modified"]})
    assert same.status_code == 304
    older = formatdate(1_800_000_000 - 60, usegmt=True)
    assert client.get(site.url(), headers={"If-Modified-Since": older}).status_code == 200
    garbage = client.get(site.url(), headers={"If-Modified-Since": "yesterday"})
    assert garbage.status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
    both = {"If-None-Match": '"stale"', "If-Modified-Since": r.headers["last-modified"]}
    assert client.get(site.url(), headers=both).status_code == 200


def test_gzip_when_asked_with_its_own_etag(site: Site, client: httpx.Client) -> None:
    plain = client.get(site.url(), headers=PLAIN)
    with client.stream("GET", site.url(), headers={"Accept-Encoding": "gzip"}) as r:
        raw = b"".join(r.iter_raw())
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(raw) == ICS
    assert len(raw) < len(ICS)
    assert r.headers["etag"] != plain.headers["etag"]
    cond = client.get(
        site.url(), headers={"Accept-Encoding": "gzip", "If-None-Match": r.headers["etag"]}
    )
    assert cond.status_code == 304
    assert cond.headers["etag"] == r.headers["etag"]
    refused = client.get(site.url(), headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in refused.headers
    assert refused.content == ICS


def test_small_responses_do_not_wait_for_delayed_acks(site: Site, client: httpx.Client) -> None:
    """With Nagle on (uvicorn #3149), each small keep-alive response stalls ~40 ms."""
    with listen_socket("127.0.0.1", 0) as sock:
        assert sock.proto == socket.IPPROTO_TCP
    gz = {"Accept-Encoding": "gzip"}
    client.get(site.url(), headers=gz)
    started = time.perf_counter()
    for _ in range(30):
        assert client.get(site.url(), headers=gz).status_code == 200
    assert time.perf_counter() - started < 0.9  # ~0.05 s normally, >= 1.2 s with the stall


def test_accept_encoding_parsing() -> None:
    assert accepts_gzip("gzip")
    assert accepts_gzip("deflate, GZIP;q=0.5")
    assert accepts_gzip("*")
    assert not accepts_gzip("")
    assert not accepts_gzip("identity")
    assert not accepts_gzip("gzip;q=0")
    assert not accepts_gzip("*;q=0")
    assert not accepts_gzip("br, gzip;q=0, *")


def test_wrong_token_is_a_neutral_404(site: Site, client: httpx.Client) -> None:
    wrong = site.token[:-1] + ("A" if site.token[-1] != "A" else "B")
    for url in (
        site.url(wrong),
        site.url("x"),
        site.url(wrong, "busy.ics"),
        f"{site.base}/{site.token}",
        f"{site.base}/",
    ):
        r = client.get(url)
        assert r.status_code == 404, url
        assert site.token not in r.text
        assert site.token not in str(r.headers)
    a = client.get(site.url(wrong))
    b = client.get(f"{site.base}/nothing/here")
    assert a.content == b.content == b""


def test_shadow_feed_route(site: Site, client: httpx.Client) -> None:
    r = client.get(site.url(name="busy.ics"))
    assert r.status_code == 200
    assert r.content == SHADOW
    assert r.headers["content-type"] == "text/calendar; charset=utf-8"


def test_no_shadow_route_unless_configured(tmp_path: Path) -> None:
    app = create_app(tmp_path / "f.ics", FeedToken(tmp_path))
    paths = {getattr(r, "path", "") for r in app.routes}
    assert paths == {"/healthz", "/{token}/liftrun.ics"}


def test_token_file_is_private_and_random(tmp_path: Path) -> None:
    token = FeedToken(tmp_path / "state")
    value = token.get()
    path = tmp_path / "state" / TOKEN_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) & 0o077 == 0
    assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", value)  # 43 urlsafe chars = 258 bits >= 256
    assert token.get() == value == FeedToken(tmp_path / "state").get()
    assert token.matches(value)
    assert not token.matches(value[:-1])
    assert not token.matches("")
    assert not token.matches("é" * 43)
    assert FeedToken(tmp_path / "other").get() != value
    assert list((tmp_path / "state").iterdir()) == [path]  # no temp files left behind


def test_unsafe_token_file_is_refused(tmp_path: Path) -> None:
    token = FeedToken(tmp_path)
    value = token.get()
    assert token.matches(value)
    token.path.chmod(0o644)
    with pytest.raises(FeedTokenError, match="rotate-token"):
        token.get()
    assert not FeedToken(tmp_path).matches(value)  # a server denies rather than fail open
    assert not token.matches(value)  # a running one too: a chmod is a change of the file
    with pytest.raises(FeedTokenError, match="the feed URL may have leaked: run `liftrun feed"):
        token.get()
    new = token.rotate()
    assert new != value
    assert stat.S_IMODE(token.path.stat().st_mode) == 0o600
    assert token.get() == new


def test_garbled_or_linked_token_file_is_refused(tmp_path: Path) -> None:
    token = FeedToken(tmp_path)
    token.path.write_text("short\n")
    token.path.chmod(0o600)
    with pytest.raises(FeedTokenError):
        token.get()
    token.path.unlink()
    target = tmp_path / "elsewhere"
    target.write_text("x" * 43)
    target.chmod(0o600)
    token.path.symlink_to(target)
    with pytest.raises(FeedTokenError):
        token.get()


def test_rotate_token_revokes_the_old_url_on_a_running_server(
    site: Site, client: httpx.Client
) -> None:
    assert client.get(site.url()).status_code == 200
    result = CliRunner().invoke(feed, ["rotate-token", "--config", str(site.config)])
    assert result.exit_code == 0, result.output
    new_url = result.stdout.splitlines()[0]
    new_token = new_url.split("/")[-2]
    assert new_token != site.token
    assert client.get(site.url()).status_code == 404
    assert client.get(site.url(new_token)).status_code == 200
    assert (site.state / TOKEN_FILE).read_text().strip() == new_token


def test_replaced_feed_gets_a_new_etag(site: Site, client: httpx.Client) -> None:
    first = client.get(site.url(), headers=PLAIN)
    new = ICS.replace(b"Easy run 3", b"Hard run 3")
    assert len(new) == len(ICS)
    replace_file(site.feed, new)
    r = client.get(site.url(), headers={**PLAIN, "If-None-Match": first.headers["etag"]})
    assert r.status_code == 200
    assert r.content == new
    assert r.headers["etag"] != first.headers["etag"]
    # rewritten in place with the same size: the new mtime alone triggers the re-read
    site.feed.write_bytes(ICS)
    os.utime(site.feed, (1_800_000_000, 1_800_000_000))
    assert client.get(site.url(), headers=PLAIN).headers["etag"] == first.headers["etag"]


def test_missing_feed_is_503(site: Site, client: httpx.Client) -> None:
    site.feed.unlink()
    r = client.get(site.url())
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("text/plain")
    assert "not been written" in r.text
    assert site.token not in r.text
    assert client.get(site.url("wrong")).status_code == 404  # the token is checked first
    site.feed.write_bytes(ICS)
    assert client.get(site.url()).status_code == 200


def test_healthz(site: Site, client: httpx.Client) -> None:
    r = client.get(f"{site.base}/healthz")
    assert r.status_code == 200
    assert r.text.strip() == "ok"


def test_access_log_never_contains_the_token(
    site: Site, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="liftrun.feed.access")
    client.get(site.url(), headers=PLAIN)
    client.get(site.url("not-the-token"))
    client.get(f"{site.base}/healthz")
    client.get(f"{site.base}/{site.token}/?q={site.token}")
    deadline = time.monotonic() + 3  # the line is written after the response went out
    while len(caplog.records) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    lines = [r.getMessage() for r in caplog.records if r.name == "liftrun.feed.access"]
    assert len(lines) == 4, lines
    assert all(site.token not in line for line in lines)
    assert "not-the-token" not in "".join(lines)
    assert f'"GET /<token>/liftrun.ics" 200 {len(ICS)} ' in lines[0]
    assert '"GET /<token>/liftrun.ics" 404 0 ' in lines[1]
    assert '"GET /healthz" 200' in lines[2]
    assert re.search(r"\d+\.\dms$", lines[0])


def test_redact_path() -> None:
    assert redact_path("/abc/liftrun.ics") == "/<token>/liftrun.ics"
    assert redact_path("/abc") == "/<token>"
    assert redact_path("/") == "/"
    assert redact_path("/healthz") == "/healthz"
    token = "CTv1V7_k-wsyheLJGyP4vYTm03L-XR9zOsDHMQceAVc"
    assert redact_path(f"//{token}/liftrun.ics") == "//<token>/liftrun.ics"
    assert redact_path(f"/x/y/{token}") == "/<token>/y/<token>"
    assert redact_path(f"http://host/{token}/busy.ics") == "http://host/<token>/busy.ics"
    assert redact_path(f"/a/%25{token[:20]}%41{token[20:]}") == "/<token>/<token>"
    assert redact_path(f"/a/{token[:10]}.{token[10:20]}.{token[20:30]}") == "/<token>/<token>"
    assert redact_path("/a/favicon.ico") == "/<token>/favicon.ico"  # short names stay readable
    assert redact_path("/a/b\nFORGED \\x1b") == "/<token>/b\\nFORGED \\\\x1b"
    assert redact_path("/a/\x1b[2J\u2028\u202e") == "/<token>/\\x1b[2J\\u2028\\u202e"
    long = redact_path("/x" + "/a" * 500)
    assert len(long) < 300
    assert long.endswith("/a/a...(1008 chars)")


def test_subscription_urls(tmp_path: Path) -> None:
    settings = load(str(write_config(tmp_path, 8123))).settings
    assert subscription_urls(settings, "TOK") == (
        "http://127.0.0.1:8123/TOK/liftrun.ics",
        "webcal://127.0.0.1:8123/TOK/liftrun.ics",
    )
    proxied = load(
        str(write_config(tmp_path, extra='public_url = "https://cal.example.org/lr/"'))
    ).settings
    assert subscription_urls(proxied, "TOK") == (
        "https://cal.example.org/lr/TOK/liftrun.ics",
        "webcal://cal.example.org/lr/TOK/liftrun.ics",
    )


def test_feed_url_command(tmp_path: Path) -> None:
    config = write_config(tmp_path, 8124)
    result = CliRunner().invoke(feed, ["url", "--config", str(config)])
    assert result.exit_code == 0, result.output
    token = FeedToken(tmp_path / "state").get()
    assert result.stdout.splitlines() == [
        f"http://127.0.0.1:8124/{token}/liftrun.ics",
        f"webcal://127.0.0.1:8124/{token}/liftrun.ics",
    ]
    (tmp_path / "state" / TOKEN_FILE).chmod(0o640)
    refused = CliRunner().invoke(feed, ["url", "--config", str(config)])
    assert refused.exit_code == 2
    assert "readable by others" in refused.stderr
    assert token not in refused.output


def wait_for_http(url: str) -> httpx.Response:
    deadline = time.monotonic() + 10
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            assert time.monotonic() < deadline, "serve did not answer"
            time.sleep(0.05)


@dataclass
class Served:
    """``liftrun serve`` in a subprocess: its first line, and all it wrote once stopped."""

    proc: subprocess.Popen[str]
    first: str = ""
    stdout: str = ""
    stderr: str = ""


@contextmanager
def serving(config: Path) -> Iterator[Served]:
    """The real command with stdout not a terminal (a container's log), stopped with SIGTERM
    on the way out."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--config", str(config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    served = Served(proc)
    try:
        assert proc.stdout is not None
        served.first = proc.stdout.readline().strip()
        yield served
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            served.stdout, served.stderr = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise


def test_serve_end_to_end(tmp_path: Path) -> None:
    """The real command in a subprocess with stdout not a terminal (a container's log): no
    secret URL printed, the feed and the page answer, redacted log, SIGTERM -> 0."""
    port = free_port()
    config = write_config(tmp_path, port)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "liftrun.ics").write_bytes(ICS)
    with serving(config) as served:
        first = served.first
        token = FeedToken(tmp_path / "state").get()
        assert first.startswith(
            f"serving http://127.0.0.1:{port}/<token>/liftrun.ics and the page at "
            f"http://127.0.0.1:{port}/p/<token>/ "
        )
        assert "`liftrun feed url` and `liftrun web url` show them" in first
        url = f"http://127.0.0.1:{port}/{token}/liftrun.ics"
        r = wait_for_http(url)
        assert r.status_code == 200
        assert r.content == ICS
        assert "server" not in r.headers  # serve turns uvicorn's banner off
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        page_url = _web_url(config)
        page = httpx.get(page_url, timeout=10)
        assert page.status_code == 200
        assert "<h1" in page.text
        assert httpx.get(page_url.replace("/p/", "/p/x"), timeout=5).status_code == 404
        assert httpx.get(f"http://127.0.0.1:{port}/p/{token}/", timeout=5).status_code == 404
    assert served.proc.returncode == 0, served.stderr
    assert '"GET /<token>/liftrun.ics" 200' in served.stderr
    assert '"GET /p/<token>/" 200' in served.stderr
    page_token = page_url.rstrip("/").rsplit("/", 1)[1]
    for secret in (token, page_token):
        assert secret not in served.stderr
        assert secret not in first + served.stdout


def _web_url(config: Path) -> str:
    shown = subprocess.run(
        [sys.executable, "-m", "cli", "web", "url", "--config", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return shown.stdout.strip()


def test_serve_prints_the_urls_to_a_terminal(tmp_path: Path) -> None:
    """Someone at a terminal gets the feed's URLs and the page's to copy; stdout is a
    pseudo-terminal here."""
    port = free_port()
    config = write_config(tmp_path, port)
    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--config", str(config)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=child_fd,
        stderr=subprocess.PIPE,
    )
    os.close(child_fd)
    shown = b""
    try:
        token = FeedToken(tmp_path / "state").get()
        deadline = time.monotonic() + 10
        while b"/p/" not in shown or not shown.endswith(b"\n"):
            assert time.monotonic() < deadline, shown
            if select.select([main_fd], [], [], 0.2)[0]:
                shown += os.read(main_fd, 4096)
        assert wait_for_http(f"http://127.0.0.1:{port}/healthz").status_code == 200
        page_url = _web_url(config)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        os.close(main_fd)
    assert proc.returncode == 0
    assert shown.decode().split() == [
        f"http://127.0.0.1:{port}/{token}/liftrun.ics",
        f"webcal://127.0.0.1:{port}/{token}/liftrun.ics",
        page_url,
    ]


def test_serve_without_a_feed_calendar_serves_the_page_alone(tmp_path: Path) -> None:
    """An athlete who publishes no ICS feed (a vdir, CalDAV or Google only) still gets the
    page; no feed route answers."""
    port = free_port()
    text = write_config(tmp_path, port).read_text()
    config = tmp_path / "no-feed.toml"
    config.write_text(re.sub(r"\[\[calendars\]\]\n(.*\n)*?\[feed\]", "[feed]", text))
    assert "calendars" not in config.read_text()
    with serving(config) as served:
        first = served.first
        assert first.startswith(f"serving the page at http://127.0.0.1:{port}/p/<token>/ ")
        assert "`liftrun web url` shows it" in first
        assert "liftrun.ics" not in first
        page = wait_for_http(_web_url(config))
        assert page.status_code == 200
        token = FeedToken(tmp_path / "state").get()
        assert httpx.get(f"http://127.0.0.1:{port}/{token}/liftrun.ics").status_code == 404
    assert served.proc.returncode == 0, served.stderr


def test_serve_with_no_feed_and_a_read_only_state_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ICS calendar and a state the page cannot write: nothing to serve, said in one line."""
    text = write_config(tmp_path).read_text()
    config = tmp_path / "no-feed.toml"
    config.write_text(re.sub(r"\[\[calendars\]\]\n(.*\n)*?\[feed\]", "[feed]", text))
    (tmp_path / "state").mkdir(mode=0o700)
    real_access = os.access
    state = str(tmp_path / "state")
    monkeypatch.setattr(
        os, "access", lambda path, mode: False if str(path) == state else real_access(path, mode)
    )
    result = CliRunner().invoke(serve, ["--config", str(config)])
    assert result.exit_code == 2
    assert "nothing to serve: the state directory" in result.stderr
    assert "is read-only" in result.stderr


def test_serve_on_a_taken_port_fails_clearly(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config = write_config(tmp_path, taken.getsockname()[1])
        result = CliRunner().invoke(serve, ["--config", str(config)])
    assert result.exit_code == 2
    assert "cannot listen on 127.0.0.1:" in result.stderr
    assert "[feed] listen" in result.stderr
