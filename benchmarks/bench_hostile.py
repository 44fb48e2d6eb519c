"""Benchmark: the hostile-world guarantees of issue 13, measured on loopback with real processes.

Each figure is what an attacker or an unlucky user could do to liftrun, measured the way it
would happen: huge and never-matching calendars read by the busy reader, a source trickling a
byte a second, a ~10 GiB gzip bomb, ``liftrun sync --once`` held by a silent server and a FIFO
(stopped by SIGTERM, or left to its source timeout), and ``liftrun serve`` under a
256-descriptor limit holding 300 idle connections. Reads whose memory matters run in a fresh
interpreter that imports only liftrun's modules; their peak RSS is the child's own VmHWM, next
to what it had reached after its imports (not ``RUSAGE_CHILDREN``: on Linux ``ru_maxrss``
inherits the parent's high-water mark over fork and exec, so it would show this process's
peak), and the bomb's Python allocations are traced with tracemalloc. The servers,
hostile fixtures and configs are the tests' own (``tests/sync/hostile_servers.py``,
``tests/adapters/test_ics_source_hostile.py``, ``tests/fixtures/ics/hostile/``, ...). Last,
``benchmarks/bench_feed_server.py`` (wrk) runs when wrk is installed.

Run: ``.venv/bin/python benchmarks/bench_hostile.py [--runs N] [--skip-wrk] [--only 1,6]``;
about 65 s with wrk, 40 s without. Prints one Markdown table (progress on stderr); exits 1
when a figure misses its budget. It is one script of some 650 lines on purpose: the six
scenarios share the child-process runner and the table, and one run measures them all under the
same machine load, which is what makes the figures comparable with each other.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import httpx

from adapters.cache import Cache
from adapters.feed_token import FeedToken
from adapters.hardened_server import ServerLimits, connection_cap
from adapters.ical.busy import MAX_FILE_EVENTS, IcsParseError, IcsTooSlow, read_busy, read_busy_file
from adapters.ics.source import IcsSource
from adapters.protocol import SourceUnavailable

# The tests' servers, fixtures and configs are imported where they are used (noqa: PLC0415), so
# that the child interpreters measuring memory load only liftrun's modules: pytest, cryptography
# and the test modules would add ~60 MB to their RSS.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
if TYPE_CHECKING:
    from tests.adapters.test_ics_source_hostile import Hostile

BERLIN = ZoneInfo("Europe/Berlin")
HOSTILE = ROOT / "tests" / "fixtures" / "ics" / "hostile"
LIFTRUN = Path(sys.executable).parent / "liftrun"  # .venv/bin/liftrun, the installed command
MiB = 1 << 20

EVENTS = 100_000
WINDOW = (datetime(2027, 3, 1, tzinfo=BERLIN), datetime(2027, 8, 1, tzinfo=BERLIN))  # 5 months
SPREAD_START, SPREAD_DAYS = datetime(2024, 1, 1, tzinfo=UTC), 7 * 365  # 7 years around the window
FD_LIMIT, IDLE_CONNECTIONS = 256, 300
SERVE_WATCH_SECONDS = 10.0
HEADER_TIMEOUT = ServerLimits(max_connections=1).header_timeout  # serve's default


@dataclass
class Row:
    what: str
    budget: str
    measured: str
    ok: bool = True


# --------------------------------------------------------------------------------------------
# Children: one read in a fresh interpreter, reported as one JSON line on stdout


def high_water_kib() -> int:
    """This process's peak RSS (VmHWM). Not ``getrusage``: on Linux its ``ru_maxrss`` carries
    the parent's high-water mark over fork and exec, so a child spawned by a big parent would
    report the parent's peak; VmHWM starts afresh with the new program."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def child_main(kind: str, target: str) -> None:
    """Run in the child: import, note the RSS reached, do one read, print what happened."""
    report: dict[str, object] = {"rss_start_kib": high_water_kib()}
    started = time.perf_counter()
    try:
        if kind == "read-file":
            read = read_busy_file(Path(target), tz=BERLIN, start=WINDOW[0], end=WINDOW[1])
            report["outcome"] = f"{len(read.intervals)} busy intervals"
        elif kind == "bomb":
            tracemalloc.start()
            with tempfile.TemporaryDirectory() as cache:
                source = IcsSource(target, cache=Cache(Path(cache)), tz=BERLIN, deadline_seconds=10)
                source.read_busy(*WINDOW)
            report["outcome"] = "read (not refused)"
        else:
            raise SystemExit(f"unknown child {kind!r}")
    except (IcsParseError, SourceUnavailable) as exc:
        report["refused"] = str(exc)
    report["seconds"] = time.perf_counter() - started
    if tracemalloc.is_tracing():
        report["python_peak"] = tracemalloc.get_traced_memory()[1]
    report["peak_rss_kib"] = high_water_kib()
    print(json.dumps(report))


@dataclass
class ChildRead:
    seconds: float
    refused: str  # the one line of a refusal, "" when the read succeeded
    outcome: str
    rss_start_kib: int  # the child's peak RSS after its imports, before the read
    peak_rss_kib: int
    python_peak: int  # tracemalloc's peak in bytes, 0 when not traced


def in_child(kind: str, target: str) -> ChildRead:
    """One read in a fresh interpreter that imports only liftrun's modules."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, target],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"child {kind} exited {done.returncode}: {done.stderr[-500:]}")
    report = json.loads(done.stdout)
    return ChildRead(
        seconds=float(report["seconds"]),
        refused=str(report.get("refused", "")),
        outcome=str(report.get("outcome", "")),
        rss_start_kib=int(report["rss_start_kib"]),
        peak_rss_kib=int(report["peak_rss_kib"]),
        python_peak=int(report.get("python_peak", 0)),
    )


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


# --------------------------------------------------------------------------------------------
# 1. 100,000 events through read_busy_file


def calendar(events: int, first: datetime, days: int) -> bytes:
    """``events`` half-hour meetings spread evenly over ``days`` from ``first`` (UTC)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//liftrun//bench//EN"]
    step = timedelta(days=days) / events
    for i in range(events):
        start = (first + i * step).replace(second=0, microsecond=0)
        lines += [
            "BEGIN:VEVENT",
            f"UID:e{i}@bench.example",
            "DTSTAMP:20261201T000000Z",
            f"SUMMARY:Meeting {i}",
            f"DTSTART:{start:%Y%m%dT%H%M%S}Z",
            f"DTEND:{start + timedelta(minutes=30):%Y%m%dT%H%M%S}Z",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def big_files(tmp: Path, runs: int) -> list[Row]:
    spread, inside = tmp / "spread.ics", tmp / "inside.ics"
    spread.write_bytes(calendar(EVENTS, SPREAD_START, SPREAD_DAYS))
    inside.write_bytes(calendar(EVENTS, datetime(2027, 3, 1, tzinfo=UTC), 120))
    rows = []
    reads = [in_child("read-file", str(spread)) for _ in range(runs)]
    best = min(r.seconds for r in reads)
    peak = max(r.peak_rss_kib for r in reads)
    first = reads[0]
    rows.append(
        Row(
            f"`read_busy_file`, {EVENTS:,} events over 7 years ({spread.stat().st_size / 1e6:.0f}"
            " MB), a 5-month window",
            "read, < 5 s, < 200 MiB peak RSS (ics_busy: 'a few seconds and tens of MB'; "
            "issue, `plan --busy` uncapped: 30 s, 400 MB)",
            f"{first.outcome or first.refused}; best of {runs} {best:.2f} s; "
            f"peak RSS {mib(peak)} ({mib(first.rss_start_kib)} after imports)",
            not first.refused and best < 5 and peak < 200 * 1024,
        )
    )
    refusals = [in_child("read-file", str(inside)) for _ in range(runs)]
    best = min(r.seconds for r in refusals)
    peak = max(r.peak_rss_kib for r in refusals)
    refused = refusals[0].refused
    rows.append(
        Row(
            f"`read_busy_file`, {EVENTS:,} events all inside the window",
            f"refused (> {MAX_FILE_EVENTS:,} events), < 1 s",
            f"{'refused' if refused else 'NOT refused'} in {best:.2f} s (best of {runs}); "
            f"peak RSS {mib(peak)}",
            f"more than {MAX_FILE_EVENTS} events" in refused and best < 1,
        )
    )
    return rows


# --------------------------------------------------------------------------------------------
# 2. Rules that never match


def never_matching(runs: int) -> list[Row]:
    data = (HOSTILE / "never_matching_minutely.ics").read_bytes()
    assert data.count(b"RRULE:FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30") == 6
    timings, warned = [], 0
    for _ in range(runs):
        began = time.perf_counter()
        read = read_busy(data, source="never.ics", tz=BERLIN, start=WINDOW[0], end=WINDOW[1])
        timings.append(time.perf_counter() - began)
        warned = sum("never occurs" in w for w in read.warnings)
    best = min(timings)
    rows = [
        Row(
            "six `RRULE:FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30` through `read_busy`",
            "< 0.5 s, caught before expanding (issue: 79 s)",
            f"{best * 1000:.0f} ms (best of {runs}); {warned} of 6 warned 'never occurs'",
            best < 0.5 and warned == 6,
        )
    ]
    timings, outcome = [], ""
    for _ in range(runs):
        began = time.perf_counter()
        try:
            read_busy_file(
                HOSTILE / "slow_never_matching.ics",
                tz=BERLIN,
                start=WINDOW[0],
                end=WINDOW[1],
                deadline=time.monotonic() + 1.0,
            )
            outcome = "read (no IcsTooSlow)"
        except IcsTooSlow:
            outcome = "IcsTooSlow"
        timings.append(time.perf_counter() - began)
    best = min(timings)
    rows.append(
        Row(
            "`slow_never_matching.ics` with a 1 s deadline",
            "IcsTooSlow within 1.5 s",
            f"{outcome} after {best:.2f} s (best of {runs}, worst {max(timings):.2f} s)",
            outcome == "IcsTooSlow" and max(timings) < 1.5,
        )
    )
    return rows


# --------------------------------------------------------------------------------------------
# 3. and 4. IcsSource against hostile servers


def trickle(tmp: Path) -> Row:
    from tests.sync.hostile_servers import Stalling  # noqa: PLC0415

    with Stalling(trickle=True) as server:
        source = IcsSource(
            server.url("/trickle.ics"),
            cache=Cache(tmp / "trickle-cache"),
            tz=BERLIN,
            timeout=2,
            deadline_seconds=3,
        )
        began = time.monotonic()
        try:
            source.read_busy(*WINDOW)
            outcome = "returned"
        except SourceUnavailable:
            outcome = "SourceUnavailable"
        took = time.monotonic() - began
    return Row(
        "`IcsSource` vs a 1 byte/s trickle (timeout 2 s, deadline_seconds 3)",
        "fails within 3 s (issue: ~150 s an attempt)",
        f"{outcome} after {took:.2f} s",
        outcome == "SourceUnavailable" and took <= 3.0,
    )


@contextmanager
def serving(behave: Callable[..., None]) -> Iterator[Hostile]:
    from tests.adapters.test_ics_source_hostile import Hostile  # noqa: PLC0415

    server = Hostile(behave)
    server.thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.httpd.shutdown()
        server.httpd.server_close()


def gzip_bomb() -> Row:
    from tests.adapters.test_ics_source_hostile import (  # noqa: PLC0415
        BLOCK,
        BOMB_MIB,
        WRAPPERS,
        bomb,
    )

    with serving(bomb(WRAPPERS["gzip"], "gzip")) as server:
        read = in_child("bomb", server.url())
        asked = len(server.targets)
    at_cap = "larger than" in read.refused
    return Row(
        f"`IcsSource` vs a gzip bomb ({BOMB_MIB // 1024} GiB of zeros in "
        f"{BOMB_MIB * len(BLOCK) / 1e6:.1f} MB, Content-Length under the cap)",
        "refused at the 20 MiB cap in < 5 s, Python peak < 60 MiB (SECURITY.md: 0.1 s, "
        "21 MiB; issue: 356 MB)",
        f"{'refused at the cap' if at_cap else 'NOT refused'} in {read.seconds:.2f} s, "
        f"{asked} request; peak RSS {mib(read.peak_rss_kib)} ({mib(read.rss_start_kib)} after "
        f"imports), Python peak {read.python_peak / MiB:.1f} MiB (tracemalloc)",
        at_cap and read.seconds < 5 and read.python_peak < 60 * MiB,
    )


# --------------------------------------------------------------------------------------------
# 5. liftrun sync --once held by a silent server and a FIFO


def spawn_sync(config: Path) -> subprocess.Popen[str]:
    from tests.sync.test_hostile_sources import NOW  # noqa: PLC0415

    cmd = [str(LIFTRUN), "sync", "--once", "--now", NOW, "--format", "json"]
    return subprocess.Popen(
        [*cmd, "--config", str(config)],
        cwd=config.parent,
        env={**os.environ, "CI": "true"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def report_field(out: str, key: str) -> object:
    with suppress(ValueError, AttributeError):
        return json.loads(out).get(key)
    return None


def sync_once(tmp: Path) -> list[Row]:
    from tests.sync.hostile_servers import Stalling  # noqa: PLC0415
    from tests.sync.test_hostile_sources import write_config  # noqa: PLC0415

    rows = []
    held = tmp / "held"
    held.mkdir()
    fifo = held / "busy.fifo"
    os.mkfifo(fifo)
    with Stalling() as silent:
        config = write_config(held, silent.url("/silent.ics"), str(fifo), timeout=120)
        proc = spawn_sync(config)
        deadline = time.monotonic() + 20
        while silent.accepted == 0 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        time.sleep(2)
        proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        try:
            out, err = proc.communicate(timeout=30)
            took: float | None = time.monotonic() - sent
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            took = None
        asked = silent.accepted
    ended = (
        "still running 30 s after SIGTERM (killed)"
        if took is None
        else f"exited {took:.2f} s after SIGTERM"
    )
    rows.append(
        Row(
            "`liftrun sync --once` (silent server + FIFO, source_timeout_seconds=120): "
            "SIGTERM 2 s after the server was asked",
            "exits < 5 s after it (SECURITY.md: about a second), code 0 or 3, no traceback "
            "(issue: alive at 400 s, SIGTERM ignored)",
            f"{ended}, code {proc.returncode}, stopped={report_field(out, 'stopped')}, "
            f"server asked {asked}x" + (", TRACEBACK" if "Traceback" in err else ""),
            took is not None and took < 5 and proc.returncode in (0, 3) and "Traceback" not in err,
        )
    )
    timed = tmp / "timed"
    timed.mkdir()
    fifo = timed / "busy.fifo"
    os.mkfifo(fifo)
    with Stalling() as silent:
        config = write_config(timed, silent.url("/silent.ics"), str(fifo), timeout=3)
        began = time.monotonic()
        proc = spawn_sync(config)
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        took_s = time.monotonic() - began
    sources = report_field(out, "sources")
    failed = sum(not s["ok"] for s in sources.values()) if isinstance(sources, dict) else "?"
    rows.append(
        Row(
            "`liftrun sync --once` (silent server + FIFO, source_timeout_seconds=3), no signal",
            "exit 3 with both sources failed, < 9 s from spawn (0.9 x 3 s + interpreter start)",
            f"{took_s:.2f} s from spawn, exit {proc.returncode}, {failed} sources failed"
            + (", TRACEBACK" if "Traceback" in err else ""),
            proc.returncode == 3 and failed == 2 and took_s < 9 and "Traceback" not in err,
        )
    )
    return rows


# --------------------------------------------------------------------------------------------
# 6. liftrun serve under 256 descriptors, 300 idle connections


def _limit_descriptors() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


class ClosureWatch:
    """Records, for each socket, the seconds from its connect until the server closed it."""

    def __init__(self, socks: list[tuple[socket.socket, float]]) -> None:
        self.closed_after: list[float] = []
        self._selector = selectors.DefaultSelector()
        for sock, connected in socks:
            sock.setblocking(False)
            self._selector.register(sock, selectors.EVENT_READ, connected)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    gone = sock.recv(65536) == b""
                except BlockingIOError:
                    continue
                except OSError:  # reset
                    gone = True
                if gone:
                    self.closed_after.append(time.monotonic() - key.data)
                    self._selector.unregister(sock)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._selector.close()


@dataclass
class Flood:
    latencies: list[float]
    statuses: set[int]
    feed_status: int
    server_fds: int
    closed_after: list[float]
    log: str  # the server's stderr when the watch ends


def flood(proc: subprocess.Popen[bytes], port: int, site: Path, log: Path) -> Flood:
    """Open the idle connections, time /healthz under them, watch them until the log is read."""
    base = f"http://127.0.0.1:{port}"
    idle: list[tuple[socket.socket, float]] = []
    watch: ClosureWatch | None = None
    try:
        opened = time.monotonic()
        for _ in range(IDLE_CONNECTIONS):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            idle.append((sock, time.monotonic()))
        watch = ClosureWatch(idle)
        time.sleep(0.3)  # let the server accept them
        server_fds = len(list(Path(f"/proc/{proc.pid}/fd").iterdir()))
        latencies, statuses = [], set()
        # a new connection per request, as a health checker makes them; one client, so that
        # its set-up (~20 ms for httpx's TLS context) is not counted as the server's time
        with httpx.Client(headers={"Connection": "close"}, timeout=5) as client:
            for _ in range(20):
                began = time.monotonic()
                statuses.add(client.get(f"{base}/healthz").status_code)
                latencies.append(time.monotonic() - began)
        token = FeedToken(site / "state").get()
        feed_status = httpx.get(f"{base}/{token}/liftrun.ics", timeout=5).status_code
        time.sleep(max(0.0, opened + SERVE_WATCH_SECONDS - time.monotonic()))
        log_text = log.read_text(errors="replace")
    finally:
        if watch is not None:
            watch.stop()
        for sock, _ in idle:
            sock.close()
    return Flood(latencies, statuses, feed_status, server_fds, watch.closed_after, log_text)


def serve_under_flood(tmp: Path) -> list[Row]:
    from tests.adapters.test_feed_server import (  # noqa: PLC0415
        ICS,
        free_port,
        wait_for_http,
        write_config,
    )

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4 * IDLE_CONNECTIONS  # this process holds the idle sockets
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    site = tmp / "serve"
    site.mkdir()
    port = free_port()
    config = write_config(site, port)
    (site / "out").mkdir()
    (site / "out" / "liftrun.ics").write_bytes(ICS)
    log = site / "serve.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [str(LIFTRUN), "serve", "--config", str(config)],
            cwd=site,
            env={**os.environ, "CI": "true"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            preexec_fn=_limit_descriptors,  # noqa: PLW1509  # one setrlimit, no threads yet
        )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz")
        seen = flood(proc, port, site, log)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
    if os.environ.get("BENCH_SHOW_LOG"):
        print(log.read_text(errors="replace"), file=sys.stderr)
    closed = seen.closed_after
    in_deadline = sum(after <= HEADER_TIMEOUT + 0.5 for after in closed)
    median = statistics.median(seen.latencies)
    cap = connection_cap(FD_LIMIT)
    lines = seen.log.splitlines()
    ours = sum("liftrun.feed.access:" in line for line in lines)  # our own 22 requests
    tracebacks = seen.log.count("Traceback")
    emfile = seen.log.count("Too many open files")
    return [
        Row(
            f"`liftrun serve` (RLIMIT_NOFILE={FD_LIMIT}) holding {IDLE_CONNECTIONS} idle "
            "connections: `/healthz`",
            "answers 200, median < 1 s (issue: no answer)",
            f"median {median * 1000:.1f} ms of 20 (max {max(seen.latencies) * 1000:.1f} ms), "
            f"statuses {sorted(seen.statuses)}, feed {seen.feed_status}; server descriptors "
            f"{seen.server_fds}",
            seen.statuses == {200} and seen.feed_status == 200 and median < 1,
        ),
        Row(
            f"… idle connections closed by the server within its {HEADER_TIMEOUT:.0f} s "
            "header deadline",
            f"all {IDLE_CONNECTIONS} (the oldest at the {cap}-connection cap at once, the rest "
            f"at {HEADER_TIMEOUT:.0f} s; issue: open 25 s and more)",
            f"{in_deadline} of {IDLE_CONNECTIONS} within {HEADER_TIMEOUT:.0f} s (+0.5 s); "
            f"{len(closed)} within {SERVE_WATCH_SECONDS:.0f} s"
            + (f", the last after {max(closed):.1f} s" if closed else ""),
            in_deadline == IDLE_CONNECTIONS,
        ),
        Row(
            f"… the server's stderr log {SERVE_WATCH_SECONDS:.0f} s after the connections opened",
            "a few lines besides the access lines of our 22 requests, no traceback, no 'Too "
            "many open files' (issue: 58 MB in 25 s); exit 0 on SIGTERM",
            f"{len(seen.log.encode()):,} bytes: {ours} access lines + {len(lines) - ours} other "
            f"lines, {tracebacks} tracebacks, {emfile} 'Too many open files'; exit {code}",
            len(lines) - ours <= 10 and tracebacks == 0 and emfile == 0 and code == 0,
        ),
    ]


# --------------------------------------------------------------------------------------------
# 7. bench_feed_server.py, when wrk is there


def feed_server_wrk(skip: bool) -> Row:
    what, budget = "`bench_feed_server.py` (wrk, 304 conditional GETs)", ">= 1,000 req/s"
    if skip:
        return Row(what, budget, "skipped (--skip-wrk)")
    if shutil.which("wrk") is None:
        return Row(what, budget, "skipped: wrk is not installed (`which wrk` finds nothing)")
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_feed_server.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if "req/s" in line]
    shown = "; ".join(" ".join(line.split()) for line in lines) or done.stderr.strip()[-200:]
    return Row(what, budget, f"{shown} (exit {done.returncode})", done.returncode == 0)


# --------------------------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    out = ["| what | budget / expectation | measured |", "|---|---|---|"]
    for row in rows:
        measured = row.measured if row.ok else f"**{row.measured} (over budget)**"
        out.append(f"| {row.what} | {row.budget} | {measured} |")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="best of N for the reader figures")
    parser.add_argument("--skip-wrk", action="store_true", help="leave out bench_feed_server.py")
    parser.add_argument(
        "--only", type=lambda v: {int(n) for n in v.split(",")}, help="figures, e.g. 1,6"
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    # the sources' warnings are the very failures measured here: keep them off the terminal
    logging.getLogger().addHandler(logging.NullHandler())
    if args.child:
        child_main(*args.child)
        return 0
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="liftrun-hostile-") as name:
        tmp = Path(name)
        steps: list[tuple[str, Callable[[], list[Row]]]] = [
            ("1. 100,000-event files", lambda: big_files(tmp, args.runs)),
            ("2. never-matching rules", lambda: never_matching(args.runs)),
            ("3. a trickling source", lambda: [trickle(tmp)]),
            ("4. a gzip bomb", lambda: [gzip_bomb()]),
            ("5. sync --once held by a silent server and a FIFO", lambda: sync_once(tmp)),
            ("6. serve under 300 idle connections", lambda: serve_under_flood(tmp)),
            ("7. bench_feed_server.py", lambda: [feed_server_wrk(args.skip_wrk)]),
        ]
        for number, (label, step) in enumerate(steps, 1):
            if args.only and number not in args.only:
                continue
            began = time.monotonic()
            print(f"{label} ...", end=" ", file=sys.stderr, flush=True)
            rows += step()
            print(f"{time.monotonic() - began:.1f} s", file=sys.stderr, flush=True)
    print(table(rows))
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
