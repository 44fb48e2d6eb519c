"""``liftrun sync --once`` end to end: real files, the embedded path from plan to feed."""

from __future__ import annotations

import json
import random
from pathlib import Path

import icalendar
from click.testing import CliRunner

from cli.main import main
from sync.loop import next_delay

CONFIG = """\
timezone = "Europe/Berlin"
[athlete]
bodyweight_kg = 70
lift_days = 3
run_days = 2
[goal]
race = "half"
race_date = "2027-04-18"
plan_start = "2027-01-04"
[availability]
mon = ["06:00-08:00", "17:30-21:30"]
tue = ["06:00-08:00", "17:30-21:30"]
wed = ["06:00-08:00", "17:30-21:30"]
thu = ["06:00-08:00", "17:30-21:30"]
fri = ["06:00-08:00", "17:00-20:00"]
sat = ["07:00-12:00"]
[state]
path = "state"
[[calendars]]
kind = "ics"
push_to = "out/liftrun.ics"
push_busy_shadow_to = "out/busy.ics"
busy_from = [{busy}]
"""

WORK = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//tests//EN\r
BEGIN:VEVENT\r
UID:standup@example.com\r
DTSTAMP:20261201T000000Z\r
DTSTART;TZID=Europe/Berlin:20270104T060000\r
DTEND;TZID=Europe/Berlin:20270104T063000\r
RRULE:FREQ=WEEKLY;BYDAY=MO\r
SUMMARY:Stand-up\r
END:VEVENT\r
END:VCALENDAR\r
"""


def sync(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        [
            "sync",
            "--once",
            "--config",
            str(tmp_path / "liftrun.toml"),
            "--now",
            "2026-12-01T08:00",
            *args,
        ],
    )
    # a JSON report is stdout alone: log lines and warnings go to stderr
    json_report = "--format" in args and "json" in args
    return result.exit_code, result.stdout if json_report else result.stdout + result.stderr


def setup(tmp_path: Path) -> Path:
    work = tmp_path / "work.ics"
    work.write_text(WORK, encoding="utf-8")
    (tmp_path / "liftrun.toml").write_text(CONFIG.format(busy=f'"{work}"'), encoding="utf-8")
    return work


def test_once_writes_the_feed_around_busy_time_and_is_idempotent(tmp_path: Path) -> None:
    setup(tmp_path)
    code, out = sync(tmp_path, "--format", "json")
    assert code == 0, out
    report = json.loads(out)
    feed = tmp_path / "out" / "liftrun.ics"
    (target,) = report["targets"].values()
    assert target["created"] == 20  # four weeks: the horizon, from the plan's first day
    (source,) = report["sources"].values()
    assert source["ok"] and source["busy_events"] >= 4
    cal = icalendar.Calendar.from_ical(feed.read_bytes())
    mondays = [e for e in cal.walk("VEVENT") if e.decoded("DTSTART").weekday() == 0]
    assert all(e.decoded("DTSTART").strftime("%H:%M") == "06:45" for e in mondays)
    first = feed.read_bytes()
    code, out = sync(tmp_path, "--format", "json")
    (target,) = json.loads(out)["targets"].values()
    assert code == 0 and target["created"] == 0 and target["unchanged"] == 20
    assert feed.read_bytes() == first
    assert (tmp_path / "out" / "busy.ics").exists()
    # the token the feed server needs is made by the writer of the state: `serve` may run with
    # the state mounted read-only
    assert (tmp_path / "state" / "feed-token").stat().st_mode & 0o777 == 0o600


def test_a_failed_source_changes_nothing_and_exits_3(tmp_path: Path) -> None:
    work = setup(tmp_path)
    sync(tmp_path)
    feed = tmp_path / "out" / "liftrun.ics"
    before = feed.read_bytes()
    work.write_text("<html>login</html>", encoding="utf-8")  # last good copy is used
    code, out = sync(tmp_path, "--format", "json")
    assert code == 3
    (source,) = json.loads(out)["sources"].values()
    assert not source["ok"] and source["error"]
    assert feed.read_bytes() == before
    work.unlink()
    (tmp_path / "state" / "sources").rename(tmp_path / "state" / "gone")  # no last good copy
    code, out = sync(tmp_path)
    assert code == 3 and "nothing new is placed and nothing is cancelled" in out
    assert feed.read_bytes() == before


def test_an_unreadable_feed_is_reported_not_overwritten(tmp_path: Path) -> None:
    setup(tmp_path)
    feed = tmp_path / "out" / "liftrun.ics"
    feed.parent.mkdir()
    feed.write_text("<html>someone else's file</html>")
    code, out = sync(tmp_path)
    assert code == 3 and "not a valid feed" in out
    assert feed.read_text() == "<html>someone else's file</html>"


def test_a_lost_feed_file_is_written_again_and_nothing_counts_as_deleted(tmp_path: Path) -> None:
    """Nobody deletes events from a subscribed feed: a feed file that went (a wiped volume, a
    stray rm) is a reset of that target, never twenty tombstones."""
    setup(tmp_path)
    sync(tmp_path)
    feed = tmp_path / "out" / "liftrun.ics"
    feed.unlink()
    code, out = sync(tmp_path, "--format", "json")
    report = json.loads(out)
    assert code == 0 and not report["tombstoned"], report
    assert any("does not exist" in w for w in report["warnings"]), report["warnings"]
    code, out = sync(tmp_path, "--format", "json")
    (target,) = json.loads(out)["targets"].values()
    assert code == 0 and target["created"] == 20
    assert len(icalendar.Calendar.from_ical(feed.read_bytes()).walk("VEVENT")) == 20


def test_twenty_idle_cycles_leave_the_feed_and_its_shadow_untouched(tmp_path: Path) -> None:
    setup(tmp_path)
    sync(tmp_path)
    files = [tmp_path / "out" / "liftrun.ics", tmp_path / "out" / "busy.ics"]
    stamps = [f.stat().st_mtime_ns for f in files]
    for _ in range(20):
        code, out = sync(tmp_path, "--format", "json")
        (target,) = json.loads(out)["targets"].values()
        assert code == 0 and target["unchanged"] == 20
        assert target["created"] + target["updated"] + target["moved"] == 0
    assert [f.stat().st_mtime_ns for f in files] == stamps


def test_the_loop_period_is_jittered_by_at_most_ten_percent() -> None:
    rng = random.Random(1)
    delays = [next_delay(15, rng) for _ in range(2000)]
    assert 810 <= min(delays) < 830 and 970 < max(delays) <= 990


def test_a_secret_source_address_never_reaches_logs_or_reports(tmp_path: Path) -> None:
    secret = "https://127.0.0.1:9/private-abc123def456ghi789/basic.ics"
    (tmp_path / "liftrun.toml").write_text(CONFIG.format(busy=f'"{secret}"'), encoding="utf-8")
    for fmt in ("text", "json"):
        code, out = sync(tmp_path, "--log-format", fmt, "--format", fmt)
        assert code == 3
        assert "private-abc123def456ghi789" not in out
        assert "127.0.0.1" in out or "basic.ics" in out  # still says which source failed


def test_plan_prints_the_times_a_sync_pushes(tmp_path: Path) -> None:
    """`liftrun plan` and a sync cycle place through one pipeline (planner.placement.place_plan):
    given the same busy time and clock, the plan shows each session where the feed gets it."""
    work = setup(tmp_path)
    config, now = str(tmp_path / "liftrun.toml"), "2026-12-01T08:00"
    runner = CliRunner()
    planned = runner.invoke(
        main, ["plan", "--config", config, "--now", now, "--format", "json", "--busy", str(work)]
    )
    assert planned.exit_code == 0, planned.output
    shown = {s["id"]: s["start"] for s in json.loads(planned.stdout)["sessions"] if s["start"]}
    code, out = sync(tmp_path)
    assert code == 0, out
    feed = icalendar.Calendar.from_ical((tmp_path / "out" / "liftrun.ics").read_bytes())
    pushed = {
        str(e["UID"]).removesuffix("@liftrun.invalid"): e.decoded("DTSTART").isoformat()
        for e in feed.walk("VEVENT")
    }
    assert len(pushed) == 20
    assert {k: shown.get(k) for k in pushed} == pushed
