"""The state store on its own: schema versions, the journal staying small, dry-run rollback."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sync.report import CycleReport
from sync.state import JOURNAL_KEEP, StateError, StateStore

T0 = datetime(2027, 1, 4, 6, tzinfo=UTC)


def test_a_store_from_a_newer_liftrun_is_refused(tmp_path: Path) -> None:
    StateStore(tmp_path).close()
    db = sqlite3.connect(tmp_path / "liftrun.sqlite3")
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(StateError, match="schema 99, newer than this liftrun"):
        StateStore(tmp_path)


def test_wal_mode_and_schema_version(tmp_path: Path) -> None:
    with StateStore(tmp_path):
        pass
    db = sqlite3.connect(tmp_path / "liftrun.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] >= 1


def test_the_journal_is_pruned(tmp_path: Path) -> None:
    with StateStore(tmp_path) as store:
        for i in range(JOURNAL_KEEP + 50):
            at = T0 + timedelta(minutes=15 * i)
            store.journal(at, at, True, CycleReport(started=at, warnings=[str(i)]))
        assert len(store.cycles(10_000)) == JOURNAL_KEEP
        newest = store.cycles(1)[0].report
        assert newest is not None and newest.warnings == [str(JOURNAL_KEEP + 49)]
        store.journal(T0 + timedelta(days=400), T0 + timedelta(days=400), True, None)
        assert len(store.cycles(10_000)) == 1  # older than 30 days


def test_rollback_after_undoes_everything_including_nested_transactions(tmp_path: Path) -> None:
    with StateStore(tmp_path) as store:
        with store.rollback_after():
            store.pin("s1", T0, T0 + timedelta(hours=1), "t", T0)
            store.tombstone("s2", "t", "Easy run", T0)
            store.mark_pending("t", [("s3", "create")])
            assert store.pins() and store.tombstones()
        assert not store.pins() and not store.tombstones() and not store.events("t")


def test_restore_forgets_a_tombstone_and_a_pin(tmp_path: Path) -> None:
    with StateStore(tmp_path) as store:
        store.tombstone("s2", "t", "Easy run", T0)
        store.pin("s1", T0, T0 + timedelta(hours=1), "t", T0)
        assert store.restore("s2") and store.restore("s1")
        assert not store.restore("s3")
        assert not store.pins() and not store.tombstones()
