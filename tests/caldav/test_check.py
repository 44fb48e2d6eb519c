"""``liftrun check`` against real CalDAV servers: it reads, and creates no calendar."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner, Result

from cli.main import main
from sync.state import StateStore
from tests.caldav.servers import Server, make_calendar, put_event
from tests.test_cli_setup import CONFIG, busy_ics, only_the_store, snapshot, window


def write_config(tmp_path: Path, server: Server, unique: str, *, password: str | None) -> Path:
    auth = ""
    if server.username is not None:
        secret = tmp_path / "caldav-password"
        secret.write_text(password or "", encoding="utf-8")
        auth = f'username = "{server.username}"\npassword_file = "{secret}"\n'
    config = tmp_path / "liftrun.toml"
    config.write_text(
        CONFIG
        + f'[[calendars]]\nkind = "caldav"\nname = "training"\nurl = "{server.url}"\n{auth}'
        + f'push_to = "Training {unique}"\nbusy_from = ["Busy {unique}"]\n',
        encoding="utf-8",
    )
    return config


def check(config: Path) -> Result:
    return CliRunner().invoke(main, ["check", "--config", str(config)])


def calendar_names(server: Server) -> str:
    with server.http() as client:
        reply = client.request("PROPFIND", server.home, headers={"Depth": "1"})
    return reply.text


def test_check_reads_and_creates_nothing(server: Server, unique: str, tmp_path: Path) -> None:
    busy = make_calendar(server, f"Busy {unique}", f"busy-{unique}")
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    put_event(server, busy + "dentist.ics", busy_ics(start))
    config = write_config(tmp_path, server, unique, password=server.password)

    result = check(config)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"source training: Busy {unique}: ok (1 busy events {window()})" in lines
    assert (
        f"target training: ok (0 liftrun events; calendar 'Training {unique}' does not exist "
        "yet; the first sync creates it)" in lines
    )
    assert f"Training {unique}" not in calendar_names(server)  # no MKCALENDAR
    before = snapshot(tmp_path)
    assert only_the_store(tmp_path / "state")

    training = make_calendar(server, f"Training {unique}", f"training-{unique}")
    again = check(config)
    assert again.exit_code == 0, again.output
    # the one write a check may make: the calendar's precondition test, and its line says so
    assert (
        "target training: ok (0 liftrun events); the server enforces If-Match and If-None-Match "
        "(tested just now with a scratch event, removed at once)" in again.output.splitlines()
    )
    assert again.output.splitlines()[-1] == "check: 2 of 2 ok; no session was written"
    assert snapshot(tmp_path) == before
    # what the walk found is kept, as a first sync keeps it: the sync does not walk again
    with StateStore(tmp_path / "state") as store:
        remembered = [value for (value,) in store.query("SELECT value FROM meta")]
    assert any(value.rstrip("/").endswith(training.rstrip("/")) for value in remembered)


def test_check_wrong_password_fails_clearly(server: Server, unique: str, tmp_path: Path) -> None:
    if server.username is None:
        return  # Xandikos runs without authentication
    make_calendar(server, f"Busy {unique}", f"busy-{unique}")
    config = write_config(tmp_path, server, unique, password="wrong-password")
    result = check(config)
    assert result.exit_code == 3, result.output
    failed = [line for line in result.output.splitlines() if "FAILED" in line]
    assert any(line.startswith(f"source training: Busy {unique}: FAILED: ") for line in failed)
    assert any(line.startswith("target training: FAILED: ") for line in failed)
    assert "wrong-password" not in result.output
    assert "Traceback" not in result.output


def test_a_wrong_password_after_a_sync_is_worded_as_the_sync_words_it(
    server: Server, unique: str, tmp_path: Path
) -> None:
    """The issue's case: for one wrong password check said "no last good copy" and the sync
    "using the last good copy". Both now read the same copy and say it in the same words."""
    if server.username is None:
        return  # Xandikos runs without authentication
    busy = make_calendar(server, f"Busy {unique}", f"busy-{unique}")
    put_event(server, busy + "dentist.ics", busy_ics(datetime.now(UTC) + timedelta(days=3)))
    config = write_config(tmp_path, server, unique, password=server.password)
    first = CliRunner().invoke(main, ["sync", "--once", "--config", str(config)])
    assert first.exit_code == 0, first.output
    (tmp_path / "caldav-password").write_text("wrong-password", encoding="utf-8")

    result = check(config)
    assert result.exit_code == 3, result.output
    prefix = f"source training: Busy {unique}: FAILED: "
    (line,) = [x for x in result.output.splitlines() if x.startswith(prefix)]
    assert re.search(
        rf"; using the last good copy from \w{{3}} \d+ \w{{3}} \d\d:\d\d "
        rf"\(1 busy events {re.escape(window())}\)$",
        line,
    ), line

    synced = CliRunner().invoke(
        main, ["sync", "--once", "--format", "json", "--config", str(config)]
    )
    assert synced.exit_code == 3, synced.output
    source = json.loads(synced.stdout)["sources"][f"training: Busy {unique}"]
    assert line == f"{prefix}{source['error']} (1 busy events {window()})"
    assert "wrong-password" not in result.output + synced.output
