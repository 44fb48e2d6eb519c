"""Benchmark: sync cycles against real CalDAV servers (Radicale and Xandikos from PyPI).

For each server: a busy calendar of 200 events (weekly meetings with exceptions, one-offs) and a
Training calendar liftrun creates. Reports, per calendar, the HTTP requests of the first cycle
(discovery, MKCALENDAR, the initial push of four weeks of sessions: one PUT per session) and of
a steady cycle (nothing changed), with wall-clock and CPU time of each. The issue's budgets:
initial push = one PUT per session plus O(1); steady cycle <= 3 requests per calendar.

Run: ``.venv/bin/python benchmarks/bench_caldav.py`` (starts its own servers on loopback ports).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from adapters.caldav.source import CalDAVSource
from adapters.caldav.target import CalDAVTarget
from config.loader import load
from sync.engine import run_cycle
from sync.state import StateStore
from sync.wiring import build

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the servers live with the tests
from tests.caldav.servers import PASSWORD, Server, make_calendar, put_event, start
from tests.caldav.test_caldav_sync import CONFIG

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2027, 3, 15, 5, 0, tzinfo=BERLIN)
STEADY_RUNS = 10


def seed(server: Server) -> None:
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


def one(config: Path, now: datetime) -> tuple[dict[str, int], float, float, int]:
    loaded = load(str(config), {})
    with StateStore(loaded.state_dir) as store:
        wall, cpu = time.perf_counter(), time.process_time()
        wiring = build(loaded, now, store)
        report = run_cycle(loaded.settings, store, wiring, now=now)
        wiring.remember(store)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert not report.failed, report.as_dict()
    counts = {}
    for source in wiring.sources:
        assert isinstance(source, CalDAVSource)
        counts[f"busy {source.calendar}"] = source.requests_made
    for spec in wiring.targets:
        assert isinstance(spec.target, CalDAVTarget)
        counts["Training"] = spec.target.requests_made
    return counts, wall, cpu, report.writes


def main() -> int:
    ok = True
    for kind in ("radicale", "xandikos"):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            server = start(kind, root / "server")
            try:
                seed(server)
                auth = (
                    f'username = "{server.username}"\npassword = "{PASSWORD}"\nauth = "basic"'
                    if server.username
                    else ""
                )
                config = root / "liftrun.toml"
                config.write_text(
                    CONFIG.format(url=server.url, auth=auth, push_to="Training", busy="Work")
                )
                first, wall, cpu, pushed = one(config, NOW)
                print(
                    f"{kind}: first cycle pushed {pushed} sessions: requests {first}, "
                    f"{wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU"
                )
                walls, cpus = [], []
                for i in range(STEADY_RUNS):
                    counts, wall, cpu, writes = one(config, NOW + timedelta(minutes=15 * (i + 1)))
                    assert writes == 0
                    walls.append(wall)
                    cpus.append(cpu)
                    ok = ok and all(n <= 3 for n in counts.values())
                print(
                    f"{kind}: steady cycle: requests {counts}, "
                    f"{statistics.median(walls) * 1000:.0f} ms wall, "
                    f"{statistics.median(cpus) * 1000:.0f} ms CPU (median of {STEADY_RUNS})"
                )
                ok = ok and first["Training"] - pushed <= 12
            finally:
                server.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
