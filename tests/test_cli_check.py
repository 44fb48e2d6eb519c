"""``liftrun check`` agrees with the sync it stands in for (issue 16): it reads the days the next
sync reads, says of a failing source what the sync says, and shows what a calendar remarks."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner, Result

from adapters.protocol import Action, CalendarTarget, Outcome, OwnedEvent
from cli.check import target_status, window_words
from cli.main import main
from planner.phases import monday_of
from sync.engine import Horizon
from tests.test_cli_setup import CONFIG, snapshot

BERLIN = ZoneInfo("Europe/Berlin")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"TZ": "UTC"})


def busy_ics(days: Sequence[date]) -> str:
    """One hour of busy time at 10:00 UTC on each day."""
    events = "".join(
        "BEGIN:VEVENT\r\n"
        f"UID:busy-{day}@example.com\r\nDTSTAMP:{day:%Y%m%d}T100000Z\r\n"
        f"DTSTART:{day:%Y%m%d}T100000Z\r\nDTEND:{day:%Y%m%d}T110000Z\r\n"
        "SUMMARY:Busy\r\nEND:VEVENT\r\n"
        for day in days
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\n{events}END:VCALENDAR\r\n"


def setup(tmp_path: Path, days: Sequence[date], goal: str = "") -> tuple[Path, Path]:
    busy = tmp_path / "work.ics"
    busy.write_text(busy_ics(days), encoding="utf-8")
    config = tmp_path / "liftrun.toml"
    config.write_text(
        CONFIG + goal + f'[[calendars]]\npush_to = "out/liftrun.ics"\nbusy_from = ["{busy}"]\n',
        encoding="utf-8",
    )
    return config, busy


def source_line(result: Result, busy: Path) -> str:
    (line,) = [x for x in result.output.splitlines() if x.startswith(f"source {busy}: ")]
    return line.removeprefix(f"source {busy}: ")


def test_check_reads_the_window_of_a_plan_that_starts_later(tmp_path: Path) -> None:
    """The issue's "0 busy events in the next 28 days", then a sync that reports 3: with the
    plan three weeks ahead, the sync reads from four days before its first week to two days
    past its horizon, and so does check now."""
    today = datetime.now(BERLIN).date()
    first = monday_of(today + timedelta(days=21))
    days = [
        today + timedelta(days=2),  # in the next 28 days, days before the sync's window
        first + timedelta(days=1),
        first + timedelta(days=20),
        first + timedelta(days=25),  # past today's 28 days, inside the sync's window
    ]
    config, busy = setup(tmp_path, days, f'[goal]\nplan_start = "{first}"\n')

    checked = invoke("check", "--config", str(config))
    assert checked.exit_code == 0, checked.output
    start, last = first - timedelta(days=4), first + timedelta(days=29)
    span = f"from {start:%a} {start.day} {start:%b} to {last:%a} {last.day} {last:%b}"
    assert source_line(checked, busy) == f"ok (3 busy events {span})"

    synced = invoke("sync", "--once", "--format", "json", "--config", str(config))
    assert synced.exit_code == 0, synced.output
    (source,) = json.loads(synced.stdout)["sources"].values()
    assert source["busy_events"] == 3


def test_a_failing_source_is_worded_as_the_sync_words_it(tmp_path: Path) -> None:
    """The issue's wrong password: check said "no last good copy" (it looked in a scratch
    directory) while the sync used the copy. Check reads the real copy, without writing it."""
    today = datetime.now(BERLIN).date()
    config, busy = setup(tmp_path, [today + timedelta(days=2)])
    assert invoke("sync", "--once", "--config", str(config)).exit_code == 0
    busy.write_text("<html>sign in</html>", encoding="utf-8")
    before = snapshot(tmp_path)

    checked = invoke("check", "--config", str(config))
    assert checked.exit_code == 3, checked.output
    line = source_line(checked, busy)
    assert line.startswith("FAILED: ") and "; using the last good copy from " in line
    assert line.endswith(f" (1 busy events {window_words(_window(today))})")
    assert snapshot(tmp_path) == before  # the copy was read, not written

    synced = invoke("sync", "--once", "--format", "json", "--config", str(config))
    assert synced.exit_code == 3, synced.output
    (source,) = json.loads(synced.stdout)["sources"].values()
    assert line == f"FAILED: {source['error']} (1 busy events {window_words(_window(today))})"

    (tmp_path / "state" / "sources").rename(tmp_path / "state" / "gone")
    without = source_line(invoke("check", "--config", str(config)), busy)
    assert without.startswith("FAILED: ") and without.endswith("; no last good copy")


def _window(today: date) -> Horizon:
    """The window of a plan that has begun: only its read_from and read_to are looked at."""
    start = datetime.combine(today - timedelta(days=4), datetime.min.time(), BERLIN)
    end = datetime.combine(today + timedelta(days=30), datetime.min.time(), BERLIN)
    return Horizon(first=today, end=today, read_from=start, read_to=end, ends_at=end)


class RemarkingTarget:
    """A calendar with something to say about how liftrun treats it."""

    name = "remarking"

    def __init__(self, remarks: list[str]) -> None:
        self._remarks = remarks

    def list_owned(self, start: datetime, end: datetime) -> list[OwnedEvent]:
        return [
            OwnedEvent(
                "s1",
                "s1.ics",
                '"1"',
                start + timedelta(days=1),
                start + timedelta(days=1, hours=1),
                None,
            )
        ]

    def apply(self, actions: Sequence[Action]) -> Iterator[Outcome]:
        raise AssertionError("check writes nothing")

    def remarks(self) -> list[str]:
        return self._remarks


def test_check_shows_what_a_target_remarks() -> None:
    window = _window(datetime.now(UTC).date())
    said = ["the server ignores If-Match: each change is re-read first", "second remark"]
    target: CalendarTarget = RemarkingTarget(said)
    assert target_status(target, window) == (
        "ok (1 liftrun events); the server ignores If-Match: each change is re-read first; "
        "second remark"
    )
    assert target_status(RemarkingTarget([]), window) == "ok (1 liftrun events)"
