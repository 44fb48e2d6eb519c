"""Render one year of sessions (~260 events) as the ICS feed; budget 50 ms (issue: ICS adapter).

Run: .venv/bin/python benchmarks/bench_feed_render.py   (exit 1 when over budget)
Measures a first render (every event built) and a steady-state render (every event re-emitted
from the previous feed), best of 7, plus the commit that finds nothing to write.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from adapters.ics.feed import IcsFeedTarget
from adapters.protocol import content_hash
from config.models import Settings
from planner.constraints import RuleBook
from planner.placement import apply_placement, place
from planner.plan import build_plan

BUDGET_S = 0.050
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def year_of_sessions() -> tuple:  # type: ignore[type-arg]
    windows = ["06:00-08:00", "17:30-21:30"]
    settings = Settings(
        timezone="Europe/Berlin",
        athlete={"bodyweight_kg": 72.5, "lift_days": 3, "run_days": 2},
        availability=dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), windows)
        | {"sat": ["07:00-12:00"], "sun": ["08:00-11:00"]},
    )
    plan = build_plan(settings, date(2027, 1, 4), 52)
    result = place(plan.sessions, RuleBook.from_settings(settings), [], now=NOW)
    return apply_placement(plan, result).sessions


def timed(fn, runs: int = 7) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return min(out), statistics.median(out)


def main() -> int:
    sessions = year_of_sessions()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "liftrun.ics"

        def first() -> None:
            path.unlink(missing_ok=True)
            target = IcsFeedTarget(path, name="bench", timezone="Europe/Berlin", now=NOW)
            for s in sessions:
                target.create(s, content_hash(s, 30))
            target.render()

        best_first, med_first = timed(first)
        target = IcsFeedTarget(path, name="bench", timezone="Europe/Berlin", now=NOW)
        for s in sessions:
            target.create(s, content_hash(s, 30))
        target.commit()
        size = path.stat().st_size
        reread = IcsFeedTarget(path, name="bench", timezone="Europe/Berlin", now=NOW)
        best_steady, med_steady = timed(reread.render)
        best_read, med_read = timed(
            lambda: IcsFeedTarget(path, name="bench", timezone="Europe/Berlin", now=NOW)
        )
        best_commit, _ = timed(reread.commit)
    print(f"{len(sessions)} sessions, feed {size / 1024:.0f} KiB")
    for label, best, median in (
        ("render, all events built", best_first, med_first),
        ("render, events from last feed", best_steady, med_steady),
        ("read back the previous feed", best_read, med_read),
        ("commit with nothing changed", best_commit, best_commit),
    ):
        print(f"  {label:<30} best {best * 1000:6.1f} ms  median {median * 1000:6.1f} ms")
    ok = best_first <= BUDGET_S
    print(f"budget {BUDGET_S * 1000:.0f} ms for rendering one year: {'ok' if ok else 'EXCEEDED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
