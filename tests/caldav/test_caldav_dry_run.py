"""``liftrun sync --once --dry-run`` against Radicale and Xandikos after a real sync: the
CalDAV mirrors and the state store are read, never written."""

from __future__ import annotations

from pathlib import Path

from tests.caldav.servers import Server, put_event
from tests.caldav.test_caldav_adapter import _cal, _event
from tests.caldav.test_caldav_sync import NOW, write_config
from tests.sync.test_dry_run_writes_nothing import (
    assert_dry_run_writes_nothing,
    namespaces,
    sync,
)


def test_a_dry_run_after_a_sync_leaves_the_state_as_it_was(
    server: Server, unique: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path, server, unique)
    now = NOW.isoformat()
    code, out = sync(config, now=now)
    assert code == 0, out
    assert namespaces(tmp_path / "state" / "caldav") == {"caldav-target", "caldav-source"}
    # a week away: the dry run has sessions to move
    holiday = _event(
        f"holiday-{unique}@example.org",
        "SUMMARY:Holiday\r\nDTSTART;VALUE=DATE:20270315\r\nDTEND;VALUE=DATE:20270322\r\n",
    )
    put_event(server, f"{server.home}work-{unique}/holiday.ics", _cal(holiday))
    report = assert_dry_run_writes_nothing(config, [tmp_path / "state"], now=now)
    assert report["actions"], report
