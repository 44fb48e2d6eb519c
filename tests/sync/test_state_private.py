"""Private state (issue 13, item 6): the state directory 0700, every file liftrun keeps in it
0600, whatever the caller's umask; a directory others can write to refused; nothing written
through a symlink planted at a path liftrun writes.

Every test runs under umask 022 (what a shell, cron or a test runner typically has), because
library code must not count on the CLI's umask 077.
"""

from __future__ import annotations

import http.server
import logging
import os
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.atomic import atomic_write
from adapters.feed_token import FeedToken
from adapters.private_files import UnsafePath
from cli import soreness
from config.loader import load
from sync import loop
from sync.lock import LOCK_NAME, LockHeld, LockRefused, StateLock
from sync.report import CycleReport
from sync.state import DB_NAME, SIDE_FILES, StateError, StateStore
from tests.test_sync_cli import CONFIG, WORK

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2027, 1, 4, 6, tzinfo=UTC)
PRECIOUS = b"the athlete's own file\n"


@pytest.fixture(autouse=True)
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def precious(tmp_path: Path) -> Path:
    """A file of the athlete's that a planted link points at; it must come out untouched."""
    target = tmp_path / "precious.txt"
    target.write_bytes(PRECIOUS)
    target.chmod(0o644)
    return target


def assert_untouched(target: Path) -> None:
    assert target.read_bytes() == PRECIOUS
    assert mode(target) == 0o644


# -- the store ---------------------------------------------------------------------------------


def test_a_new_store_is_private_under_umask_022(tmp_path: Path) -> None:
    state = tmp_path / "home" / "liftrun" / "state"  # parents missing too
    with StateStore(state) as store:
        note = "'Oncology appointment' 05:30-09:00 is busy"
        store.journal(T0, T0, True, CycleReport(started=T0, warnings=[note]))
        db = state / DB_NAME
        assert (state / f"{DB_NAME}-wal").exists() and (state / f"{DB_NAME}-shm").exists()
        assert mode(state) == 0o700
        assert mode(tmp_path / "home") == mode(tmp_path / "home" / "liftrun") == 0o700
        assert mode(db) == 0o600
        assert mode(state / f"{DB_NAME}-wal") == mode(state / f"{DB_NAME}-shm") == 0o600


def test_sqlite_gives_its_rollback_journal_the_stores_mode(tmp_path: Path) -> None:
    """SQLite creates ``-wal``, ``-shm`` and ``-journal`` with the database file's mode; the
    store relies on that, so it is checked here rather than assumed."""
    StateStore(tmp_path / "state").close()
    db = sqlite3.connect(tmp_path / "state" / DB_NAME, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO meta(key, value) VALUES ('k', 'v')")
        journal = tmp_path / "state" / f"{DB_NAME}-journal"
        assert journal.exists() and mode(journal) == 0o600
        db.execute("COMMIT")
    finally:
        db.close()


def test_an_old_store_readable_by_others_is_tightened(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A store an older liftrun wrote under umask 022: directory 0755, files 0644."""
    state = tmp_path / "state"
    StateStore(state).close()
    state.chmod(0o755)
    files = [state / DB_NAME, *(state / f"{DB_NAME}{s}" for s in SIDE_FILES), state / LOCK_NAME]
    for path in files:
        path.touch()
        path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="liftrun.state"):
        StateStore(state).close()
    assert mode(state) == 0o700
    assert {p.name: mode(p) for p in files if p.exists()} == {
        p.name: 0o600 for p in files if p.exists()
    }
    assert f"state directory {state} was mode 0755, readable by others; tightened to 0700" in (
        caplog.text
    )


@pytest.mark.parametrize(
    ("dir_mode", "who"),
    [
        (0o777, "its group and others"),
        (0o770, "its group"),
        (0o703, "others"),
        (0o1777, "its group and others"),  # sticky or not: others can still plant new names
    ],
)
def test_a_state_dir_others_can_write_to_is_refused(
    tmp_path: Path, dir_mode: int, who: str
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(dir_mode)
    with pytest.raises(StateError) as refused:
        StateStore(state)
    message = str(refused.value)
    assert message == (
        f"state directory {state} is writable by {who} (mode {dir_mode:04o}), who could swap "
        f"liftrun's files in it; run `chmod 700 {state}`"
    )
    assert "\n" not in message
    assert mode(state) == dir_mode and not list(state.iterdir())  # refused, not "fixed"


def test_a_state_dir_owned_by_someone_else_is_refused(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        state = tmp_path / "state"
        state.mkdir(mode=0o700)
        os.chown(state, 65534, 65534)
        owner = 65534
    else:  # nobody but root can give a directory away; "/" belongs to root
        state, owner = Path("/"), 0
    with pytest.raises(StateError, match=rf"belongs to uid {owner}, not to this user"):
        StateStore(state)
    if os.geteuid() == 0:
        assert not list(state.iterdir())


def test_a_file_as_state_dir_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("x")
    with pytest.raises(StateError) as refused:
        StateStore(tmp_path / "state")
    assert str(refused.value) == f"state directory {tmp_path / 'state'} is not a directory"


def test_an_unreadable_store_is_one_line_naming_the_file(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / DB_NAME).mkdir()
    with pytest.raises(StateError) as refused:
        StateStore(state)
    assert str(refused.value) == (f"state directory {state}: {state / DB_NAME}: Is a directory")


@pytest.mark.parametrize("name", [DB_NAME, *(f"{DB_NAME}{s}" for s in SIDE_FILES), LOCK_NAME])
def test_a_symlink_in_place_of_a_store_file_is_refused_and_its_target_untouched(
    tmp_path: Path, name: str
) -> None:
    target = precious(tmp_path)
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / name).symlink_to(target)
    with pytest.raises(StateError, match=r"is a symbolic link; liftrun never writes through"):
        StateStore(state)
    assert_untouched(target)
    assert (state / name).is_symlink()


def test_a_dangling_symlink_at_the_db_path_creates_nothing_at_its_target(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / DB_NAME).symlink_to(tmp_path / "elsewhere.sqlite3")
    with pytest.raises(StateError, match="symbolic link"):
        StateStore(state)
    assert not (tmp_path / "elsewhere.sqlite3").exists()


def test_a_fifo_at_the_db_path_is_refused_without_hanging(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    os.mkfifo(state / DB_NAME)
    with pytest.raises(StateError, match="is not a regular file"):
        StateStore(state)


# -- the lock ----------------------------------------------------------------------------------


def test_the_lock_is_created_0600_and_holds_the_pid(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with StateLock(state):
        assert mode(state) == 0o700 and mode(state / LOCK_NAME) == 0o600
        assert (state / LOCK_NAME).read_text() == f"{os.getpid()}\n"
        with pytest.raises(LockHeld) as held:
            StateLock(state).__enter__()
        assert held.value.pid == str(os.getpid())


def test_a_symlink_at_the_lock_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    target = precious(tmp_path)
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / LOCK_NAME).symlink_to(target)
    with pytest.raises(LockRefused) as refused, StateLock(state):
        pass
    assert str(refused.value) == (
        f"state lock {state / LOCK_NAME} is a symbolic link; liftrun never writes through one "
        f"there (remove it: rm {state / LOCK_NAME})"
    )
    assert_untouched(target)


def test_a_hard_link_at_the_lock_is_refused_and_the_other_file_untouched(tmp_path: Path) -> None:
    target = precious(tmp_path)
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    os.link(target, state / LOCK_NAME)
    target.chmod(0o600)  # the same inode: the lock's mode check must not be what saves it
    with pytest.raises(LockRefused, match=r"has another name \(a hard link\)"), StateLock(state):
        pass
    with pytest.raises(StateError, match=r"state lock .* has another name \(a hard link\)"):
        StateStore(state)  # what `liftrun sync` opens first: exit 2 in one line
    assert target.read_bytes() == PRECIOUS


def test_the_lock_in_a_state_dir_others_can_write_to_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(0o777)
    with pytest.raises(LockRefused, match=r"writable by its group and others"), StateLock(state):
        pass
    assert not (state / LOCK_NAME).exists()


# -- other files liftrun writes ----------------------------------------------------------------


def test_atomic_write_is_private_whatever_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "state" / "google" / "cache.json"
    atomic_write(path, b"{}")
    assert mode(path) == 0o600
    assert mode(tmp_path / "state") == mode(tmp_path / "state" / "google") == 0o700


def test_a_served_feed_stays_readable_with_its_new_directories_under_umask_077(
    tmp_path: Path,
) -> None:
    """A feed a separate web server serves keeps 0644, and the directories created for it are
    searchable, or the CLI's umask 077 would hide it from the server."""
    os.umask(0o077)
    path = tmp_path / "www" / "feeds" / "liftrun.ics"
    atomic_write(path, b"BEGIN:VCALENDAR\r\n", mode=0o644)
    assert mode(path) == 0o644
    assert mode(tmp_path / "www") == mode(tmp_path / "www" / "feeds") == 0o755


def test_atomic_write_replaces_a_symlink_instead_of_writing_through_it(tmp_path: Path) -> None:
    target = precious(tmp_path)
    path = tmp_path / "state" / "sources" / "abc.ics"
    path.parent.mkdir(parents=True)
    path.symlink_to(target)
    atomic_write(path, b"new")
    assert not path.is_symlink() and path.read_bytes() == b"new" and mode(path) == 0o600
    assert_untouched(target)


def test_the_feed_token_refuses_a_state_dir_others_can_write_to(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(0o777)
    with pytest.raises(UnsafePath, match=r"state directory .* is writable by its group"):
        FeedToken(state).get()
    assert not list(state.iterdir())
    state.chmod(0o755)
    FeedToken(state).get()
    assert mode(state) == 0o700 and mode(state / "feed-token") == 0o600


def test_imported_soreness_reports_are_kept_private(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    legacy = state / "soreness.json"
    legacy.write_text('{"2027-01-04": "severe"}')
    legacy.chmod(0o644)
    assert soreness.load(state)
    assert mode(state / "soreness.json.imported") == 0o600


# -- a whole cycle and the CLI -----------------------------------------------------------------


class _Feed(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = WORK.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", '"v1"')
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def ics_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/work.ics"
    finally:
        server.shutdown()
        server.server_close()


def test_a_whole_cycle_leaves_nothing_readable_by_others(tmp_path: Path, ics_server: str) -> None:
    """A real cycle in process (no CLI umask): an HTTP busy source cached in ``state/sources``,
    the feed written, the journal recorded; every directory in the state is 0700 and every
    file 0600, and only the served feed outside the state is readable by others."""
    config = tmp_path / "liftrun.toml"
    config.write_text(CONFIG.format(busy=f'"{ics_server}"'), encoding="utf-8")
    loaded = load(str(config), {})
    now = datetime(2026, 12, 1, 8, tzinfo=UTC)
    with StateStore(loaded.state_dir) as store, StateLock(loaded.state_dir):
        report = loop.one_cycle(loaded, store, now=now)
    assert not report.failed, report.as_dict()
    state = loaded.state_dir
    found = {p.relative_to(state).as_posix(): mode(p) for p in [state, *state.rglob("*")]}
    assert "sources" in found and DB_NAME in found and LOCK_NAME in found, found
    assert any(name.startswith("sources/ics-body-") for name in found), found  # the body
    wide = {name: f"{m:04o}" for name, m in found.items() if m & 0o077}
    assert not wide, wide
    assert mode(tmp_path / "out" / "liftrun.ics") == 0o644


def _liftrun(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_sync_refuses_a_planted_lock_link_in_one_line_and_leaves_its_target(
    tmp_path: Path,
) -> None:
    target = precious(tmp_path)
    work = tmp_path / "work.ics"
    work.write_text(WORK, encoding="utf-8")
    (tmp_path / "liftrun.toml").write_text(CONFIG.format(busy=f'"{work}"'), encoding="utf-8")
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / LOCK_NAME).symlink_to(target)
    result = _liftrun(tmp_path, "sync", "--once", "--config", "liftrun.toml", "--now", "2026-12-01")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"liftrun: state lock {state / LOCK_NAME} is a symbolic link; liftrun never writes "
        f"through one there (remove it: rm {state / LOCK_NAME})"
    ]
    assert_untouched(target)
    assert not (tmp_path / "out").exists()


def test_sync_refuses_a_world_writable_state_dir_in_one_line(tmp_path: Path) -> None:
    work = tmp_path / "work.ics"
    work.write_text(WORK, encoding="utf-8")
    (tmp_path / "liftrun.toml").write_text(CONFIG.format(busy=f'"{work}"'), encoding="utf-8")
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(0o777)
    result = _liftrun(tmp_path, "sync", "--once", "--config", "liftrun.toml", "--now", "2026-12-01")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"liftrun: state directory {state} is writable by its group and others (mode 0777), "
        f"who could swap liftrun's files in it; run `chmod 700 {state}`"
    ]
    assert not list(state.iterdir())
