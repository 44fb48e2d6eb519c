"""Benchmark: liftrun's CalDAV traffic on Radicale, Xandikos and Cyrus, set up as a new user.

Each server gets a fresh account holding a busy calendar of 200 events (weekly meetings with
exceptions, one-offs) and a config the way the README's CalDAV example writes it: ``url``,
``username``, ``password``, no ``auth`` key. Every request goes through a pass-through proxy
(``tests/caldav/proxy.py``) that records it on the wire, 401 challenges included, and counts it
against the calendar whose path it is under ("account" is discovery: the URL given, the
well-known URI, the principal, the calendar home). The steps, through the real wiring
(``sync.wiring.build`` with a state store, as ``liftrun sync`` runs them):

- ``check``: ``liftrun check`` as the athlete runs it (a subprocess of the CLI), first thing;
- ``first``: the first sync cycle: discovery, MKCALENDAR, the initial push (a PUT a session);
- ``second``: the next cycle, the first read-back of what was pushed;
- ``idle``: a steady cycle, nothing changed (wall time: median of ``IDLE_RUNS``).

The issue's goals (issue 16): a first push costs one PUT per session plus O(1); an idle cycle
one request per calendar and no 401. Exit status 1 when a goal is missed. Wall times include
the proxy's own hop (well under a millisecond a request on loopback).

Run: ``.venv/bin/python benchmarks/bench_caldav.py [radicale xandikos cyrus]`` (starts its own
servers on loopback ports; Cyrus needs Debian's cyrus-imapd, cyrus-caldav and sasl2-bin).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from config.loader import load
from sync.engine import run_cycle
from sync.state import StateStore
from sync.wiring import build

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the servers, the proxy: tests/
from tests.caldav.proxy import Exchange, FaultProxy
from tests.caldav.servers import (
    KINDS,
    PASSWORD,
    Server,
    ServerUnavailable,
    fresh_account,
    make_calendar,
    put_event,
    start,
)
from tests.caldav.test_caldav_sync import CONFIG

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2027, 3, 15, 5, 0, tzinfo=BERLIN)
ROOT = Path(__file__).resolve().parents[1]
IDLE_RUNS = 10
FIRST_PUSH_OVERHEAD = 12  # requests beyond one PUT a session: discovery, MKCALENDAR, reads


def seed(server: Server) -> str:
    """The busy calendar; returns its URL."""
    url = make_calendar(server, "Work", "work")
    for i in range(200):
        day = NOW + timedelta(days=i % 60, hours=4 + (i % 5))
        end = day + timedelta(minutes=45)
        rule = "RRULE:FREQ=WEEKLY;COUNT=10\r\n" if i % 10 == 0 else ""
        put_event(
            server,
            f"{url}e{i}.ics",
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\n"
            f"UID:e{i}@bench\r\nDTSTAMP:20270101T000000Z\r\n"
            f"DTSTART:{day.astimezone(UTC):%Y%m%dT%H%M%SZ}\r\n"
            f"DTEND:{end.astimezone(UTC):%Y%m%dT%H%M%SZ}\r\n{rule}SUMMARY:Meeting {i}\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n",
        )
    return url


def calendar_paths(server: Server) -> dict[str, str]:
    """Display name -> path of every collection in the home, read straight from the server."""
    body = b'<?xml version="1.0"?><propfind xmlns="DAV:"><prop><displayname/></prop></propfind>'
    with server.http() as client:
        reply = client.request(
            "PROPFIND",
            server.home,
            content=body,
            headers={"Depth": "1", "Content-Type": "application/xml"},
        )
    assert reply.status_code == 207, reply.text
    found = {}
    for response in ET.fromstring(reply.content).iter("{DAV:}response"):
        name = response.findtext(".//{DAV:}displayname")
        href = unquote(response.findtext("{DAV:}href") or "")
        if name:
            found[name] = urlsplit(href).path
    return found


@dataclass(frozen=True)
class Step:
    """What one step cost on the wire."""

    name: str
    by_calendar: dict[str, int]
    challenges: int  # 401s
    methods: dict[str, int]
    wall: float  # seconds

    @property
    def puts(self) -> int:
        return self.methods.get("PUT", 0)

    @property
    def total(self) -> int:
        return sum(self.by_calendar.values())

    def line(self, kind: str) -> str:
        calendars = ", ".join(f"{k} {n}" for k, n in sorted(self.by_calendar.items()))
        methods = " ".join(f"{n} {k}" for k, n in sorted(self.methods.items()))
        return (
            f"{kind:9} {self.name:6} {self.total:3} requests {self.wall * 1000:5.0f} ms  "
            f"{self.challenges} x 401  [{calendars}]  [{methods}]"
        )


def tally(log: list[Exchange], calendars: dict[str, str], name: str, wall: float) -> Step:
    def owner(path: str) -> str:
        path = unquote(urlsplit(path).path)
        for label, prefix in calendars.items():
            if path.startswith(prefix):
                return label
        return "account"

    return Step(
        name,
        dict(Counter(owner(e.path) for e in log)),
        sum(e.status == 401 for e in log),
        dict(Counter(e.method for e in log)),
        wall,
    )


def cycle(config: Path, now: datetime) -> int:
    """One sync cycle as ``liftrun sync --once`` runs it; returns its writes."""
    loaded = load(str(config), {})
    with StateStore(loaded.state_dir) as store:
        wiring = build(loaded, now, store)
        report = run_cycle(loaded.settings, store, wiring, now=now)
        wiring.remember(store)
    assert not report.failed, report.as_dict()
    return report.writes


def check(config: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli", "check", "--config", str(config)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def measure(server: Server, root: Path) -> tuple[list[Step], bool]:
    account = fresh_account(server, "bench")
    seed(account)
    with FaultProxy(account.url) as proxy:
        login = (
            f'username = "{account.username}"\npassword = "{PASSWORD}"' if account.username else ""
        )
        config = root / "liftrun.toml"
        config.write_text(CONFIG.format(url=proxy.url, auth=login, push_to="Training", busy="Work"))

        def timed(run: Callable[[], object]) -> tuple[float, list[Exchange]]:
            proxy.clear_log()
            began = time.perf_counter()
            run()
            return time.perf_counter() - began, proxy.log

        def at(minutes: int) -> Callable[[], object]:
            return lambda: cycle(config, NOW + timedelta(minutes=minutes))

        recorded = {
            "check": timed(lambda: check(config)),
            "first": timed(at(0)),
            "second": timed(at(15)),
        }
        idle = [timed(at(30 + 15 * i)) for i in range(IDLE_RUNS)]
    calendars = calendar_paths(account)
    named = {k: calendars[k] for k in ("Work", "Training")}
    steps = [tally(log, named, name, wall) for name, (wall, log) in recorded.items()]
    last = tally(idle[-1][1], named, "idle", statistics.median(w for w, _ in idle))
    steps.append(last)
    first = steps[1]
    ok = (
        first.total - first.puts <= FIRST_PUSH_OVERHEAD
        and last.challenges == 0
        and all(n <= 1 for n in last.by_calendar.values())
        and "account" not in last.by_calendar
    )
    return steps, ok


def main(kinds: list[str]) -> int:
    ok = True
    for kind in kinds:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            try:
                server = start(kind, root / "server")
            except ServerUnavailable as why:
                print(f"{kind:9} skipped: {why}")
                continue
            try:
                steps, met = measure(server, root)
            finally:
                server.stop()
        for s in steps:
            print(s.line(kind))
        print(f"{kind:9} goals {'met' if met else 'MISSED'}")
        ok = ok and met
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or list(KINDS)))
