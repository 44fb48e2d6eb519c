"""The feed server against hostile clients, all real sockets on loopback: silent and trickling
connections, a flood past the descriptor limit, clients that stop reading, odd request paths
carrying a token, log-forging paths, malformed bodies."""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from adapters.feed_token import FeedToken
from adapters.hardened_server import (
    RateLimitedLog,
    ServerLimits,
    accept_batch,
    connection_cap,
)
from cli.feed import feed
from tests.adapters.test_feed_server import (
    ICS,
    ROOT,
    Site,
    free_port,
    running_site,
    wait_for_http,
    write_config,
)

IDLE_CONNECTIONS = 300
FD_LIMIT = 256


@pytest.fixture(autouse=True)
def _enough_descriptors_here() -> None:
    """The test process holds the hostile sockets: give it room (CI's default may be 1024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4 * IDLE_CONNECTIONS
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with running_site(tmp_path) as running:
        yield running


@pytest.fixture
def quick(tmp_path: Path) -> Iterator[Site]:
    """A server with deadlines of a second, so that waiting them out keeps tests short."""
    limits = ServerLimits(max_connections=50, header_timeout=1.0, response_timeout=1.0)
    with running_site(tmp_path, limits) as site:
        yield site


def connect(site: Site) -> socket.socket:
    host, port = site.base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


def closed_by_server(sock: socket.socket, within: float) -> float | None:
    """Seconds until the server closed ``sock`` (reading and dropping what it sent), or None."""
    started = time.monotonic()
    sock.settimeout(0.05)
    while time.monotonic() - started < within:
        try:
            if sock.recv(65536) == b"":
                return time.monotonic() - started
        except TimeoutError:
            continue
        except ConnectionResetError:
            return time.monotonic() - started
    return None


def raw_request(site: Site, data: bytes, *, wait: float = 3.0) -> bytes:
    """``data`` sent as is, and everything the server answers until it closes or goes quiet."""
    with connect(site) as sock:
        sock.sendall(data)
        sock.settimeout(wait)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and b"connection: close" not in answer.lower():
                    sock.settimeout(0.2)  # a keep-alive answer: take what follows, then stop
        except (TimeoutError, ConnectionResetError):
            pass
    return answer


def wait_for_lines(caplog: pytest.LogCaptureFixture, count: int) -> list[logging.LogRecord]:
    deadline = time.monotonic() + 3  # the access line is written after the response went out
    while time.monotonic() < deadline:
        records = [r for r in caplog.records if r.name == "liftrun.feed.access"]
        if len(records) >= count:
            return records
        time.sleep(0.01)
    raise AssertionError(f"expected {count} access lines, got {caplog.records}")


# -- limits ---------------------------------------------------------------------------------


def test_the_cap_leaves_room_for_a_burst_of_accepts_under_the_descriptor_limit() -> None:
    assert connection_cap(256) == 192
    assert connection_cap(1024) == 864
    assert connection_cap(1_048_576) == connection_cap(resource.RLIM_INFINITY) == 1000
    for limit in (32, 64, 100, 256, 1024, 4096):
        assert 1 <= connection_cap(limit) + 4 * accept_batch(limit) + 10 < limit


def test_a_flood_of_events_is_a_few_counted_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="liftrun.feed")
    report = RateLimitedLog(logging.getLogger("liftrun.feed"), interval=0.2)

    async def flood() -> None:
        for i in range(3000):  # 0.5 s of events whose detail changes each time
            report.note(logging.WARNING, f"cannot accept: EMFILE ({i} open)", kind="accept")
            if i % 100 == 0:
                await asyncio.sleep(0.016)
        report.close()

    asyncio.run(flood())
    lines = caplog.messages
    assert 2 <= len(lines) <= 5, lines
    assert lines[0] == "cannot accept: EMFILE (0 open)"
    counted = [int(m.split("(")[-1].split()[0]) for m in lines[1:]]
    assert 1 + sum(counted) == 3000, lines
    assert lines[-1].startswith("cannot accept: EMFILE (2999 open) (")


# -- deadlines ------------------------------------------------------------------------------


def test_a_silent_connection_is_closed_at_the_header_deadline(quick: Site) -> None:
    with connect(quick) as sock:
        took = closed_by_server(sock, within=3)
    assert took is not None and 0.8 < took < 2.0, took


def test_a_slowloris_trickle_does_not_extend_the_header_deadline(quick: Site) -> None:
    with connect(quick) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        closed = False
        for i in range(40):  # one header byte every 0.1 s: 4 s if nobody stops it
            try:
                sock.sendall(b"X-a: b\r\n"[i % 8 : i % 8 + 1])
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            if closed_by_server(sock, within=0.1) is not None:
                closed = True
                break
        took = time.monotonic() - started
    assert closed, "the trickling connection was never closed"
    assert took < 2.0, took


def test_an_idle_keep_alive_connection_is_closed(quick: Site) -> None:
    with connect(quick) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /heal")  # half a second request, then nothing
        took = closed_by_server(sock, within=3)
    assert took is not None and took < 2.0, took


def test_a_client_that_stops_reading_is_dropped_at_the_response_deadline(tmp_path: Path) -> None:
    """uvicorn closes the idle keep-alive connection first (gracefully: after the buffered
    response went out, i.e. never); the response deadline still drops it."""
    limits = ServerLimits(max_connections=50, response_timeout=1.5, keep_alive=1)
    with running_site(tmp_path, limits) as site:
        big = ICS * (8 * 1024 * 1024 // len(ICS))  # far more than the socket buffers hold
        site.feed.write_bytes(big)
        with connect(site) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(
                f"GET /{site.token}/liftrun.ics HTTP/1.1\r\nHost: x\r\n"
                "Accept-Encoding: identity\r\n\r\n".encode()
            )
            time.sleep(2.5)
            took = closed_by_server(sock, within=3)  # reads what was buffered, then the reset
    assert took is not None, "the server kept sending to a client that was not reading"


# -- the cap --------------------------------------------------------------------------------


def test_at_the_cap_the_oldest_idle_connection_makes_room(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="liftrun.feed")
    limits = ServerLimits(max_connections=5, header_timeout=30)
    with running_site(tmp_path, limits) as site:
        idle = [connect(site) for _ in range(5)]
        time.sleep(0.2)
        r = httpx.get(f"{site.base}/healthz", timeout=2)
        assert r.status_code == 200
        assert closed_by_server(idle[0], within=1) is not None  # the oldest made room
        assert all(closed_by_server(s, within=0.05) is None for s in idle[1:])
        for s in idle:
            s.close()
    assert any("oldest idle connection: 5 connections is the cap" in m for m in caplog.messages)


def test_when_every_connection_is_busy_a_newcomer_gets_503(tmp_path: Path) -> None:
    limits = ServerLimits(max_connections=3, response_timeout=30)
    with running_site(tmp_path, limits) as site:
        site.feed.write_bytes(ICS * (8 * 1024 * 1024 // len(ICS)))
        request = (
            f"GET /{site.token}/liftrun.ics HTTP/1.1\r\nHost: x\r\n"
            "Accept-Encoding: identity\r\n\r\n"
        ).encode()
        busy = []
        for _ in range(3):  # each asks for 8 MB and reads none of it
            s = connect(site)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(request)
            busy.append(s)
        time.sleep(0.5)
        answer = raw_request(site, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", wait=2)
        for s in busy:
            s.close()
    assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n"), answer
    assert b"retry-after: 60" in answer


# -- 300 idle connections against the real `liftrun serve` under 256 descriptors -------------


def _launch(code: str, tmp_path: Path, name: str) -> tuple[subprocess.Popen[bytes], Path]:
    """``python -c code`` from the project root, its stderr in a file (size is asserted)."""
    log = tmp_path / f"{name}.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    return proc, log


def _stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def _open_idle(port: int, count: int) -> list[socket.socket]:
    socks = []
    for _ in range(count):
        s = socket.socket()
        s.settimeout(5)
        s.connect(("127.0.0.1", port))
        socks.append(s)
    return socks


def test_healthz_answers_while_300_idle_connections_are_held_under_256_descriptors(
    tmp_path: Path,
) -> None:
    """The real ``serve`` in a process limited to 256 descriptors; before the cap, /healthz
    never answered and the log grew by ~8 MB a second of "Too many open files" tracebacks."""
    port = free_port()
    config = write_config(tmp_path, port)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "liftrun.ics").write_bytes(ICS)
    proc, log = _launch(
        f"""
        import resource, runpy, sys
        resource.setrlimit(resource.RLIMIT_NOFILE, ({FD_LIMIT}, {FD_LIMIT}))
        sys.argv = ["liftrun", "serve", "--config", {str(config)!r}]
        runpy.run_module("cli", run_name="__main__")
        """,
        tmp_path,
        "serve",
    )
    idle: list[socket.socket] = []
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz")
        idle = _open_idle(port, IDLE_CONNECTIONS)
        time.sleep(0.3)  # let the server accept them all
        server_fds = len(list(Path(f"/proc/{proc.pid}/fd").iterdir()))
        started = time.monotonic()
        r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        took = time.monotonic() - started
        assert r.status_code == 200
        token = FeedToken(tmp_path / "state").get()
        feed = httpx.get(f"http://127.0.0.1:{port}/{token}/liftrun.ics", timeout=5)
        assert feed.content == ICS
    finally:
        for s in idle:
            s.close()
        code = _stop(proc)
    text = log.read_text()
    print(
        f"healthz under {IDLE_CONNECTIONS} idle connections: {took * 1000:.0f} ms; "
        f"server descriptors {server_fds}; log {log.stat().st_size} bytes"
    )
    assert code == 0, text
    assert took < 1.0, took
    assert server_fds <= connection_cap(FD_LIMIT) + 4 * accept_batch(FD_LIMIT) + 16
    assert log.stat().st_size < 2000, text
    assert "Traceback" not in text
    assert "Too many open files" not in text
    assert "oldest idle connection: 192 connections is the cap" in text


def test_accept_errors_are_counted_not_logged_one_by_one(tmp_path: Path) -> None:
    """A cap set above the descriptor limit on purpose, so that accepting does fail: asyncio
    would log a traceback for every try (thousands a second); here one line, then a count."""
    port = free_port()
    feed_path = tmp_path / "liftrun.ics"
    feed_path.write_bytes(ICS)
    proc, log = _launch(
        f"""
        import logging, resource, signal
        from pathlib import Path
        from adapters.feed_server import create_app, listen_socket
        from adapters.feed_token import FeedToken
        from adapters.hardened_server import HardenedServer, ServerLimits
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
        app = create_app(Path({str(feed_path)!r}), FeedToken(Path({str(tmp_path / "state")!r})))
        limits = ServerLimits(max_connections=1000, header_timeout=1.0, accept_batch=8)
        signal.signal(signal.SIGTERM, lambda *_: None)  # as serve does: a stop exits 0
        HardenedServer(app, limits).run(listen_socket("127.0.0.1", {port}))
        """,
        tmp_path,
        "emfile",
    )
    idle: list[socket.socket] = []
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz")
        idle = _open_idle(port, 150)
        time.sleep(2.5)  # a few of asyncio's one-second retries; header deadlines free some
        # once the silent ones are gone, the server is back
        for s in idle:
            s.close()
        idle = []
        assert wait_for_http(f"http://127.0.0.1:{port}/healthz").status_code == 200
    finally:
        for s in idle:
            s.close()
        code = _stop(proc)
    text = log.read_text()
    assert code == 0, text
    accept_lines = [line for line in text.splitlines() if "cannot accept connections" in line]
    assert accept_lines, text
    assert "Too many open files" in accept_lines[0]
    assert len(accept_lines) <= 2, text  # the first at once, the rest as one count at the end
    assert "more since the last such line" in accept_lines[-1] or len(accept_lines) == 1
    assert "Traceback" not in text
    assert log.stat().st_size < 3000, text


# -- what the access log shows --------------------------------------------------------------


def test_odd_path_forms_never_log_a_token(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="liftrun.feed.access")
    revoked = site.token
    result = CliRunner().invoke(feed, ["rotate-token", "--config", str(site.config)])
    assert result.exit_code == 0, result.output
    current = FeedToken(site.state).get()
    typo = current[:20] + "." + current[21:]
    encoded = "".join(f"%{ord(c):02X}" for c in current)
    targets = []
    for tok in (revoked, current, typo):
        targets += [
            f"/{tok}/liftrun.ics",
            f"//{tok}/liftrun.ics",
            f"/%2F{tok}/liftrun.ics",
            f"/%252F{tok}/liftrun.ics",
            f"/x/{tok}/liftrun.ics",
            f"/x/liftrun.ics;{tok}",
            f"http://evil.example/{tok}/liftrun.ics",
            f"http://evil.example//{tok}/busy.ics",
        ]
    targets += [f"/x/{encoded}", f"/{encoded}/liftrun.ics"]
    for target in targets:
        request = f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        answer = raw_request(site, request.encode())
        assert answer.startswith((b"HTTP/1.1 404", b"HTTP/1.1 200", b"HTTP/1.1 400")), target
    lines = [r.getMessage() for r in wait_for_lines(caplog, len(targets))]
    logged = "\n".join(lines)
    for secret in (revoked, current, typo, current[:16], current[-16:], encoded[:24]):
        assert secret not in logged
    assert logged.count("<token>") >= len(targets)


def test_control_characters_in_a_path_are_escaped(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="liftrun.feed.access")
    raw_request(
        site,
        b"GET /x/a%0a1.2.3.4%20%22GET%20/forged%22%20200/%1b[2J%e2%80%ae HTTP/1.1\r\n"
        b"Host: x\r\n\r\n",
    )
    (line,) = [r.getMessage() for r in wait_for_lines(caplog, 1)]
    assert "\n" not in line and "\x1b" not in line and "\u202e" not in line
    assert '/<token>/a\\n1.2.3.4 "GET /forged" 200/\\x1b[2J\\u202e"' in line


def test_a_trailing_slash_is_a_plain_404_without_a_redirect(site: Site) -> None:
    answer = raw_request(
        site,
        f"GET /{site.token}/liftrun.ics/ HTTP/1.1\r\nHost: evil.example\r\n\r\n".encode(),
    )
    assert answer.startswith(b"HTTP/1.1 404 ")
    assert b"location" not in answer.lower()
    assert b"evil.example" not in answer


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_malformed_chunked_body_is_a_400_without_a_traceback(
    site: Site, caplog: pytest.LogCaptureFixture, method: str
) -> None:
    caplog.set_level(logging.INFO)
    bad = (
        f"{method} /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nxx\r\n"
    )
    answers = [raw_request(site, bad.encode()) for _ in range(5)]
    late = f"{method} /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    with connect(site) as sock:  # the headers first, the bad chunk once the answer is out
        sock.sendall(late.encode())
        time.sleep(0.2)
        sock.sendall(b"ZZZ\r\nxx\r\n")
        assert closed_by_server(sock, within=2) is not None
    time.sleep(0.2)
    for answer in answers:
        assert answer == b"" or answer.startswith(b"HTTP/1.1 400 "), answer
    assert not [r for r in caplog.records if r.exc_info], caplog.text
    assert "Exception in ASGI application" not in caplog.text
    assert "Traceback" not in caplog.text
    assert httpx.get(f"{site.base}/healthz").status_code == 200


# -- `serve` and its log --------------------------------------------------------------------


def test_serve_logs_json_lines_and_never_the_token(tmp_path: Path) -> None:
    """``serve --log-format json`` with stdout a pipe (a container): hostile requests,
    then every stderr line is JSON and neither stream carries the token."""
    port = free_port()
    config = write_config(tmp_path, port)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "liftrun.ics").write_bytes(ICS)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli",
            "serve",
            "--config",
            str(config),
            "--log-format",
            "json",
        ],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz")
        token = FeedToken(tmp_path / "state").get()
        site = Site(f"http://127.0.0.1:{port}", Path(), Path(), Path(), token, config)
        for target in (f"//{token}/liftrun.ics", f"/{token}/liftrun.ics", "/x/%0a%1b"):
            raw_request(site, f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        raw_request(site, b"GET /healthz HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n")
    finally:
        code = _stop(proc)
    stdout, stderr = (b.decode() for b in proc.communicate())
    assert code == 0, stderr
    assert token not in stdout + stderr
    assert "Traceback" not in stderr
    entries = [json.loads(line) for line in stderr.splitlines()]
    access = [e["message"] for e in entries if e["logger"] == "liftrun.feed.access"]
    assert len(access) >= 4, entries
    assert any('"GET //<token>/liftrun.ics" 404' in m for m in access)


def test_sigterm_ends_serve_promptly_while_a_client_stalls_a_response(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, port)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "liftrun.ics").write_bytes(ICS * (4 * 1024 * 1024 // len(ICS)))
    proc, log = _launch(
        f"""
        import sys, runpy
        sys.argv = ["liftrun", "serve", "--config", {str(config)!r}]
        runpy.run_module("cli", run_name="__main__")
        """,
        tmp_path,
        "serve",
    )
    token = FeedToken(tmp_path / "state").get()
    stalled = socket.socket()
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz")
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(("127.0.0.1", port))
        stalled.sendall(
            f"GET /{token}/liftrun.ics HTTP/1.1\r\nHost: x\r\n"
            "Accept-Encoding: identity\r\n\r\n".encode()
        )
        time.sleep(0.5)
        started = time.monotonic()
        code = _stop(proc)
        took = time.monotonic() - started
    finally:
        stalled.close()
        if proc.poll() is None:
            proc.kill()
    assert code == 0, log.read_text()
    print(f"SIGTERM to exit with a stalled reader: {took:.2f} s")
    assert took < 6.0, took  # the 3 s grace for responses going out, then exit (3.3-3.9 s)
