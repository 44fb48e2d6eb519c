"""A busy source is someone else's calendar: whatever it holds or however it stalls, it is that
source's failure, named by an identity of its own, and never the cycle's or the process's.

Real parts throughout: ``liftrun sync --once`` as a process (CI=true, no stdin) against
loopback servers that never answer or trickle a byte a second and a FIFO as a file source;
the only test double is a source that raises ``OverflowError`` (no real input is guaranteed to
make a parser raise once the parsers are hardened, and the engine must hold either way)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.cache import Cache
from adapters.ics.source import IcsSource
from adapters.protocol import SourceRead
from cli.main import main
from config.loader import load
from sync import wiring
from sync.engine import Wiring, run_cycle
from sync.sources import describe_failure, source_threads_alive, unique_names
from sync.state import StateStore
from tests.sync.hostile_servers import Stalling
from tests.test_sync_cli import CONFIG, WORK

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-12-01T08:00"
SOURCE_TIMEOUT = 3.0
HOSTILE = Path(__file__).parent / "fixtures" / "hostile"


def write_config(
    tmp_path: Path, *busy: str, timeout: float = SOURCE_TIMEOUT, extra: str = ""
) -> Path:
    work = tmp_path / "work.ics"
    work.write_text(WORK, encoding="utf-8")
    sources = ", ".join(json.dumps(b) for b in (str(work), *busy))
    text = CONFIG.format(busy=sources) + extra + f"[sync]\nsource_timeout_seconds = {timeout}\n"
    config = tmp_path / "liftrun.toml"
    config.write_text(text, encoding="utf-8")
    return config


def run(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [*args, "--config", str(config)])
    return result.exit_code, result.stdout, result.stderr


def sync_once(config: Path) -> tuple[int, dict[str, object], str]:
    code, out, err = run(config, "sync", "--once", "--now", NOW, "--format", "json")
    assert "Traceback" not in out + err
    return code, json.loads(out), err


def spawn(config: Path) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "cli", "sync", "--once", "--now", NOW, "--format", "json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CI": "true"}
    return subprocess.Popen(
        [*cmd, "--config", str(config)],
        cwd=config.parent,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def stalling() -> Iterator[tuple[Stalling, Stalling]]:
    with Stalling() as silent, Stalling(trickle=True) as trickle:
        yield silent, trickle


def hostile_sources(tmp_path: Path, servers: tuple[Stalling, Stalling]) -> list[str]:
    fifo = tmp_path / "busy.fifo"
    os.mkfifo(fifo)
    silent, trickle = servers
    return [silent.url("/silent.ics"), trickle.url("/trickle.ics"), str(fifo)]


# -- a stuck source never holds the process -----------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_stop_signal_ends_sync_once_within_seconds_whatever_the_sources_do(
    tmp_path: Path, stalling: tuple[Stalling, Stalling], signum: signal.Signals
) -> None:
    config = write_config(tmp_path, *hostile_sources(tmp_path, stalling), timeout=120)
    proc = spawn(config)
    deadline = time.monotonic() + 20  # the process starts and reaches the sources
    while stalling[0].accepted == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stalling[0].accepted, "the silent source was never asked"
    time.sleep(2)
    proc.send_signal(signum)
    sent = time.monotonic()
    out, err = proc.communicate(timeout=10)
    took = time.monotonic() - sent
    assert took < 5, f"exited {took:.1f} s after {signum.name}"
    assert proc.returncode in (0, 3), err  # 3 only when a source had already failed (the FIFO)
    assert "Traceback" not in err
    report = json.loads(out)
    assert report["stopped"] is True and report["writes"] == 0
    assert not (tmp_path / "out" / "liftrun.ics").exists()  # nothing placed on a partial view


def test_stuck_sources_fail_after_the_source_timeout_and_are_named(
    tmp_path: Path, stalling: tuple[Stalling, Stalling]
) -> None:
    busy = hostile_sources(tmp_path, stalling)
    config = write_config(tmp_path, *busy)
    started = time.monotonic()
    proc = spawn(config)
    out, err = proc.communicate(timeout=30)
    took = time.monotonic() - started
    assert proc.returncode == 3, err
    assert took < SOURCE_TIMEOUT + 6, f"sync --once took {took:.1f} s"  # + interpreter start
    assert "Traceback" not in err
    sources = json.loads(out)["sources"]
    silent, trickle = stalling
    failed = {name: s["error"] for name, s in sources.items() if not s["ok"]}
    assert f"http://127.0.0.1:{silent.port}/silent.ics" in failed
    assert f"http://127.0.0.1:{trickle.port}/trickle.ics" in failed
    assert busy[2] in failed  # the FIFO: refused, or no answer within the timeout
    assert sum(s["ok"] for s in sources.values()) == 1  # the good file still counts


def test_a_hanging_source_costs_one_thread_however_many_cycles_run(tmp_path: Path) -> None:
    """A source whose read outlives the cycle (here an ICS source with its default three-minute
    budget; CalDAV and Google sources have no overall deadline of their own) is not read again
    while that read is alive, so the loop does not gain a thread per cycle."""
    with Stalling() as silent:
        config = write_config(tmp_path, timeout=0.3)
        loaded = load(str(config), {})
        now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
        url = silent.url("/silent.ics")
        counts, errors = [], []
        readers_before = source_threads_alive()  # other tests' readers, if any are still alive
        with StateStore(loaded.state_dir) as store:
            for _ in range(5):
                built = wiring.build(loaded, now)
                built.sources.append(
                    IcsSource(url, cache=Cache(tmp_path / "cache"), tz=loaded.settings.zone)
                )
                report = run_cycle(loaded.settings, store, built, now=now)
                counts.append(threading.active_count())
                errors.append(report.sources[f"http://127.0.0.1:{silent.port}/silent.ics"].error)
        assert counts == [counts[0]] * 5, counts
        assert source_threads_alive() == readers_before + 1
        assert errors[0] == "no answer within 0.3 s"
        assert all("still reading from the previous cycle" in str(e) for e in errors[1:])
        silent.release()
        deadline = time.monotonic() + 5
        while source_threads_alive() > readers_before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert source_threads_alive() == readers_before  # answered at last, the reader ends


# -- whatever a source holds is that source's failure --------------------------------------------


class Overflowing:
    """A busy source whose parser overflows, as a calendar line with year 9999 once made it."""

    name = "someone else's calendar"

    def read_busy(self, start: datetime, end: datetime) -> SourceRead:
        raise OverflowError("date value out of range")


def test_a_source_raising_anything_is_its_own_error_and_the_feed_is_still_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path)
    code, report, _ = sync_once(config)
    assert code == 0 and report["writes"] == 20
    real_build = wiring.build

    def with_overflow(*args: object, **kwargs: object) -> Wiring:
        built = real_build(*args, **kwargs)  # type: ignore[arg-type]
        built.sources.append(Overflowing())
        return built

    monkeypatch.setattr(wiring, "build", with_overflow)
    push = 'push_to = "out/liftrun.ics"'
    config.write_text(config.read_text().replace(push, f"{push}\nalarm_minutes = 10"))
    code, report, _ = sync_once(config)
    assert code == 3
    sources = report["sources"]
    assert isinstance(sources, dict)
    assert sources["someone else's calendar"] == {
        "ok": False,
        "busy_events": 0,
        "error": "OverflowError: date value out of range",
    }
    (target,) = report["targets"].values()  # type: ignore[attr-defined]
    assert target["updated"] == 20 and not target["errors"]  # the alarm change still went out
    assert b"TRIGGER:-PT10M" in (tmp_path / "out" / "liftrun.ics").read_bytes()
    code, _, err = run(config, "status", "--check")
    assert code == 1 and "someone else's calendar: OverflowError" in err


@pytest.mark.parametrize("fixture", sorted(p.name for p in HOSTILE.glob("*.ics")))
def test_a_hostile_calendar_never_ends_the_cycle_in_a_traceback(
    tmp_path: Path, fixture: str
) -> None:
    config = write_config(tmp_path, str(HOSTILE / fixture))
    code, report, _ = sync_once(config)
    assert code in (0, 3)  # read tolerantly, or that source's error; never exit 1
    sources = report["sources"]
    assert isinstance(sources, dict)
    entry = sources[str(HOSTILE / fixture)]
    assert entry["ok"] or entry["error"]


def test_a_source_that_cannot_even_be_built_is_named_and_failed(tmp_path: Path) -> None:
    config = write_config(tmp_path, "file://elsewhere.example/busy.ics")
    code, report, _ = sync_once(config)
    assert code == 3
    sources = report["sources"]
    assert isinstance(sources, dict)
    error = sources["file://elsewhere.example/busy.ics"]["error"]
    assert "must name a local file" in str(error)


# -- two sources with one display name ----------------------------------------------------------

GOOD = "/calendar/ical/private-0123456789abcdef0123/basic.ics"
BAD = "/calendar/ical/private-fedcba9876543210fedc/basic.ics"


@pytest.fixture
def twin_server() -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = WORK.encode() if self.path == GOOD else b""
            self.send_response(200 if self.path == GOOD else 404)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_two_sources_with_one_display_name_each_keep_their_verdict(
    tmp_path: Path, twin_server: int
) -> None:
    base = f"http://127.0.0.1:{twin_server}"
    config = write_config(tmp_path, base + GOOD, base + BAD)
    code, report, _ = sync_once(config)
    shown = f"{base}/…/basic.ics"
    sources = report["sources"]
    assert isinstance(sources, dict)
    assert code == 3
    assert sources[shown]["ok"] and not sources[f"{shown} #2"]["ok"]
    unplaced = report["unplaced"]
    assert isinstance(unplaced, list) and len(unplaced) == 20
    assert all(
        u["reason"] == f"waiting for busy source {shown} #2, which could not be read"
        for u in unplaced
    )
    code, out, err = run(config, "status", "--check")
    assert code == 1 and f"source {shown} #2:" in err
    assert f"source {shown}: ok" in out and f"source {shown} #2: FAILING" in out
    everything = json.dumps(report) + out + err
    assert "0123456789abcdef" not in everything and "fedcba9876543210" not in everything


# -- the pieces ---------------------------------------------------------------------------------


def test_unique_names_are_stable_secret_free_and_never_empty() -> None:
    assert unique_names(["a", "b", "a", "a", "a #2", "", " "]) == [
        "a",
        "b",
        "a #2",
        "a #3",
        "a #2 #2",
        "busy source",
        "busy source #2",
    ]
    assert unique_names(["x\x1b[31m\n"]) == ["x\\x1b[31m"]


def test_a_failure_is_one_short_printable_line_without_the_address() -> None:
    secret = "https://calendar.google.com/calendar/ical/private-0123456789abcdef/basic.ics"
    exc = OSError(f"cannot reach {secret}\nthen \x1b[2J and a token abcdef0123456789abcdef")
    line = describe_failure(exc)
    assert line.startswith("OSError: cannot reach https://calendar.google.com/…")
    assert "private-" not in line and "0123456789abcdef" not in line
    assert "\n" not in line and "\x1b" not in line and "\\x1b" in line
    with_password = describe_failure(OSError("cannot reach https://alice:hunter2@cal.example/x"))
    assert with_password == "OSError: cannot reach https://cal.example/…"
    assert describe_failure(ValueError("bad http://[x/y")) == "ValueError: bad http://…"
    assert len(describe_failure(ValueError("x" * 10_000))) <= 300
    assert describe_failure(RecursionError()) == "RecursionError"
