"""The sync engine with a Google calendar, against the Calendar v3 emulator through the real
google-api-python-client: the issue's user stories end to end, with request budgets."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import google.oauth2.credentials
import pytest
from click.testing import CliRunner

from adapters.google.target import GoogleTarget, event_id
from cli.main import main
from config.loader import load
from sync.engine import run_cycle
from sync.report import CycleReport
from sync.state import StateStore
from sync.wiring import build
from tests.athlete import athlete_toml
from tests.google.test_google_adapter import TokenEndpoint, write_token
from tests.google_emulator import RunningEmulator, running_emulator
from tests.google_emulator.dispatch import Emulator
from tests.google_emulator.faults import Fault

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2027, 1, 4, 5, 0, tzinfo=BERLIN)
ROOT = Path(__file__).resolve().parents[2]

CALENDARS = """\
[sync]
horizon_days = {horizon}
[[calendars]]
kind = "google"
name = "google"
auth = "{auth}"
{token}
api_endpoint = "{endpoint}"
push_to = "Training"
busy_from = ["primary"]
"""
CONFIG = athlete_toml() + CALENDARS


def write_config(
    tmp_path: Path,
    emu: RunningEmulator,
    *,
    horizon: int = 28,
    auth: str = "none",
    athlete: str | None = None,
) -> Path:
    token = 'token_file = "state/google-token.json"' if auth == "oauth" else ""
    path = tmp_path / "liftrun.toml"
    calendars = CALENDARS.format(horizon=horizon, auth=auth, token=token, endpoint=emu.api_endpoint)
    path.write_text((athlete or athlete_toml()) + calendars)
    return path


def cycle(config: Path, now: datetime = NOW) -> tuple[CycleReport, int, int]:
    """One cycle; the HTTP requests of the target and of the busy source."""
    loaded = load(str(config), {})
    with StateStore(loaded.state_dir) as store:
        wiring = build(loaded, now, store)
        report = run_cycle(loaded.settings, store, wiring, now=now)
        wiring.remember(store)
    (spec,) = wiring.targets
    (source,) = wiring.sources
    assert isinstance(spec.target, GoogleTarget)
    return report, spec.target.requests_made, getattr(source, "requests_made", 0)


def training(emu: RunningEmulator) -> str:
    items = emu.service().calendarList().list().execute()["items"]
    (cal,) = [c for c in items if c["summary"] == "Training"]
    return str(cal["id"])


def events(emu: RunningEmulator) -> dict[str, dict[str, Any]]:
    svc = emu.service()
    found = svc.events().list(calendarId=training(emu), maxResults=2500).execute()["items"]
    return {
        e["extendedProperties"]["private"]["liftrunSession"]: e
        for e in found
        if "liftrunSession" in e.get("extendedProperties", {}).get("private", {})
    }


def add_busy(emu: RunningEmulator, start: datetime, hours: float = 2) -> None:
    end = start + timedelta(hours=hours)
    emu.service().events().insert(
        calendarId="primary",
        body={
            "summary": "Board meeting",
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": end.isoformat()},
        },
    ).execute()


def test_full_sync_within_budget_then_idle_cycles(emu: RunningEmulator, tmp_path: Path) -> None:
    add_busy(emu, datetime(2027, 1, 5, 5, 30, tzinfo=BERLIN), hours=3)
    config = write_config(tmp_path, emu)
    report, target_requests, _ = cycle(config)
    created = report.targets["google"].created
    assert created == 20 and not report.failed, report.as_dict()
    assert target_requests <= math.ceil(created / 50) + 3
    pushed = events(emu)
    assert len(pushed) == 20
    tuesday = [e for e in pushed.values() if e["start"]["dateTime"].startswith("2027-01-05")]
    assert all(not e["start"]["dateTime"].startswith("2027-01-05T06") for e in tuesday)
    for _ in range(3):
        again, target_requests, source_requests = cycle(config)
        assert again.writes == 0 and not again.failed
        assert target_requests <= 3 and source_requests <= 3
    token = tmp_path / "state" / "google-token.json"
    with StateStore(tmp_path / "state") as store:
        assert store.get_meta(f"google-calendar-id:{token}:Training") == training(emu)


def test_sixty_sessions_go_in_two_batches(emu: RunningEmulator, tmp_path: Path) -> None:
    config = write_config(tmp_path, emu, horizon=84)
    report, target_requests, _ = cycle(config)
    created = report.targets["google"].created
    assert created > 50
    assert target_requests <= math.ceil(created / 50) + 3
    assert len(events(emu)) == created


def test_moves_deletions_restore_and_foreign_events(emu: RunningEmulator, tmp_path: Path) -> None:
    config = write_config(tmp_path, emu)
    cycle(config)
    svc, cal = emu.service(), training(emu)
    pushed = sorted(events(emu).items(), key=lambda kv: kv[1]["start"]["dateTime"])
    (moved, m), (gone, _) = pushed[5], pushed[8]
    start = datetime.fromisoformat(m["start"]["dateTime"]) + timedelta(hours=2)
    end = datetime.fromisoformat(m["end"]["dateTime"]) + timedelta(hours=2)
    svc.events().patch(
        calendarId=cal,
        eventId=m["id"],
        body={"start": {"dateTime": start.isoformat()}, "end": {"dateTime": end.isoformat()}},
    ).execute()
    svc.events().delete(calendarId=cal, eventId=event_id(gone)).execute()
    foreign = (
        svc.events()
        .insert(
            calendarId=cal,
            body={
                "summary": m["summary"],
                "start": m["start"],
                "end": m["end"],
                "extendedProperties": {"private": {"liftrun": "1"}},  # a copy, not ours
            },
        )
        .execute()
    )
    report, _, _ = cycle(config)
    assert [p.session for p in report.pinned] == [moved]
    assert [t.session for t in report.tombstoned] == [gone]
    assert gone not in events(emu)
    assert datetime.fromisoformat(events(emu)[moved]["start"]["dateTime"]) == start
    again, _, _ = cycle(config)
    assert again.writes == 0
    with StateStore(tmp_path / "state") as store:
        assert store.restore(gone)
    back, _, _ = cycle(config)
    assert back.targets["google"].created == 1 and not back.targets["google"].errors
    assert events(emu)[gone]["id"] == event_id(gone, 1)  # a new generation: no 409 trap
    after = svc.events().get(calendarId=cal, eventId=foreign["id"]).execute()
    assert after["etag"] == foreign["etag"] and after["status"] != "cancelled"


def test_expired_sync_token_and_transient_errors(emu: RunningEmulator, tmp_path: Path) -> None:
    config = write_config(tmp_path, emu)
    emu.faults.add(Fault(status=429, reason="rateLimitExceeded", retry_after=0, times=1))
    emu.faults.add(Fault(status=503, times=1))
    report, _, _ = cycle(config)
    assert report.targets["google"].created == 20 and not report.failed
    emu.store.invalidate_sync_tokens()
    again, _, _ = cycle(config)
    assert again.writes == 0 and not again.failed
    assert len(events(emu)) == 20


def test_a_crash_after_a_batch_landed_converges(emu: RunningEmulator, tmp_path: Path) -> None:
    config = write_config(tmp_path, emu, horizon=84)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = ["sync", "--once", "--config", str(config), "--now", NOW.isoformat()]
    killed = subprocess.run(
        [sys.executable, "-m", "tests.sync.run_with_fault", "kill-after", "49", "--", *args],
        env=env,
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert len(events(emu)) == 50  # the first batch landed, nothing recorded it
    rerun = subprocess.run(
        [sys.executable, "-m", "cli", *args, "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert not report["tombstoned"] and not report["pinned"]
    total = len(events(emu))
    assert total == 50 + report["targets"]["google"]["created"]
    again, _, _ = cycle(config)
    assert again.writes == 0


def test_a_revoked_grant_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The access token is rejected (401) and Google refuses to refresh it (invalid_grant)."""
    refusal = {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
    with (
        TokenEndpoint(400, refusal) as endpoint,
        running_emulator(Emulator(required_token="the-good-one")) as emu,
    ):
        # google-auth always refreshes at Google's address, which no machine here reaches
        monkeypatch.setattr(
            google.oauth2.credentials, "_GOOGLE_OAUTH2_TOKEN_ENDPOINT", endpoint.url
        )
        config = write_config(tmp_path, emu, auth="oauth")
        (tmp_path / "state").mkdir()
        write_token(tmp_path / "state" / "google-token.json", endpoint.url, expired=True)
        result = CliRunner().invoke(main, ["sync", "--once", "--config", str(config)])
        assert list(emu.store.calendars) == [emu.store.primary_id]  # nothing was written
    output = result.stdout + result.stderr
    assert result.exit_code == 3, output
    assert "run `liftrun auth google` again" in output and "Traceback" not in output
    assert "secret-refresh-token" not in output and "old-access-token" not in output


def test_no_token_yet_says_to_sign_in(tmp_path: Path, emu: RunningEmulator) -> None:
    config = write_config(tmp_path, emu, auth="oauth")
    report, *_ = cycle_quiet(config)
    assert report.failed
    assert any("liftrun auth google" in e for e in report.targets["google"].errors)
    assert report.writes == 0


def cycle_quiet(config: Path) -> tuple[CycleReport]:
    loaded = load(str(config), {})
    with StateStore(loaded.state_dir) as store:
        return (run_cycle(loaded.settings, store, build(loaded, NOW, store), now=NOW),)


def test_a_deleted_training_calendar_is_recreated_and_nothing_tombstoned(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    config = write_config(tmp_path, emu)
    cycle(config)
    emu.service().calendars().delete(calendarId=training(emu)).execute()
    report, _, _ = cycle(config)
    assert not report.tombstoned and report.writes == 0
    assert any("created again" in w or "recreat" in w for w in report.warnings), report.warnings
    back, _, _ = cycle(config)
    assert back.targets["google"].created == 20 and not back.tombstoned
    assert len(events(emu)) == 20
