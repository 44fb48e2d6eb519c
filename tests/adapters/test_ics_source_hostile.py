"""ICS sources against hostile servers and files (adapters/ics/source.py, adapters/bounded_http.py).

Every server here is real, on loopback, started in-process: tricklers that send one byte a
second (in the body or in the headers), bodies that never end, servers that never answer,
rate limits longer than the read may take, gzip and deflate bombs that inflate to ~10 GiB, a
redirect from https down to plain http on another host (127.0.0.2), a proxy from the
environment. Files: a FIFO with no writer, ``/dev/zero``, a directory. Each read must end within
the source's budget (``deadline_seconds``) with one clear line, and a bomb must be refused at
the byte cap without inflating past it.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import ssl
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from adapters.cache import Cache
from adapters.ics.source import IcsSource
from adapters.protocol import SourceRead, SourceUnavailable
from tests.adapters.test_ics_source import BERLIN, END, ONE, START
from tests.caldav.hostile import self_signed

MiB = 1 << 20
CAP = 20 * MiB  # IcsSource's default max_bytes, the cap a real sync uses
SLACK = 1.0  # seconds a read may end after its budget (the brief's "deadline + 1 s")
SECRET = "private-5f3a9c0d1e2b4a6978b8c7d6e5f4a3b2"
NO_COPY = "no last good copy"  # how a source without a copy to fall back on ends its error


def uids(read: SourceRead) -> list[str]:
    return [interval.uid for interval in read.busy.intervals]


# --------------------------------------------------------------------------------------------
# Servers


@dataclass
class Hostile:
    """An HTTP(S) server on loopback whose every GET is answered by ``behave``; it records the
    request targets, and ``stopping`` ends whatever ``behave`` is still trickling."""

    behave: Callable[[BaseHTTPRequestHandler, Hostile], None]
    host: str = "127.0.0.1"
    tls: ssl.SSLContext | None = None
    targets: list[str] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                owner.targets.append(self.path)
                with contextlib.suppress(OSError):  # the client hung up, as it should
                    owner.behave(self, owner)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((self.host, 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False  # a trickling handler ends on ``stopping``
        if self.tls is not None:
            self.httpd.socket = self.tls.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)

    def url(self, path: str = "/calendar.ics") -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{self.host}:{self.httpd.server_address[1]}{path}"

    def pause(self, seconds: float) -> bool:
        """Wait ``seconds``; True when the test is over and the handler should stop."""
        return self.stopping.wait(seconds)


@pytest.fixture
def serve() -> Iterator[Callable[..., Hostile]]:
    started: list[Hostile] = []

    def start(behave: Callable[[BaseHTTPRequestHandler, Hostile], None], **kw: object) -> Hostile:
        server = Hostile(behave, **kw)  # type: ignore[arg-type]
        server.thread.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stopping.set()
        server.httpd.shutdown()
        server.httpd.server_close()


def reply(
    status: int = 200, body: bytes = ONE, headers: dict[str, str] | None = None
) -> Callable[[BaseHTTPRequestHandler, Hostile], None]:
    def behave(h: BaseHTTPRequestHandler, _: Hostile) -> None:
        h.send_response(status)
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return behave


def make(location: str, tmp_path: Path, **kw: object) -> IcsSource:
    options: dict[str, object] = {"cache": Cache(tmp_path / "cache"), "tz": BERLIN, "timeout": 2.0}
    options.update(kw)
    return IcsSource(location, **options)  # type: ignore[arg-type]


def timed_failure(source: IcsSource) -> tuple[float, str]:
    """How long the read took to fail, and its one line."""
    began = time.monotonic()
    with pytest.raises(SourceUnavailable) as failed:
        source.read_busy(START, END)
    elapsed = time.monotonic() - began
    message = str(failed.value)
    assert "\n" not in message
    return elapsed, message


# --------------------------------------------------------------------------------------------
# Time: every read ends within its budget


def test_a_body_trickled_one_byte_a_second_is_left_at_the_deadline(
    serve: Callable[..., Hostile], tmp_path: Path
) -> None:
    """The per-operation timeout (2 s) never trips at one byte a second; the 3 s budget does.
    (About 2.3 s: downloading may use three quarters of the budget.)"""

    def trickle(h: BaseHTTPRequestHandler, server: Hostile) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(len(ONE)))
        h.end_headers()
        for byte in ONE:
            h.wfile.write(bytes([byte]))
            h.wfile.flush()
            if server.pause(1.0):
                return

    server = serve(trickle)
    elapsed, message = timed_failure(make(server.url(), tmp_path, deadline_seconds=3))
    assert elapsed < 3 + SLACK, elapsed
    assert "not downloaded within the 3 s this source may take" in message
    assert server.targets == ["/calendar.ics"]  # no time left for a second attempt


def test_headers_trickled_one_byte_a_second_are_left_at_the_deadline(
    serve: Callable[..., Hostile], tmp_path: Path
) -> None:
    """The status line and headers arrive a byte a second: before any body a per-chunk check
    could look at, each network read is still cut to the time left."""

    def trickle(h: BaseHTTPRequestHandler, server: Hostile) -> None:
        head = b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 10_000 + b"\r\n\r\n"
        for byte in head:
            h.wfile.write(bytes([byte]))
            h.wfile.flush()
            if server.pause(1.0):
                return

    server = serve(trickle)
    elapsed, message = timed_failure(make(server.url(), tmp_path, deadline_seconds=2))
    assert elapsed < 2 + SLACK, elapsed
    assert "not downloaded within the 2 s" in message


def test_a_body_that_never_ends_is_left_at_the_deadline(
    serve: Callable[..., Hostile], tmp_path: Path
) -> None:
    """A close-delimited body arriving briskly (2 KB/s, far under the cap) but never ending."""

    def endless(h: BaseHTTPRequestHandler, server: Hostile) -> None:
        h.protocol_version = "HTTP/1.0"
        h.send_response(200)
        h.end_headers()
        h.wfile.write(b"BEGIN:VCALENDAR\r\n")
        while not server.pause(0.05):
            h.wfile.write(b"X-FILLER:" + b"z" * 89 + b"\r\n")
            h.wfile.flush()

    server = serve(endless)
    elapsed, message = timed_failure(make(server.url(), tmp_path, timeout=1, deadline_seconds=2))
    assert elapsed < 2 + SLACK, elapsed
    assert "not downloaded within the 2 s" in message


def test_an_attempt_is_cut_at_three_timeouts_and_retried_while_the_budget_allows(
    serve: Callable[..., Hostile], tmp_path: Path
) -> None:
    """Within a roomy budget each attempt still ends at three times ``timeout`` (0.3 s)."""

    def endless(h: BaseHTTPRequestHandler, server: Hostile) -> None:
        h.protocol_version = "HTTP/1.0"
        h.send_response(200)
        h.end_headers()
        while not server.pause(0.05):
            h.wfile.write(b"X")
            h.wfile.flush()

    server = serve(endless)
    source = make(server.url(), tmp_path, timeout=0.3, deadline_seconds=10, sleep=lambda _: None)
    elapsed, message = timed_failure(source)
    assert "took longer than 0.9 s (3 attempts)" in message
    assert len(server.targets) == 3
    assert elapsed < 3 * 0.9 + SLACK, elapsed


def test_a_server_that_never_answers_is_left_at_the_deadline(
    serve: Callable[..., Hostile], tmp_path: Path
) -> None:
    """Accepted, then silence: the 5 s per-operation timeout is cut to the 2 s budget."""

    def silent(_: BaseHTTPRequestHandler, server: Hostile) -> None:
        server.pause(60)

    server = serve(silent)
    elapsed, message = timed_failure(make(server.url(), tmp_path, timeout=5, deadline_seconds=2))
    assert elapsed < 2 + SLACK, elapsed
    assert "not downloaded within the 2 s" in message
    assert len(server.targets) == 1


def test_retries_and_their_waits_fit_the_budget(
    serve: Callable[..., Hostile], tmp_path: Path
) -> None:
    """Real waits: 503 with ``Retry-After: 1`` each time. The second wait would leave less than
    an attempt's worth of the download share, so the read ends after two attempts."""
    server = serve(reply(503, b"", {"Retry-After": "1"}))
    source = make(server.url(), tmp_path, timeout=1, deadline_seconds=3)
    elapsed, message = timed_failure(source)
    assert elapsed < 3, elapsed
    assert "HTTP 503 Service Unavailable (2 attempts; another would not fit in 3 s)" in message
    assert len(server.targets) == 2


def test_a_retry_after_longer_than_the_budget_is_not_waited_for(
    serve: Callable[..., Hostile], tmp_path: Path
) -> None:
    slept: list[float] = []
    server = serve(reply(429, b"", {"Retry-After": "25"}))
    source = make(server.url(), tmp_path, deadline_seconds=10, sleep=slept.append)
    elapsed, message = timed_failure(source)
    assert slept == []
    assert elapsed < 1, elapsed
    assert "HTTP 429 Too Many Requests (1 attempt; another would not fit in 10 s)" in message


def test_a_late_failure_still_falls_back_to_the_last_good_copy_in_time(
    serve: Callable[..., Hostile], tmp_path: Path
) -> None:
    served = iter([False])

    def good_then_silent(h: BaseHTTPRequestHandler, server: Hostile) -> None:
        if next(served, True):
            server.pause(60)
            return
        reply()(h, server)

    server = serve(good_then_silent)
    source = make(server.url(), tmp_path, timeout=5, deadline_seconds=2)
    assert uids(source.read_busy(START, END)) == ["one@example.com"]
    began = time.monotonic()
    read = source.read_busy(START, END)
    assert time.monotonic() - began < 2 + SLACK
    assert (read.fresh, uids(read)) == (False, ["one@example.com"])
    assert read.error is not None
    assert "not downloaded within the 2 s" in read.error


# Rules no up-front check can prove empty (a week of minutes, always landing on a Monday, asked
# for Tuesdays): only the deadline inside the expansion stops them.
MINUTELY_NEVER = (
    Path(__file__).parents[1] / "fixtures" / "ics" / "hostile" / "slow_never_matching.ics"
).read_bytes()


def test_never_matching_minutely_rules_end_within_the_budget(
    serve: Callable[..., Hostile], tmp_path: Path
) -> None:
    """Six rules the expander would search minute by minute for a day that never comes (about
    five seconds each): the parser gets the read's deadline, so the read ends within the budget
    and the last good copy stands in."""
    bodies = iter([ONE])

    def good_then_never(h: BaseHTTPRequestHandler, server: Hostile) -> None:
        reply(body=next(bodies, MINUTELY_NEVER))(h, server)

    server = serve(good_then_never)
    source = make(server.url(), tmp_path, deadline_seconds=2)  # two reads: about 4 s in all
    assert uids(source.read_busy(START, END)) == ["one@example.com"]
    began = time.monotonic()
    read = source.read_busy(START, END)
    elapsed = time.monotonic() - began
    assert elapsed < 2 + SLACK, elapsed
    assert (read.fresh, uids(read)) == (False, ["one@example.com"])
    assert read.error is not None
    assert "took longer than" in read.error
    elapsed, message = timed_failure(make(server.url(), tmp_path / "none", deadline_seconds=2))
    assert elapsed < 2 + SLACK, elapsed
    assert "took longer than" in message


# --------------------------------------------------------------------------------------------
# Memory: compressed bodies are decoded against the cap


def _bomb_blocks() -> tuple[bytes, bytes]:
    """One raw-deflate block inflating to 1 MiB of zeros (after a full flush every such block
    is byte-identical, so repeating it builds any size without compressing it), and the end."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = packer.compress(bytes(MiB)) + packer.flush(zlib.Z_FULL_FLUSH)
    return block, packer.flush()


BLOCK, FINAL = _bomb_blocks()
BOMB_MIB = 10 * 1024  # ~10 GiB inflated, ~10 MB on the wire
WRAPPERS = {
    # the gzip trailer (CRC, size) is left out: no reader gets that far
    "gzip": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff",
    "deflate": b"\x78\xda",  # a zlib stream, as RFC 9110 defines deflate
    "deflate-raw": b"",  # raw deflate, as some servers send it
}


def bomb(wrapper: bytes, encoding: str) -> Callable[[BaseHTTPRequestHandler, Hostile], None]:
    def behave(h: BaseHTTPRequestHandler, server: Hostile) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/calendar")
        h.send_header("Content-Encoding", encoding)
        h.send_header("Content-Length", str(len(wrapper) + BOMB_MIB * len(BLOCK) + len(FINAL)))
        h.end_headers()
        h.wfile.write(wrapper)
        for _ in range(BOMB_MIB):
            if server.stopping.is_set():
                return
            h.wfile.write(BLOCK)
        h.wfile.write(FINAL)

    return behave


@pytest.mark.parametrize("kind", WRAPPERS)
def test_a_compression_bomb_is_refused_at_the_cap(
    serve: Callable[..., Hostile], tmp_path: Path, kind: str
) -> None:
    """~10 GiB of zeros in ~10 MB (under the 20 MiB cap, so Content-Length lets it in): the
    decoder stops at 20 MiB + 1 byte; Python's own allocations peak near the cap, not the
    bomb (the old decoder reached 356 MB)."""
    server = serve(bomb(WRAPPERS[kind], kind.removesuffix("-raw")))
    source = make(server.url(), tmp_path, deadline_seconds=10)
    tracemalloc.start()
    try:
        elapsed, message = timed_failure(source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert f"larger than {CAP} bytes" in message
    assert peak < 60 * MiB, peak
    assert elapsed < 5, elapsed
    assert len(server.targets) == 1  # refused, not retried


ENCODED = {
    "gzip": gzip.compress(ONE),
    "x-gzip": gzip.compress(ONE),
    "deflate": zlib.compress(ONE),
    "identity": ONE,
    "gzip, identity": gzip.compress(ONE),
}


@pytest.mark.parametrize("encoding", ENCODED)
def test_compressed_calendars_are_read(
    serve: Callable[..., Hostile], tmp_path: Path, encoding: str
) -> None:
    server = serve(reply(body=ENCODED[encoding], headers={"Content-Encoding": encoding}))
    assert uids(make(server.url(), tmp_path).read_busy(START, END)) == ["one@example.com"]


def test_raw_deflate_and_multi_member_gzip_are_read(
    serve: Callable[..., Hostile], tmp_path: Path
) -> None:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    raw = packer.compress(ONE) + packer.flush()
    half = len(ONE) // 2
    members = gzip.compress(ONE[:half]) + gzip.compress(ONE[half:])
    for encoding, body in (("deflate", raw), ("gzip", members)):
        server = serve(reply(body=body, headers={"Content-Encoding": encoding}))
        read = make(server.url(), tmp_path / encoding).read_busy(START, END)
        assert uids(read) == ["one@example.com"], encoding


def test_the_decoded_cap_is_exact(serve: Callable[..., Hostile], tmp_path: Path) -> None:
    """A body of exactly the cap is read; one byte more is refused, compressed or not."""
    body = ONE.replace(b"END:VCALENDAR", b"X-PAD:" + b"p" * 4000 + b"\r\nEND:VCALENDAR")
    for encoding, wire in (("gzip", gzip.compress(body)), ("identity", body)):
        server = serve(reply(body=wire, headers={"Content-Encoding": encoding}))
        exact = make(server.url(), tmp_path / encoding, max_bytes=len(body))
        assert uids(exact.read_busy(START, END)) == ["one@example.com"]
        short = make(server.url(), tmp_path / f"{encoding}-short", max_bytes=len(body) - 1)
        _, message = timed_failure(short)
        assert f"larger than {len(body) - 1} bytes" in message


@pytest.mark.parametrize(
    ("encoding", "body", "expected"),
    [
        ("br", b"\x0b\x02\x80hello", "Content-Encoding 'br', which liftrun did not ask for"),
        ("zstd", b"\x28\xb5\x2f\xfd", "Content-Encoding 'zstd', which liftrun did not ask for"),
        ("gzip, gzip", gzip.compress(gzip.compress(ONE)), "only one is supported"),
        ("gzip", b"\x1f\x8b\x08\x00 this is not gzip", "the gzip body cannot be decoded"),
        ("deflate", b"\x78\x9c not deflate at all", "the deflate body cannot be decoded"),
    ],
)
def test_codings_not_asked_for_and_corrupt_bodies_are_refused(
    serve: Callable[..., Hostile], tmp_path: Path, encoding: str, body: bytes, expected: str
) -> None:
    server = serve(reply(body=body, headers={"Content-Encoding": encoding}))
    _, message = timed_failure(make(server.url(), tmp_path))
    assert expected in message
    assert len(server.targets) == 1


def test_a_gzip_body_cut_short_is_a_broken_transfer(
    serve: Callable[..., Hostile], tmp_path: Path
) -> None:
    """Close-delimited and cut before the gzip stream ends: retried like a broken connection."""
    cut = gzip.compress(ONE)[:-20]

    def truncated(h: BaseHTTPRequestHandler, _: Hostile) -> None:
        h.protocol_version = "HTTP/1.0"
        h.send_response(200)
        h.send_header("Content-Encoding", "gzip")
        h.end_headers()
        h.wfile.write(cut)
        h.close_connection = True  # the end of the body is the end of the connection

    server = serve(truncated)
    _, message = timed_failure(make(server.url(), tmp_path, sleep=lambda _: None))
    assert "the gzip body ends early (3 attempts)" in message


def test_gzip_is_asked_for_and_nothing_else(serve: Callable[..., Hostile], tmp_path: Path) -> None:
    seen: list[str | None] = []

    def record(h: BaseHTTPRequestHandler, server: Hostile) -> None:
        seen.append(h.headers.get("Accept-Encoding"))
        reply()(h, server)

    make(serve(record).url(), tmp_path).read_busy(START, END)
    assert seen == ["gzip, deflate"]


# --------------------------------------------------------------------------------------------
# Redirects


def _tls_pair(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A server context for 127.0.0.1 and the CA file that makes a client trust it."""
    cert_file, key_file = self_signed(directory)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file


@pytest.fixture
def tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A TLS server context whose certificate the source trusts (through ``SSL_CERT_FILE``, as
    with a private CA)."""
    directory = tmp_path / "tls"
    directory.mkdir()
    context, ca_file = _tls_pair(directory)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    return context


def test_https_sources_are_read_within_the_deadline_too(
    serve: Callable[..., Hostile], tmp_path: Path, tls: ssl.SSLContext
) -> None:
    """The deadline wraps the TLS stream as well: a good https source reads, a trickling one
    is left at the deadline."""
    good = serve(reply(), tls=tls)
    assert uids(make(good.url(), tmp_path).read_busy(START, END)) == ["one@example.com"]

    def trickle(h: BaseHTTPRequestHandler, server: Hostile) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(len(ONE)))
        h.end_headers()
        for byte in ONE:
            h.wfile.write(bytes([byte]))
            h.wfile.flush()
            if server.pause(0.5):
                return

    slow = serve(trickle, tls=tls)
    elapsed, _ = timed_failure(make(slow.url(), tmp_path / "slow", deadline_seconds=2))
    assert elapsed < 2 + SLACK, elapsed


def test_a_redirect_from_https_to_http_is_refused(
    serve: Callable[..., Hostile], tmp_path: Path, tls: ssl.SSLContext
) -> None:
    """The other host (127.0.0.2) never sees a request; the line names both ends, scrubbed."""
    plain = serve(reply(), host="127.0.0.2")
    target = plain.url(f"/{SECRET}/basic.ics")
    secure = serve(reply(301, b"", {"Location": target}), tls=tls)
    _, message = timed_failure(make(secure.url(f"/{SECRET}/basic.ics"), tmp_path))
    port_a, port_b = secure.httpd.server_address[1], plain.httpd.server_address[1]
    assert (
        f"refused a redirect from https to plain http (https://127.0.0.1:{port_a}/…/basic.ics"
        f" -> http://127.0.0.2:{port_b}/…/basic.ics)"
    ) in message
    assert SECRET not in message
    assert plain.targets == []
    assert len(secure.targets) == 1  # not retried


def test_a_redirect_from_http_to_https_is_followed(
    serve: Callable[..., Hostile], tmp_path: Path, tls: ssl.SSLContext
) -> None:
    secure = serve(reply(), tls=tls)
    plain = serve(reply(302, b"", {"Location": secure.url()}), host="127.0.0.2")
    assert uids(make(plain.url(), tmp_path).read_busy(START, END)) == ["one@example.com"]
    assert secure.targets == ["/calendar.ics"]


def test_a_redirect_to_a_file_is_refused(serve: Callable[..., Hostile], tmp_path: Path) -> None:
    server = serve(reply(302, b"", {"Location": "file:///etc/passwd"}))
    _, message = timed_failure(make(server.url(), tmp_path))
    assert "refused a redirect to a file:// address" in message
    assert "passwd" not in message


# --------------------------------------------------------------------------------------------
# Proxies from the environment still apply


def test_the_environment_proxy_is_used_and_no_proxy_respected(
    serve: Callable[..., Hostile], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = serve(reply(), host="127.0.0.2")
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.2:{proxy.httpd.server_address[1]}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    read = make("http://calendar.example.invalid/cal.ics", tmp_path).read_busy(START, END)
    assert uids(read) == ["one@example.com"]
    assert proxy.targets == ["http://calendar.example.invalid/cal.ics"]  # absolute form
    direct = serve(reply())
    make(direct.url(), tmp_path / "direct").read_busy(START, END)
    assert direct.targets == ["/calendar.ics"]
    assert len(proxy.targets) == 1


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "HTTPS_PROXY",
            "ftp://user:hunter2@proxy.invalid",
            "cannot use the proxy from the environment",
        ),
        ("SSL_CERT_FILE", "/nonexistent/ca.pem", "cannot load the trusted TLS certificates"),
    ],
)
def test_a_broken_environment_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    _, message = timed_failure(make("https://calendar.example.invalid/cal.ics", tmp_path))
    assert expected in message
    assert "hunter2" not in message


# --------------------------------------------------------------------------------------------
# Files: only regular files are read


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "busy.ics"
    os.mkfifo(path)
    return path


def test_a_fifo_is_refused_at_once(fifo: Path, tmp_path: Path) -> None:
    """Nothing writes to it: reading would wait forever (and ignore SIGTERM)."""
    elapsed, message = timed_failure(make(str(fifo), tmp_path))
    assert message == f"{fifo}: cannot read the file: not a regular file (a FIFO); {NO_COPY}"
    assert elapsed < 1, elapsed


def test_a_refused_file_with_an_unprintable_name_is_named_once(tmp_path: Path) -> None:
    """The file layer shows such a name as its repr, so the reason is taken whole, not cut off
    the file layer's message by the name."""
    odd = tmp_path / "busy\tcopy.ics"
    os.mkfifo(odd)
    _, message = timed_failure(make(str(odd), tmp_path))
    assert message == f"{odd}: cannot read the file: not a regular file (a FIFO); {NO_COPY}"


@pytest.mark.parametrize(
    ("path", "kind"), [("/dev/zero", "a device"), ("/dev/null", "a device"), ("/", "a directory")]
)
def test_devices_and_directories_are_refused_at_once(path: str, kind: str, tmp_path: Path) -> None:
    for location in (path, f"file://{path}"):
        elapsed, message = timed_failure(make(location, tmp_path))
        refused = f"cannot read the file: not a regular file ({kind})"
        assert message == f"{location}: {refused}; {NO_COPY}"
        assert elapsed < 1, elapsed


def test_a_fifo_that_replaced_a_good_file_falls_back_to_its_last_good_copy(
    tmp_path: Path,
) -> None:
    path = tmp_path / "work.ics"
    path.write_bytes(ONE)
    make(str(path), tmp_path).read_busy(START, END)
    path.unlink()
    os.mkfifo(path)
    read = make(str(path), tmp_path).read_busy(START, END)
    assert (read.fresh, uids(read)) == (False, ["one@example.com"])
    assert read.error is not None
    assert read.error.startswith(
        "cannot read the file: not a regular file (a FIFO); using the last good copy from "
    )
