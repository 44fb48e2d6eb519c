"""``liftrun sync --once --dry-run`` against the Calendar emulator after a real sync: the
Google target's and busy source's caches and the state store are read, never written."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tests.google.test_google_sync import BERLIN, NOW, add_busy, write_config
from tests.google_emulator import RunningEmulator
from tests.sync.test_dry_run_writes_nothing import (
    assert_dry_run_writes_nothing,
    namespaces,
    sync,
)


def test_a_dry_run_after_a_sync_leaves_the_state_as_it_was(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    config = write_config(tmp_path, emu)
    now = NOW.isoformat()
    code, out = sync(config, now=now)
    assert code == 0, out
    assert namespaces(tmp_path / "state" / "google") == {"google-target", "google-busy"}
    add_busy(emu, datetime(2027, 1, 4, 0, 0, tzinfo=BERLIN), hours=24 * 7)
    report = assert_dry_run_writes_nothing(config, [tmp_path / "state"], now=now)
    assert report["actions"], report
