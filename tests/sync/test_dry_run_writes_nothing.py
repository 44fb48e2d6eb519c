"""``liftrun sync --once --dry-run`` after a real sync leaves every byte of the state directory
and of every output file as it was, for every calendar kind: the adapters read their caches
but do not write them, and the state store's files are left alone.

Each kind has its test (here, and for CalDAV and Google beside their servers); one more runs
every kind in one config, so every cache namespace is warm in one state directory and every
source has something new to say (which a real run would write to its cache).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from click.testing import CliRunner

from cli.main import main
from tests.athlete import athlete_toml
from tests.background_server import BackgroundServer
from tests.caldav.servers import put_event, start
from tests.caldav.test_caldav_adapter import _cal, _event, seed_busy
from tests.google.test_google_sync import add_busy
from tests.google_emulator import running_emulator
from tests.sync.harness import BERLIN, START, Rig
from tests.test_sync_cli import CONFIG, WORK

NOW = "2026-12-01T08:00"

BUSY = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//tests//EN\r
BEGIN:VEVENT\r
UID:{uid}@example.com\r
DTSTAMP:20261201T000000Z\r
DTSTART;TZID=Europe/Berlin:{start}\r
DTEND;TZID=Europe/Berlin:{end}\r
SUMMARY:Busy\r
END:VEVENT\r
END:VCALENDAR\r
"""


def tree(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every file under ``root``: path -> (size, mode, sha256); directories by mode alone."""
    out: dict[str, tuple[int, int, str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            rel = str(path.relative_to(root))
            if path.is_dir() and not path.is_symlink():
                out[rel] = (0, st.st_mode, "dir")
            else:
                out[rel] = (st.st_size, st.st_mode, hashlib.sha256(path.read_bytes()).hexdigest())
    return out


def namespaces(cache_dir: Path) -> set[str]:
    """The cache namespaces with an entry in ``cache_dir`` (file names ``<namespace>-<hash>``)."""
    return {p.name.rsplit("-", 1)[0] for p in cache_dir.glob("*.cache")}


def sync(config: Path, *args: str, now: str = NOW) -> tuple[int, str]:
    """``liftrun sync --once`` (JSON report) with ``args``: the exit code and stdout."""
    result = CliRunner().invoke(
        main, ["sync", "--once", "--config", str(config), "--now", now, "--format", "json", *args]
    )
    return result.exit_code, result.stdout


def assert_dry_run_writes_nothing(
    config: Path, roots: list[Path], *, now: str = NOW
) -> dict[str, object]:
    """The dry run's report (parsed JSON), after checking it changed nothing under ``roots``."""
    before = {str(r): tree(r) for r in roots}
    code, out = sync(config, "--dry-run", now=now)
    after = {str(r): tree(r) for r in roots}
    assert code == 0, out
    changed = {
        f"{root}/{path}": (b.get(path), a.get(path))
        for root in before
        for b, a in [(before[root], after[root])]
        for path in b.keys() | a.keys()
        if b.get(path) != a.get(path)
    }
    assert not changed, changed
    report: dict[str, object] = json.loads(out)
    assert report["dry_run"] is True
    return report


class _Busy(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar")
        self.send_header("Content-Length", str(len(self.body)))
        self.send_header("ETag", f'"{hashlib.sha256(self.body).hexdigest()[:16]}"')
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class BusyServer(BackgroundServer):
    def __init__(self) -> None:
        first = BUSY.format(uid="lunch", start="20270105T060000", end="20270105T070000")
        self.handler: type[_Busy] = type("Handler", (_Busy,), {"body": first.encode()})
        self._server = HTTPServer(("127.0.0.1", 0), self.handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/busy.ics"


def test_ics_feed_with_file_and_http_sources(tmp_path: Path) -> None:
    work = tmp_path / "work.ics"
    work.write_text(WORK, encoding="utf-8")
    with BusyServer() as server:
        config = tmp_path / "liftrun.toml"
        config.write_text(CONFIG.format(busy=f'"{work}", "{server.url}"'), encoding="utf-8")
        code, out = sync(config)
        assert code == 0, out
        warm = namespaces(tmp_path / "state" / "sources")
        assert warm == {"ics-body", "ics-validators", "ics-parsed-busy"}
        # a new busy event: the dry run has something to say
        server.handler.body = BUSY.format(
            uid="holiday", start="20270104T000000", end="20270111T000000"
        ).encode()
        report = assert_dry_run_writes_nothing(config, [tmp_path / "state", tmp_path / "out"])
    assert report["actions"], report


def test_vdir_target_and_source(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.add_busy(datetime(2027, 1, 5, 6, 0, tzinfo=BERLIN))
    config = tmp_path / "liftrun.toml"
    now = START.isoformat()
    code, out = sync(config, now=now)
    assert code == 0, out
    assert rig.events()
    rig.add_busy(datetime(2027, 1, 4, 0, 0, tzinfo=BERLIN), hours=24 * 7, title="Holiday")
    report = assert_dry_run_writes_nothing(
        config, [tmp_path / "state", rig.training, rig.busy], now=now
    )
    assert report["actions"], report


EVERY_KIND = """\
[sync]
horizon_days = 28
[[calendars]]
kind = "ics"
push_to = "out/liftrun.ics"
push_busy_shadow_to = "out/busy.ics"
busy_from = ["{work}", "{http}"]
[[calendars]]
kind = "caldav"
name = "caldav"
url = "{dav_url}"
username = "{dav_user}"
password = "{dav_password}"
push_to = "Training {unique}"
busy_from = ["Work {unique}"]
[[calendars]]
kind = "google"
name = "google"
auth = "none"
api_endpoint = "{google}"
push_to = "Training"
busy_from = ["primary"]
[[calendars]]
kind = "vdir"
name = "vdir"
push_to = "training"
busy_from = ["busy"]
"""
EVERY_KIND_NOW = datetime(2027, 3, 15, 5, 0, tzinfo=BERLIN)


def test_every_kind_in_one_state_directory(tmp_path: Path) -> None:
    unique = uuid.uuid4().hex[:8]
    work = tmp_path / "work.ics"
    work.write_text(WORK, encoding="utf-8")
    rig = Rig(tmp_path)  # the vdir folders; its config is replaced by one with every kind
    with contextlib.ExitStack() as stack:
        http = stack.enter_context(BusyServer())
        emu = stack.enter_context(running_emulator())
        dav = start("radicale", tmp_path / "radicale")
        stack.callback(dav.stop)
        seed_busy(dav, f"Work {unique}", f"work-{unique}")
        config = tmp_path / "liftrun.toml"
        athlete = athlete_toml(race_date="2027-06-20", plan_start="2027-03-08")
        calendars = EVERY_KIND.format(
            work=work,
            http=http.url,
            dav_url=dav.url,
            dav_user=dav.username,
            dav_password=dav.password,
            unique=unique,
            google=emu.api_endpoint,
        )
        config.write_text(athlete + calendars, encoding="utf-8")
        now = EVERY_KIND_NOW.isoformat()
        code, out = sync(config, now=now)
        assert code == 0, out
        state = tmp_path / "state"
        assert namespaces(state / "sources") == {"ics-body", "ics-validators", "ics-parsed-busy"}
        assert namespaces(state / "caldav") == {"caldav-target", "caldav-source"}
        assert namespaces(state / "google") == {"google-target", "google-busy"}
        assert rig.events()
        # every source has news: a real run would rewrite each cache
        holiday = EVERY_KIND_NOW + timedelta(days=1)
        http.handler.body = BUSY.format(
            uid="holiday", start="20270316T000000", end="20270319T000000"
        ).encode()
        work.write_text(WORK.replace("Stand-up", "Stand-up meeting"), encoding="utf-8")
        event = _event(
            f"trip-{unique}@example.org",
            "SUMMARY:Trip\r\nDTSTART;VALUE=DATE:20270320\r\nDTEND;VALUE=DATE:20270322\r\n",
        )
        put_event(dav, f"{dav.home}work-{unique}/trip.ics", _cal(event))
        add_busy(emu, holiday.replace(hour=6), hours=14)
        rig.add_busy(holiday + timedelta(days=8), hours=3)
        report = assert_dry_run_writes_nothing(
            config,
            [state, tmp_path / "out", rig.training, rig.busy],
            now=now,
        )
    assert report["actions"], report
