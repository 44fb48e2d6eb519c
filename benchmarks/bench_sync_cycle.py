"""Benchmark: the CPU cost of a steady-state sync cycle (issue 5's budget: <= 150 ms).

Set-up: the sample athlete (Europe/Berlin), a 28-day horizon, three ICS file sources of 2,000
events each (meetings spread over a year around the horizon, a fifth of them in the athlete's
windows), an ICS feed target and the SQLite state store. After a first cycle has pushed the
horizon, each measured cycle is exactly what the loop does every interval with nothing changed:
build the calendars, read the three sources, read the feed back, place, diff, journal. CPU time
(``time.process_time``) is measured, so disk and network waits are excluded, as the issue asks.

It also reports how the cost grows with the horizon and with the number of busy events.

Run: ``.venv/bin/python benchmarks/bench_sync_cycle.py [--profile]``; exits 1 over budget.
"""

from __future__ import annotations

import cProfile
import pstats
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from config.loader import load
from sync.loop import one_cycle
from sync.state import StateStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the shared athlete of the tests
from tests.athlete import athlete_toml

BUDGET = 0.150
RUNS = 15
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2027, 2, 1, 5, 0, tzinfo=BERLIN)

CONFIG = (
    athlete_toml()
    + """\
[sync]
horizon_days = {horizon}
[[calendars]]
kind = "ics"
push_to = "out/liftrun.ics"
busy_from = [{sources}]
"""
)


def calendar(seed: int, events: int) -> str:
    rng = random.Random(seed)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN"]
    first = NOW - timedelta(days=180)
    for i in range(events):
        day = first + timedelta(days=rng.randrange(365))
        hour = rng.choice([7, 9, 10, 11, 13, 14, 15, 16, 18, 19]) if rng.random() < 0.2 else 10
        start = day.replace(hour=hour, minute=rng.choice([0, 30]))
        end = start + timedelta(minutes=rng.choice([30, 45, 60, 90]))
        lines += [
            "BEGIN:VEVENT",
            f"UID:bench-{seed}-{i}@example.com",
            "DTSTAMP:20261201T000000Z",
            f"DTSTART;TZID=Europe/Berlin:{start:%Y%m%dT%H%M%S}",
            f"DTEND;TZID=Europe/Berlin:{end:%Y%m%dT%H%M%S}",
            f"SUMMARY:Meeting {i}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def setup(root: Path, *, horizon: int, events: int, sources: int = 3) -> Path:
    paths = []
    for k in range(sources):
        path = root / f"source{k}.ics"
        path.write_text(calendar(k, events))
        paths.append(f'"{path}"')
    config = root / "liftrun.toml"
    config.write_text(CONFIG.format(horizon=horizon, sources=", ".join(paths)))
    return config


def measure(config: Path, runs: int = RUNS, profile: bool = False) -> tuple[float, int]:
    loaded = load(str(config), {})
    with StateStore(loaded.state_dir) as store:
        first = one_cycle(loaded, store, now=NOW)
        pushed = first.writes
        samples = []
        profiler = cProfile.Profile() if profile else None
        for i in range(runs):
            now = NOW + timedelta(minutes=15 * (i + 1))
            if profiler:
                profiler.enable()
            t0 = time.process_time()
            report = one_cycle(loaded, store, now=now)
            samples.append(time.process_time() - t0)
            if profiler:
                profiler.disable()
            assert report.writes == 0 and not report.failed, report.as_dict()
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return statistics.median(samples), pushed


def main(argv: list[str]) -> int:
    profile = "--profile" in argv
    with tempfile.TemporaryDirectory() as tmp:
        config = setup(Path(tmp), horizon=28, events=2000)
        cpu, pushed = measure(config, profile=profile)
    verdict = "ok" if cpu <= BUDGET else "OVER BUDGET"
    print(
        f"steady-state cycle, 28-day horizon, 3 x 2,000 busy events, ICS feed target: "
        f"{cpu * 1000:.1f} ms CPU (median of {RUNS}; first cycle pushed {pushed}) "
        f"budget {BUDGET * 1000:.0f} ms: {verdict}"
    )
    print("\ngrowth (median CPU ms per steady cycle):")
    print("horizon days | 3 x 500 events | 3 x 2,000 events | 3 x 8,000 events")
    for horizon in (7, 28, 84):
        row = []
        for events in (500, 2000, 8000):
            with tempfile.TemporaryDirectory() as tmp:
                ms, _ = measure(setup(Path(tmp), horizon=horizon, events=events), runs=5)
            row.append(f"{ms * 1000:.1f}")
        print(f"{horizon:>12} | " + " | ".join(f"{c:>14}" for c in row))
    return 0 if cpu <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
