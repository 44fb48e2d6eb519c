"""The athlete's soreness reports (L6), kept in the state store.

Reports written by liftrun before the store existed (``soreness.json``) are imported once and
the file renamed (and made private: an older liftrun wrote it with the umask's mode), so
nothing the athlete told liftrun is lost in the upgrade.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from adapters.private_files import check_private_file
from config.files import FileRefused, read_text_file
from planner.lift_load import Soreness
from planner.phases import monday_of

if TYPE_CHECKING:
    from sync.state import StateStore

LEGACY_FILE = "soreness.json"
LEGACY_CAP = 1 << 20  # a report per week: a few KiB in the longest plan


class SorenessStoreError(Exception):
    pass


def _import_legacy(store: StateStore, state_dir: Path) -> None:
    path = state_dir / LEGACY_FILE
    if not path.exists():
        return
    try:
        raw = json.loads(read_text_file(path, LEGACY_CAP))
        reports = {date.fromisoformat(k): Soreness(v) for k, v in raw.items()}
    except FileRefused as exc:
        raise SorenessStoreError(f"cannot read soreness reports: {exc}") from None
    except (ValueError, AttributeError) as exc:
        raise SorenessStoreError(f"{path}: cannot read soreness reports ({exc})") from None
    with store.transaction():
        for week, level in reports.items():
            store.set_soreness(monday_of(week), level)
    imported = path.with_suffix(".json.imported")
    path.rename(imported)
    with contextlib.suppress(OSError):  # imported already; a link there is left, not followed
        check_private_file(imported, "imported soreness reports")


def load(state_dir: Path) -> dict[date, Soreness]:
    """The reports by week. Without a state directory (``liftrun plan`` alone never creates
    one) the store, and sqlite3 with it, is never imported: a plan starts faster."""
    if not state_dir.is_dir():
        return {}
    from sync.state import DB_NAME, StateError, StateStore

    if not (state_dir / DB_NAME).exists() and not (state_dir / LEGACY_FILE).exists():
        return {}
    try:
        with StateStore(state_dir) as store:
            _import_legacy(store, state_dir)
            return store.soreness()
    except StateError as exc:
        raise SorenessStoreError(str(exc)) from None


def record(state_dir: Path, day: date, level: Soreness) -> date:
    """Store ``level`` for the week containing ``day``; returns that week's Monday. The page's
    soreness buttons take the same path (``sync.actions.set_soreness``)."""
    from sync.actions import set_soreness  # the store only when it is used
    from sync.state import StateError, StateStore

    try:
        with StateStore(state_dir) as store:
            _import_legacy(store, state_dir)
            return set_soreness(store, day, level, datetime.now(UTC))
    except StateError as exc:
        raise SorenessStoreError(str(exc)) from None
