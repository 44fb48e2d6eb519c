"""Benchmark: an action on the athlete's page reaches the calendars (issue 15's budget: <= 5 s).

Set-up: the sample athlete, a 21-day horizon, a vdir training calendar and an ICS feed, the
SQLite state store, one first cycle pushed. Each measured run marks a session done with a new
effort (``sync.actions.record_done``), asks for a cycle as the page does, and times the wall
clock until both target files hold the new line. Two deployments are measured:

- ``serve`` alone: ``sync.page_cycle.PageCycles`` runs the cycle on a background thread;
- ``serve`` beside a ``sync`` loop (an hour's interval, under the sync lock): the wake file
  (``sync.wake``) ends the loop's sleep.

Run: ``.venv/bin/python benchmarks/bench_actions.py``; exits 1 over budget.
"""

from __future__ import annotations

import functools
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from config.loader import load
from sync import actions, wake
from sync.lock import StateLock
from sync.loop import one_cycle, run_loop
from sync.page_cycle import PageCycles
from sync.state import StateStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the shared athlete of the tests
from tests.athlete import athlete_toml

BUDGET = 5.0
RUNS = 5

CONFIG = (
    athlete_toml()
    + """\
[sync]
horizon_days = 21
interval_minutes = 60
[[calendars]]
kind = "vdir"
name = "training"
push_to = "training"
[[calendars]]
kind = "ics"
push_to = "out/liftrun.ics"
"""
)


def _files(root: Path, sid: str) -> list[Path]:
    vdir = [p for p in (root / "training").glob("*.ics") if sid.encode() in p.read_bytes()]
    return [*vdir, root / "out" / "liftrun.ics"]


def _reached(files: list[Path], line: str) -> bool:
    # iCalendar folds long lines at 75 octets: unfold before looking
    return all(line in p.read_text().replace("\r\n ", "") for p in files)


def _measure(root: Path, ask: functools.partial[None], sids: list[str], start: int) -> list[float]:
    loaded = load(str(root / "liftrun.toml"), {})
    out = []
    for k, sid in enumerate(sids):
        effort = (start + k) % 10 + 1
        line = f"Done - effort {effort}/10: bench {start + k}"
        files = _files(root, sid)
        t0 = time.monotonic()
        with StateStore(loaded.state_dir) as store:
            actions.record_done(store, sid, datetime.now(UTC), effort, f"bench {start + k}")
        ask()
        while not _reached(files, line):
            if time.monotonic() - t0 > 30:
                raise SystemExit(f"{sid}: the action did not reach the targets in 30 s")
            time.sleep(0.02)
        out.append(time.monotonic() - t0)
    return out


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="bench-actions-"))
    (root / "liftrun.toml").write_text(CONFIG)
    (root / "training").mkdir()
    loaded = load(str(root / "liftrun.toml"), {})
    with StateStore(loaded.state_dir) as store:
        one_cycle(loaded, store, now=datetime.now(UTC))
        sids = sorted(store.placements())[: 2 * RUNS]

    reload = functools.partial(load, str(root / "liftrun.toml"), {})
    page = PageCycles(reload)
    alone = _measure(root, functools.partial(page.request), sids[:RUNS], 0)
    page.join(30)

    stop = threading.Event()

    def loop() -> None:
        with StateLock(loaded.state_dir), StateStore(loaded.state_dir) as store:
            run_loop(reload, loaded, store, stop, on_report=lambda r: None)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    time.sleep(2)  # its first cycle
    ask = functools.partial(wake.request_cycle, loaded.state_dir)
    beside = _measure(root, ask, sids[RUNS:], RUNS)
    stop.set()
    thread.join(30)

    worst = max(alone + beside)
    for name, times in (("serve alone (PageCycles)", alone), ("beside the loop (wake)", beside)):
        print(
            f"{name}: median {statistics.median(times):.2f} s, worst {max(times):.2f} s "
            f"over {len(times)} actions (action -> vdir and ICS feed files changed)"
        )
    print(f"budget {BUDGET:.1f} s: {'ok' if worst <= BUDGET else 'OVER'}")
    return 0 if worst <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
