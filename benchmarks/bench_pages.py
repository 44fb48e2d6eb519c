"""Benchmark: the athlete's pages rendered from a 52-week plan (issue 15: the overview in
<= 50 ms).

What it measures (wall clock, ``time.perf_counter``, median of N after one warm-up):

1. the overview: building the view from the placed plan (``web.build.overview``) and rendering
   it with its two pictures (``web.pages.render_overview``), together and apart;
2. the week page and the session page (with ``--explain``'s account), for comparison.

The plan is built and placed once, outside the timing: the page is drawn from the plan a cycle
already placed. Run: ``.venv/bin/python benchmarks/bench_pages.py [N] [--out DIR]``; ``--out``
also writes the three pages to DIR to look at. Exits 1 when the overview's median is over
50 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planner.constraints import RuleBook
from web import build
from web.pages import render_overview, render_session, render_week
from web.preview import ACTIONS, sample, views, write

TARGET_MS = 50.0
WEEKS = 52


def median_ms(fn: Callable[[], object], n: int) -> float:
    fn()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", nargs="?", type=int, default=50)
    parser.add_argument("--out", type=Path, help="also write the pages here")
    args = parser.parse_args()
    s = sample(WEEKS)
    overview, _, session = views(s)
    rules = RuleBook.from_settings(s.settings)

    def build_overview() -> object:
        return build.overview(
            s.placed, now=s.now, outcomes=s.outcomes, health=s.health, actions=ACTIONS
        )

    def overview_page() -> str:
        return render_overview(
            build.overview(
                s.placed, now=s.now, outcomes=s.outcomes, health=s.health, actions=ACTIONS
            )
        )

    def week_page() -> str:
        return render_week(build.week(s.placed, s.now.date(), rules, now=s.now, busy=s.busy))

    def session_page() -> str:
        view = build.session(session.id, s.planned, s.placed, now=s.now, busy=s.busy)
        assert view is not None
        return render_session(view)

    rows = [
        ("overview, build + render", median_ms(overview_page, args.n)),
        ("overview, build only", median_ms(build_overview, args.n)),
        ("overview, render only", median_ms(lambda: render_overview(overview), args.n)),
        ("week, build + render", median_ms(week_page, args.n)),
        ("session, build + render", median_ms(session_page, args.n)),
    ]
    print(
        f"{WEEKS}-week plan, {len(s.placed.sessions)} sessions, "
        f"overview {len(overview_page()) // 1024} KiB; median of {args.n}"
    )
    for name, ms in rows:
        print(f"  {name:<28} {ms:7.2f} ms")
    if args.out:
        for path in write(args.out, WEEKS, s.now):
            print(path)
    worst = rows[0][1]
    verdict = "ok" if worst <= TARGET_MS else "OVER"
    print(f"overview {worst:.2f} ms against the {TARGET_MS:.0f} ms target: {verdict}")
    return 0 if worst <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
