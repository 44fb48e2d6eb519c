"""Where the athlete's soreness reports live until the state store (sync issue) takes them over.

A small JSON file in the state directory, written atomically (temp file, fsync, rename) so a
crash never leaves half a file; the planner receives the reports as plain data (L6).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from adapters.atomic import atomic_write
from planner.phases import monday_of
from planner.sessions import Soreness

FILE_NAME = "soreness.json"


class SorenessStoreError(Exception):
    pass


def _path(state_dir: Path) -> Path:
    return state_dir / FILE_NAME


def load(state_dir: Path) -> dict[date, Soreness]:
    path = _path(state_dir)
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {date.fromisoformat(k): Soreness(v) for k, v in raw.items()}
    except (OSError, ValueError, AttributeError) as exc:
        raise SorenessStoreError(f"{path}: cannot read soreness reports ({exc})") from None


def record(state_dir: Path, day: date, level: Soreness) -> date:
    """Store ``level`` for the week containing ``day``; returns that week's Monday."""
    reports = load(state_dir)
    week = monday_of(day)
    if level is Soreness.NONE:
        reports.pop(week, None)
    else:
        reports[week] = level
    data = json.dumps({k.isoformat(): v.value for k, v in sorted(reports.items())}, indent=2)
    atomic_write(_path(state_dir), (data + "\n").encode())
    return week
