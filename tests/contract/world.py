"""One athlete, one calendar of the kind under test, busy time and the state store: a cycle is
run the way ``liftrun sync --once`` runs it (config loaded, ``sync.wiring.build``, the engine,
what the calendars learned kept), optionally with a fault at one write of the target."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from config.loader import LoadedConfig, load
from sync.engine import run_cycle
from sync.report import CycleReport
from sync.state import EventRow, StateStore
from sync.wiring import build
from tests.athlete import athlete_toml
from tests.contract.backends import BERLIN, TARGET, Backend, foreign_ics
from tests.contract.faults import Fault, FaultyTarget

START = datetime(2027, 1, 4, 5, 0, tzinfo=BERLIN)  # Monday of the plan's first week
FREEZE_HOURS = 12
SYNC = """\
[sync]
horizon_days = {horizon}
freeze_hours = {freeze}
[[calendars]]
kind = "vdir"
name = "busy"
busy_from = ["busy"]
"""


@dataclass
class World:
    root: Path
    calendar: Backend
    horizon: int = 14
    busy: list[tuple[datetime, datetime]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        sync = SYNC.format(horizon=self.horizon, freeze=FREEZE_HOURS)
        (self.root / "liftrun.toml").write_text(
            athlete_toml() + sync + self.calendar.calendar_toml()
        )
        (self.root / "busy").mkdir(exist_ok=True)

    def loaded(self) -> LoadedConfig:
        return load(str(self.root / "liftrun.toml"), {})

    def cycle(
        self, now: datetime, *, fault: Fault | None = None, dry_run: bool = False
    ) -> CycleReport:
        """One cycle; with ``fault`` the target fails at that write (``Crash`` propagates)."""
        loaded = self.loaded()
        with StateStore(loaded.state_dir) as store:
            wiring = build(loaded, now, store, persist=not dry_run)
            if fault is not None:
                wiring.targets = [
                    replace(spec, target=FaultyTarget(spec.target, fault))
                    for spec in wiring.targets
                ]
            report = run_cycle(loaded.settings, store, wiring, now=now, dry_run=dry_run)
            if not dry_run:
                wiring.remember(store)
        return report

    def rows(self) -> dict[str, EventRow]:
        """What the state store holds of the target's events."""
        with StateStore(self.loaded().state_dir) as store:
            return store.events(TARGET)

    def edits_taken_in(self) -> tuple[set[str], set[str]]:
        """The sessions the store holds as moved (pinned) and as deleted by hand (tombstoned)."""
        with StateStore(self.loaded().state_dir) as store:
            return set(store.pins()), set(store.tombstones())

    # -- busy time ------------------------------------------------------------------------------
    def add_busy(self, start: datetime, hours: float = 2.0) -> None:
        end = start + timedelta(hours=hours)
        _, data = foreign_ics(start, end, title="Meeting")
        (self.root / "busy" / f"busy-{next(self._ids)}.ics").write_bytes(data)
        self.busy.append((start, end))

    def clear_busy(self) -> None:
        for path in (self.root / "busy").glob("*.ics"):
            path.unlink()
        self.busy.clear()

    def overlapping_busy(self, now: datetime) -> list[str]:
        """Sessions that lie in busy time although liftrun was free to move them."""
        freeze = now + timedelta(hours=FREEZE_HOURS)
        return sorted(
            s.session_id
            for s in self.calendar.seen()
            if s.start >= freeze and any(s.start < e and b < s.end for b, e in self.busy)
        )
