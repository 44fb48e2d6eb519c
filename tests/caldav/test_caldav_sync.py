"""The sync engine with CalDAV calendars, against real Radicale and Xandikos: the issue's user
stories end to end, request counts included."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.caldav.source import CalDAVSource
from adapters.caldav.target import CalDAVTarget, resource_name
from adapters.protocol import OwnedEvent, session_uid
from config.loader import load
from sync.engine import run_cycle
from sync.report import CycleReport
from sync.state import StateStore
from sync.wiring import build
from tests.athlete import athlete_toml
from tests.caldav.servers import PASSWORD, Server, delete_event, start
from tests.caldav.test_caldav_adapter import seed_busy

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2027, 3, 15, 5, 0, tzinfo=BERLIN)  # the seeded busy weeks, across DST
ROOT = Path(__file__).resolve().parents[2]

ATHLETE = athlete_toml(race_date="2027-06-20", plan_start="2027-03-08")
CALENDARS = """\
[[calendars]]
kind = "caldav"
name = "training"
url = "{url}"
{auth}
push_to = "{push_to}"
busy_from = ["{busy}"]
"""
CONFIG = ATHLETE + CALENDARS


def write_config(
    tmp_path: Path,
    server: Server,
    unique: str,
    *,
    password: str = PASSWORD,
    athlete: str = ATHLETE,
    url: str | None = None,
) -> Path:
    """The config of an athlete on ``server`` (or reaching it through ``url``, a proxy), with a
    fresh busy calendar seeded."""
    seed_busy(server, f"Work {unique}", f"work-{unique}")
    auth = f'username = "{server.username}"\npassword = "{password}"' if server.username else ""
    path = tmp_path / "liftrun.toml"
    path.write_text(
        athlete
        + CALENDARS.format(
            url=url or server.url, auth=auth, push_to=f"Training {unique}", busy=f"Work {unique}"
        )
    )
    return path


def cycle(config: Path, now: datetime = NOW) -> tuple[CycleReport, dict[str, int]]:
    """One cycle; also the HTTP requests each calendar made."""
    loaded = load(str(config), {})
    with StateStore(loaded.state_dir) as store:
        wiring = build(loaded, now, store)
        report = run_cycle(loaded.settings, store, wiring, now=now)
        wiring.remember(store)
    counts = {s.name: s.requests_made for s in wiring.sources if isinstance(s, CalDAVSource)}
    for spec in wiring.targets:
        assert isinstance(spec.target, CalDAVTarget)
        counts[spec.target.name] = spec.target.requests_made
    return report, counts


def owned(config: Path) -> dict[str, OwnedEvent]:
    loaded = load(str(config), {})
    with StateStore(loaded.state_dir) as store:
        (spec,) = build(loaded, NOW, store).targets
    far = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    return {e.session_id: e for e in spec.target.list_owned(*far)}


def busy(config: Path) -> list[tuple[datetime, datetime]]:
    loaded = load(str(config), {})
    (source,) = build(loaded, NOW).sources
    read = source.read_busy(NOW - timedelta(days=7), NOW + timedelta(days=40))
    return [(b.start, b.end) for b in read.busy.intervals]


def test_full_sync_then_idle_cycles_within_three_requests(
    server: Server, unique: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path, server, unique)
    report, counts = cycle(config)
    assert not report.failed, report.as_dict()
    created = report.targets["training"].created
    assert created == 20
    print(f"\n{server.kind}: first cycle {counts}")
    events = owned(config)
    assert len(events) == created
    for e in events.values():
        for b_start, b_end in busy(config):
            assert not (e.start < b_end and b_start < e.end), f"{e.session_id} overlaps busy"
    for _ in range(3):
        again, counts = cycle(config)
        assert again.writes == 0 and not again.failed
        assert all(n <= 3 for n in counts.values()), counts
    print(f"{server.kind}: steady cycle {counts}")
    with StateStore(tmp_path / "state") as store:
        assert store.get_meta(f"caldav-url:{server.url}:Training {unique}")


def test_sigkill_mid_push_then_rerun_converges(server: Server, unique: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, server, unique)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = ["sync", "--once", "--config", str(config), "--now", NOW.isoformat()]
    killed = subprocess.run(
        [sys.executable, "-m", "tests.sync.run_with_fault", "kill", "7", "--", *args],
        env=env,
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL
    assert len(owned(config)) == 7
    rerun = subprocess.run(
        [sys.executable, "-m", "cli", *args, "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["targets"]["training"]["created"] == 13
    assert len(owned(config)) == 20
    again, _ = cycle(config)
    assert again.writes == 0


@pytest.mark.parametrize("kind", ["radicale", "xandikos"])
def test_a_stopped_server_deletes_nothing_and_exits_3(
    kind: str, unique: str, tmp_path: Path
) -> None:
    own = start(kind, tmp_path / "server")
    port = int(own.url.rsplit(":", 1)[1].strip("/"))
    try:
        config = write_config(tmp_path, own, unique)
        report, _ = cycle(config)
        assert report.targets["training"].created == 20
    finally:
        own.stop()
    down, _ = cycle(config, NOW + timedelta(hours=1))
    assert down.failed and down.writes == 0 and not down.tombstoned
    with StateStore(tmp_path / "state") as store:
        assert not store.tombstones()
    again = start(kind, tmp_path / "server", port=port)
    try:
        assert len(owned(config)) == 20
        back, _ = cycle(config, NOW + timedelta(hours=2))
        assert not back.failed and back.writes == 0
    finally:
        again.stop()


def test_wrong_password_is_a_clear_error_without_the_password(
    running_servers: dict[str, Server], unique: str, tmp_path: Path
) -> None:
    server = running_servers["radicale"]
    config = write_config(tmp_path, server, unique, password="Wr0ng-secret-123")
    result = subprocess.run(
        [sys.executable, "-m", "cli", "sync", "--once", "--config", str(config)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 3
    output = result.stdout + result.stderr
    assert "wrong username or password" in output
    assert "Wr0ng-secret-123" not in output and "Traceback" not in output


def test_a_session_deleted_right_after_it_was_created_is_seen(
    server: Server, unique: str, tmp_path: Path
) -> None:
    """RFC 6578 lets a server leave a resource created and deleted since the last token out of
    the delta (Xandikos does): liftrun's own creates must not hide the athlete's deletion."""
    config = write_config(tmp_path, server, unique)
    report, _ = cycle(config)
    sid = sorted(a.session for a in report.actions)[3]
    with StateStore(tmp_path / "state") as store:
        calendar = store.get_meta(f"caldav-url:{server.url}:Training {unique}")
    assert calendar is not None
    href = calendar + resource_name(session_uid(sid))
    assert delete_event(server, href) in (200, 204)  # before liftrun reads the calendar again
    again, counts = cycle(config)
    assert [t.session for t in again.tombstoned] == [sid]
    assert again.writes == 0 and all(n <= 3 for n in counts.values()), counts
    _, steady = cycle(config)
    assert all(steady[k] <= counts[k] for k in counts), (counts, steady)  # the token is back
