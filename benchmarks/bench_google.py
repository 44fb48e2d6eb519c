"""Request counts and cycle times of the Google adapter, against the Calendar v3 emulator in
``tests/google_emulator`` through the real google-api-python-client.

The issue's budgets: an initial push of N sessions in <= ceil(N/50) + 3 requests; a steady
cycle (nothing changed) in <= 3 requests. Counts are the emulator's own request log (a batch is
one HTTP request, as the adapters count them), split into the Training calendar's and the
free/busy source's.

Run: ``.venv/bin/python benchmarks/bench_google.py``; exits 1 over budget.
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from config.loader import load
from sync.engine import run_cycle
from sync.state import StateStore
from sync.wiring import build

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the emulator lives with the tests
from tests.google.test_google_sync import CONFIG
from tests.google_emulator import running_emulator

NOW = datetime(2027, 1, 4, 5, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def run(horizon: int) -> bool:
    with tempfile.TemporaryDirectory() as tmp, running_emulator() as emu:
        config = Path(tmp) / "liftrun.toml"
        config.write_text(
            CONFIG.format(horizon=horizon, auth="none", token="", endpoint=emu.api_endpoint)
        )
        loaded = load(str(config), {})
        ok = True
        for label, now in (("initial push", NOW), ("steady cycle", NOW + timedelta(minutes=15))):
            wall, cpu = time.perf_counter(), time.process_time()
            with StateStore(loaded.state_dir) as store:
                wiring = build(loaded, now, store)
                report = run_cycle(loaded.settings, store, wiring, now=now)
                wiring.remember(store)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            (spec,) = wiring.targets
            (source,) = wiring.sources
            training = getattr(spec.target, "requests_made", 0)
            busy = getattr(source, "requests_made", 0)
            n = report.targets["google"].created
            budget = math.ceil(n / 50) + 3 if label == "initial push" else 3
            ok = ok and training <= budget and busy <= 3
            print(
                f"{horizon:>3}-day horizon, {label}: {n} created, Training calendar "
                f"{training} requests (budget {budget}), free/busy {busy}; "
                f"{wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU"
            )
        return ok


def main() -> int:
    ok = all([run(28), run(168)])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
