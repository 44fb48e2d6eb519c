"""The state store: what liftrun pushed where, the athlete's pins and deletions, and a journal.

SQLite in WAL mode in the state directory, one file, one writer (the sync lock guarantees it).
The schema is versioned with ``PRAGMA user_version`` and migrated forward on open; a database
from a newer liftrun is refused rather than guessed at.

The store is private: the directory 0700 and refused when anyone else can write to it, the
database and its ``-wal``/``-shm``/``-journal`` files 0600 (SQLite gives those the database
file's mode), never opened through a symlink, whatever the umask of the caller.

Crash safety rests on write-ahead intents: before a target is written, each event row gets the
``pending`` action; the outcome clears it. A row found ``pending`` on the next cycle was
interrupted, so a read-back that disagrees with it is liftrun's own unfinished business, never
the athlete's edit (an interrupted create that never landed is not a deletion by hand).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.private_files import (
    UnsafePath,
    check_private_file,
    ensure_private_dir,
    open_private_file,
)
from planner.lift_load import Soreness
from sync.lock import LOCK_NAME

if TYPE_CHECKING:
    from sync.report import CycleReport

DB_NAME = "liftrun.sqlite3"
JOURNAL_KEEP = 500  # cycles; a 15-minute loop keeps about five days
JOURNAL_MAX_AGE = timedelta(days=30)
SIDE_FILES = ("-wal", "-shm", "-journal")  # SQLite opens these by name next to the database

_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE events (
        target TEXT NOT NULL,
        session_id TEXT NOT NULL,
        remote_id TEXT,
        etag TEXT,
        content_hash TEXT,
        start TEXT,
        end TEXT,
        cancelled INTEGER NOT NULL DEFAULT 0,
        pushed_at TEXT,
        pending TEXT,
        PRIMARY KEY (target, session_id)
    );
    CREATE TABLE placements (session_id TEXT PRIMARY KEY, start TEXT NOT NULL, end TEXT NOT NULL);
    CREATE TABLE pins (
        session_id TEXT PRIMARY KEY,
        start TEXT NOT NULL,
        end TEXT NOT NULL,
        target TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE TABLE tombstones (
        session_id TEXT PRIMARY KEY,
        target TEXT NOT NULL,
        title TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE TABLE soreness (week TEXT PRIMARY KEY, level TEXT NOT NULL);
    CREATE TABLE cycles (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        started TEXT NOT NULL,
        finished TEXT NOT NULL,
        ok INTEGER NOT NULL,
        report TEXT NOT NULL
    );
    CREATE TABLE health (
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        ok INTEGER NOT NULL,
        at TEXT NOT NULL,
        last_ok TEXT,
        error TEXT,
        PRIMARY KEY (kind, name)
    );
    """,
    # 2: what the athlete says on their page (sync/actions.py) and the last busy read
    """
    CREATE TABLE marks (
        session_id TEXT PRIMARY KEY,
        mark TEXT NOT NULL,
        effort INTEGER,
        note TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE TABLE pauses (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        first TEXT NOT NULL,
        last TEXT NOT NULL,
        created_at TEXT NOT NULL,
        ended_at TEXT
    );
    CREATE TABLE athlete_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        action TEXT NOT NULL,
        session_id TEXT,
        detail TEXT NOT NULL
    );
    CREATE TABLE busy_read (start TEXT NOT NULL, end TEXT NOT NULL);
    """,
)


class StateError(Exception):
    """The state store cannot be opened or is from a newer liftrun."""


def _ts(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime in the state store")
    return value.astimezone(UTC).isoformat()


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


@dataclass(frozen=True)
class EventRow:
    """What liftrun last wrote (or set out to write) for one session in one target."""

    target: str
    session_id: str
    remote_id: str | None
    etag: str | None
    content_hash: str | None
    start: datetime | None
    end: datetime | None
    cancelled: bool
    pending: str | None


@dataclass(frozen=True)
class Pin:
    session_id: str
    start: datetime
    end: datetime
    target: str
    at: datetime


@dataclass(frozen=True)
class Tombstone:
    session_id: str
    target: str
    title: str
    at: datetime


@dataclass(frozen=True)
class Health:
    kind: str  # "source" | "target"
    name: str
    ok: bool
    at: datetime
    last_ok: datetime | None
    error: str | None


@dataclass(frozen=True)
class JournalEntry:
    """One journalled cycle; ``report`` is ``None`` for a cycle that failed unexpectedly (it
    had no report to give) or an entry that holds no report."""

    started: datetime
    finished: datetime
    ok: bool
    report: CycleReport | None


class StateStore:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / DB_NAME
        self._savepoints = 0
        try:
            _prepare(state_dir, self.path)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.Error as exc:
            raise StateError(f"state store {self.path}: {exc}") from None
        except UnsafePath as exc:
            raise StateError(str(exc)) from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename and exc.filename != str(state_dir) else ""
            raise StateError(f"state directory {state_dir}: {where}{exc.strerror}") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        """Forward migrations, one transaction each; the version is read inside the write lock
        so two processes opening a new store at once do not both migrate it."""
        while True:
            with self.transaction():
                version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
                if version > len(_MIGRATIONS):
                    raise StateError(
                        f"state store {self.path} has schema {version}, newer than this "
                        f"liftrun understands ({len(_MIGRATIONS)}); upgrade liftrun"
                    )
                if version == len(_MIGRATIONS):
                    return
                for statement in _MIGRATIONS[version].split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {version + 1}")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing; nested inside another transaction it becomes a savepoint."""
        if self._db.in_transaction:
            self._savepoints += 1
            name = f"sp{self._savepoints}"
            self._db.execute(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                self._db.execute(f"ROLLBACK TO {name}")
                self._db.execute(f"RELEASE {name}")
                raise
            self._db.execute(f"RELEASE {name}")
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @contextmanager
    def rollback_after(self) -> Iterator[None]:
        """Everything inside is undone at the end: how ``--dry-run`` writes nothing while it
        runs the same code as a real cycle."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            self._db.execute("ROLLBACK")

    def query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """The connection, for the modules that own tables of their own (``sync/actions.py``,
        ``sync/busy_memory.py``) so this one stays about the sync's own bookkeeping."""
        return self._db.execute(sql, tuple(params)).fetchall()

    # -- meta --------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- events ------------------------------------------------------------------------------
    def events(self, target: str) -> dict[str, EventRow]:
        rows = self._db.execute(
            "SELECT target, session_id, remote_id, etag, content_hash, start, end, cancelled, "
            "pending FROM events WHERE target = ?",
            (target,),
        ).fetchall()
        return {r[1]: _event_row(r) for r in rows}

    def event_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM events").fetchone()[0])

    def put_event(
        self,
        target: str,
        session_id: str,
        *,
        remote_id: str | None,
        etag: str | None,
        content_hash: str | None,
        start: datetime | None,
        end: datetime | None,
        cancelled: bool = False,
        pushed_at: datetime | None = None,
    ) -> None:
        self._db.execute(
            "INSERT INTO events(target, session_id, remote_id, etag, content_hash, start, end, "
            "cancelled, pushed_at, pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL) "
            "ON CONFLICT(target, session_id) DO UPDATE SET remote_id = excluded.remote_id, "
            "etag = excluded.etag, content_hash = excluded.content_hash, start = excluded.start, "
            "end = excluded.end, cancelled = excluded.cancelled, "
            "pushed_at = coalesce(excluded.pushed_at, pushed_at), pending = NULL",
            (
                target,
                session_id,
                remote_id,
                etag,
                content_hash,
                _ts(start) if start else None,
                _ts(end) if end else None,
                int(cancelled),
                _ts(pushed_at) if pushed_at else None,
            ),
        )

    def mark_pending(self, target: str, intents: Iterable[tuple[str, str]]) -> None:
        """Write-ahead: ``(session_id, action kind)`` about to be sent to ``target``."""
        with self.transaction():
            for session_id, kind in intents:
                self._db.execute(
                    "INSERT INTO events(target, session_id, pending) VALUES (?, ?, ?) "
                    "ON CONFLICT(target, session_id) DO UPDATE SET pending = excluded.pending",
                    (target, session_id, kind),
                )

    def clear_pending(self, target: str, session_id: str) -> None:
        self._db.execute(
            "UPDATE events SET pending = NULL WHERE target = ? AND session_id = ?",
            (target, session_id),
        )

    def forget_target(self, target: str) -> None:
        self._db.execute("DELETE FROM events WHERE target = ?", (target,))

    def drop_event(self, target: str, session_id: str) -> None:
        self._db.execute(
            "DELETE FROM events WHERE target = ? AND session_id = ?", (target, session_id)
        )

    # -- placements --------------------------------------------------------------------------
    def placements(self) -> dict[str, tuple[datetime, datetime]]:
        rows = self._db.execute("SELECT session_id, start, end FROM placements").fetchall()
        return {r[0]: (_dt(r[1]), _dt(r[2])) for r in rows}

    def replace_placements(self, placed: Mapping[str, tuple[datetime, datetime]]) -> None:
        """The placement of this cycle; sessions no longer placed keep no stale time."""
        with self.transaction():
            old = self.placements()
            for sid in old.keys() - placed.keys():
                self._db.execute("DELETE FROM placements WHERE session_id = ?", (sid,))
            for sid, (start, end) in placed.items():
                if old.get(sid) != (start, end):
                    self._db.execute(
                        "INSERT INTO placements(session_id, start, end) VALUES (?, ?, ?) "
                        "ON CONFLICT(session_id) DO UPDATE SET start = excluded.start, "
                        "end = excluded.end",
                        (sid, _ts(start), _ts(end)),
                    )

    # -- pins and tombstones -----------------------------------------------------------------
    def pins(self) -> dict[str, Pin]:
        rows = self._db.execute("SELECT session_id, start, end, target, at FROM pins").fetchall()
        return {r[0]: Pin(r[0], _dt(r[1]), _dt(r[2]), r[3], _dt(r[4])) for r in rows}

    def pin(
        self, session_id: str, start: datetime, end: datetime, target: str, at: datetime
    ) -> None:
        self._db.execute(
            "INSERT INTO pins(session_id, start, end, target, at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(session_id) DO UPDATE SET start = excluded.start, end = excluded.end, "
            "target = excluded.target, at = excluded.at",
            (session_id, _ts(start), _ts(end), target, _ts(at)),
        )

    def tombstones(self) -> dict[str, Tombstone]:
        rows = self._db.execute("SELECT session_id, target, title, at FROM tombstones").fetchall()
        return {r[0]: Tombstone(r[0], r[1], r[2], _dt(r[3])) for r in rows}

    def tombstone(self, session_id: str, target: str, title: str, at: datetime) -> None:
        with self.transaction():
            self._db.execute(
                "INSERT OR IGNORE INTO tombstones(session_id, target, title, at) "
                "VALUES (?, ?, ?, ?)",
                (session_id, target, title, _ts(at)),
            )
            self._db.execute("DELETE FROM pins WHERE session_id = ?", (session_id,))

    def restore(self, session_id: str) -> bool:
        """Forget a deletion (and a pin) by hand; True when there was something to forget."""
        with self.transaction():
            gone = self._db.execute(
                "DELETE FROM tombstones WHERE session_id = ?", (session_id,)
            ).rowcount
            pinned = self._db.execute("DELETE FROM pins WHERE session_id = ?", (session_id,))
        return bool(gone or pinned.rowcount)

    # -- soreness ----------------------------------------------------------------------------
    def soreness(self) -> dict[date, Soreness]:
        rows = self._db.execute("SELECT week, level FROM soreness").fetchall()
        return {date.fromisoformat(r[0]): Soreness(r[1]) for r in rows}

    def set_soreness(self, week: date, level: Soreness) -> None:
        if level is Soreness.NONE:
            self._db.execute("DELETE FROM soreness WHERE week = ?", (week.isoformat(),))
        else:
            self._db.execute(
                "INSERT INTO soreness(week, level) VALUES (?, ?) "
                "ON CONFLICT(week) DO UPDATE SET level = excluded.level",
                (week.isoformat(), level.value),
            )

    # -- health and journal ------------------------------------------------------------------
    def set_health(
        self, kind: str, name: str, *, ok: bool, at: datetime, error: str | None
    ) -> None:
        self._db.execute(
            "INSERT INTO health(kind, name, ok, at, last_ok, error) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(kind, name) DO UPDATE SET ok = excluded.ok, at = excluded.at, "
            "last_ok = coalesce(excluded.last_ok, last_ok), error = excluded.error",
            (kind, name, int(ok), _ts(at), _ts(at) if ok else None, error),
        )

    def health(self) -> list[Health]:
        rows = self._db.execute(
            "SELECT kind, name, ok, at, last_ok, error FROM health ORDER BY kind, name"
        ).fetchall()
        return [
            Health(r[0], r[1], bool(r[2]), _dt(r[3]), _dt(r[4]) if r[4] else None, r[5])
            for r in rows
        ]

    def journal(
        self, started: datetime, finished: datetime, ok: bool, report: CycleReport | None
    ) -> None:
        """Record a cycle (``report`` ``None``: it failed unexpectedly) and prune old ones, so
        the store stays small in a loop that never ends."""
        from sync.report import journal_form  # noqa: PLC0415 (why: see cycles)

        text = json.dumps(journal_form(report), default=str)
        with self.transaction():
            self._db.execute(
                "INSERT INTO cycles(started, finished, ok, report) VALUES (?, ?, ?, ?)",
                (_ts(started), _ts(finished), int(ok), text),
            )
            self._db.execute(
                "DELETE FROM cycles WHERE id <= (SELECT max(id) FROM cycles) - ? OR started < ?",
                (JOURNAL_KEEP, _ts(finished - JOURNAL_MAX_AGE)),
            )

    def cycles(self, limit: int = 10) -> list[JournalEntry]:
        """The latest ``limit`` cycles, newest first. The report's (de)serialisation is
        imported by the two journal methods alone: ``liftrun plan`` and ``sore`` open the store
        for soreness and would compile it for nothing (``benchmarks/bench_startup.py``)."""
        from sync.report import from_journal  # noqa: PLC0415

        rows = self._db.execute(
            "SELECT started, finished, ok, report FROM cycles ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [
            JournalEntry(_dt(r[0]), _dt(r[1]), bool(r[2]), from_journal(json.loads(r[3])))
            for r in rows
        ]


def _prepare(state_dir: Path, db_path: Path) -> None:
    """Everything about the files that must hold before SQLite opens them by name: it would
    follow a symlink at the database path and create the file with the caller's umask."""
    ensure_private_dir(state_dir)
    check_private_file(state_dir / LOCK_NAME, "state lock", one_name=True)
    for suffix in SIDE_FILES:
        check_private_file(Path(f"{db_path}{suffix}"), "state store")
    os.close(open_private_file(db_path, os.O_RDWR, "state store"))


def _event_row(r: tuple[Any, ...]) -> EventRow:
    return EventRow(
        target=r[0],
        session_id=r[1],
        remote_id=r[2],
        etag=r[3],
        content_hash=r[4],
        start=_dt(r[5]) if r[5] else None,
        end=_dt(r[6]) if r[6] else None,
        cancelled=bool(r[7]),
        pending=r[8],
    )
