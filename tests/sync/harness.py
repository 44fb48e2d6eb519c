"""A real sync set-up in a temporary directory: config file, a vdir training calendar the
"athlete" edits by rewriting files (as khal would), a vdir of busy time, and the state store."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar

from adapters.ical.busy import read_busy
from config.loader import LoadedConfig, load
from sync.engine import run_cycle
from sync.report import CycleReport
from sync.state import StateStore
from sync.wiring import build
from tests.athlete import athlete_toml
from tests.ics_events import ics_event, moved_ics

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2027, 1, 4, 5, 0, tzinfo=BERLIN)  # Monday of the plan's first week

SYNC_VDIR = """\
[sync]
horizon_days = {horizon}
freeze_hours = 12
[[calendars]]
kind = "vdir"
name = "training"
push_to = "training"
busy_from = ["busy"]
"""


@dataclass
class Rig:
    root: Path
    horizon: int = 28
    athlete: str = field(default_factory=athlete_toml)
    foreign: dict[str, bytes] = field(default_factory=dict)
    _uids: itertools.count[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        config = self.athlete + SYNC_VDIR.format(horizon=self.horizon)
        (self.root / "liftrun.toml").write_text(config)
        self.training.mkdir(exist_ok=True)
        self.busy.mkdir(exist_ok=True)

    @property
    def training(self) -> Path:
        return self.root / "training"

    @property
    def busy(self) -> Path:
        return self.root / "busy"

    def loaded(self) -> LoadedConfig:
        return load(str(self.root / "liftrun.toml"), {})

    def cycle(self, now: datetime, *, dry_run: bool = False) -> CycleReport:
        loaded = self.loaded()
        with StateStore(loaded.state_dir) as store:
            return run_cycle(loaded.settings, store, build(loaded, now), now=now, dry_run=dry_run)

    def store(self) -> StateStore:
        return StateStore(self.loaded().state_dir)

    # -- what the calendar holds --------------------------------------------------------------
    def events(self) -> dict[str, list[tuple[Path, icalendar.Component]]]:
        """Session id -> the files holding it (more than one would be a duplicate)."""
        out: dict[str, list[tuple[Path, icalendar.Component]]] = {}
        for path in sorted(self.training.glob("*.ics")):
            cal = icalendar.Calendar.from_ical(path.read_bytes())
            for ev in cal.walk("VEVENT"):
                sid = str(ev.get("X-LIFTRUN-SESSION", ""))
                if sid:
                    out.setdefault(sid, []).append((path, ev))
        return out

    def times(self) -> dict[str, tuple[datetime, datetime]]:
        return {
            sid: (evs[0][1].decoded("DTSTART"), evs[0][1].decoded("DTEND"))
            for sid, evs in self.events().items()
        }

    # -- what the athlete does ----------------------------------------------------------------
    def move(self, sid: str, delta: timedelta) -> tuple[datetime, datetime]:
        """Move a session in the calendar as a client does: new times, X- properties kept."""
        path, _ = self.events()[sid][0]
        data, when = moved_ics(path.read_bytes(), delta)
        path.write_bytes(data)
        return when

    def delete(self, sid: str) -> None:
        for path, _ in self.events()[sid]:
            path.unlink()

    def add_foreign(self, title: str, start: datetime) -> Path:
        uid = f"foreign-{next(self._uids)}@example.com"
        data = ics_event(uid, title, start, start + timedelta(hours=1))
        path = self.training / f"{uid}.ics"
        path.write_bytes(data)
        self.foreign[path.name] = data
        return path

    def add_busy(self, start: datetime, hours: float = 2.0, title: str = "Meeting") -> Path:
        uid = f"busy-{next(self._uids)}@example.com"
        path = self.busy / f"{uid}.ics"
        path.write_bytes(ics_event(uid, title, start, start + timedelta(hours=hours)))
        return path

    def busy_intervals(self) -> list[tuple[datetime, datetime]]:
        out = []
        lo, hi = datetime(2026, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC)
        for path in self.busy.glob("*.ics"):
            read = read_busy(path.read_bytes(), source=path.name, tz=BERLIN, start=lo, end=hi)
            out += [(b.start, b.end) for b in read.intervals]
        return out
