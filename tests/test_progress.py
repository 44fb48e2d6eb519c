"""Progress on a terminal (issue 16): a long push draws a bar per target on stderr and
``check`` a spinner line per calendar, when and only when a person is watching. Each command
runs for real on a pseudo-terminal (its stdout and stderr on the pty, as in a shell); piped,
``--format json`` or on a dumb terminal it prints what it printed before progress existed."""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from sync.engine import run_cycle
from sync.state import StateStore
from sync.wake import request_cycle
from sync.wiring import build
from tests.sync.harness import START, Rig

ROOT = Path(__file__).resolve().parents[1]
NOW = START.isoformat()
ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# what could make rich draw where it should not, or not draw where it should
RICH_ENV = ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS", "LINES")


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []

    def on_write(self, target: str, done: int, total: int) -> None:
        self.calls.append((target, done, total))


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in RICH_ENV}
    return {**env, "PYTHONPATH": str(ROOT), "TERM": "xterm-256color", **extra}


def liftrun(*args: str) -> list[str]:
    return [sys.executable, "-m", "cli.main", *args]


class Pty:
    """A command with its stdin, stdout and stderr on one pseudo-terminal; what it wrote is
    collected as it comes (a full pty buffer would block the command)."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        # a wide terminal: the temporary paths in the lines fit on one line
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 250, 0, 0))
        self.proc = subprocess.Popen(
            args, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env, close_fds=True
        )
        os.close(slave)
        self.out = ""

    def read_until(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.out and self._read(deadline - time.monotonic()):
            pass
        assert text in self.out, self.out
        return self.out

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        deadline = time.monotonic() + timeout
        while self._read(deadline - time.monotonic()):
            pass
        code = self.proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        os.close(self.master)
        return code, self.out

    def _read(self, left: float) -> bool:
        if left <= 0:
            return False
        ready, _, _ = select.select([self.master], [], [], left)
        if not ready:
            return False
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: every writer has closed the terminal
            return False
        self.out += chunk.decode(errors="replace")
        return bool(chunk)


def on_pty(args: list[str], cwd: Path, **env: str) -> tuple[int, str]:
    return Pty(args, cwd, environment(**env)).finish()


def piped(args: list[str], cwd: Path) -> tuple[int, str]:
    done = subprocess.run(
        args,
        check=False,
        cwd=cwd,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    return done.returncode, done.stdout.decode()


def after_drawing(terminal: str) -> str:
    """What the terminal shows once a transient drawing is erased: what follows the last
    line erase (rich ends its drawing with one)."""
    return terminal[terminal.rindex("\x1b[2K") + len("\x1b[2K") :]


# -- the engine's hook --------------------------------------------------------------------------


def test_the_engine_tells_each_write_and_nothing_for_idle_or_dry_cycles(tmp_path: Path) -> None:
    rig = Rig(tmp_path, horizon=42)
    loaded = rig.loaded()
    with StateStore(loaded.state_dir) as store:
        dry = Recorder()
        run_cycle(
            loaded.settings, store, build(loaded, START), now=START, dry_run=True, progress=dry
        )
        first = Recorder()
        report = run_cycle(loaded.settings, store, build(loaded, START), now=START, progress=first)
        idle = Recorder()
        run_cycle(loaded.settings, store, build(loaded, START), now=START, progress=idle)
    created = report.targets["training"].created
    assert created >= 25
    assert first.calls == [("training", n, created) for n in range(created + 1)]
    assert dry.calls == idle.calls == []


# -- the drawing itself -------------------------------------------------------------------------

LOG_DURING_PUSH = """
import logging
from cli.progress import PushProgress
from sync import logs

logs.setup("text")
with PushProgress(enabled=True) as bars:
    for done in range(11):
        bars.on_write("training", done, 10)
        if done == 5:
            logging.getLogger("liftrun.sync").warning("halfway there")
print("after")
"""

SMALL_PUSH = """
import sys
from cli.progress import PushProgress

with PushProgress(enabled=True) as bars:
    for done in range(5):
        bars.on_write("training", done, 4)
print("rich" in sys.modules)
"""


def test_a_log_line_during_a_push_is_written_whole_above_the_bar(tmp_path: Path) -> None:
    code, terminal = on_pty([sys.executable, "-c", LOG_DURING_PUSH], tmp_path)
    assert code == 0, terminal
    lines = ESCAPE.sub("", terminal).replace("\r\n", "\n").split("\n")
    assert any(re.fullmatch(r".*WARNING.* halfway there", line) for line in lines), terminal
    assert "10/10" in terminal
    assert after_drawing(terminal) == "after\r\n"


def test_a_small_push_draws_nothing_and_imports_no_rich(tmp_path: Path) -> None:
    code, terminal = on_pty([sys.executable, "-c", SMALL_PUSH], tmp_path)
    assert code == 0, terminal
    assert terminal == "False\r\n"


# -- check --------------------------------------------------------------------------------------

WORK = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\nBEGIN:VEVENT\r\n"
    "UID:work@example.com\r\nDTSTAMP:20261201T000000Z\r\nDTSTART:20270105T080000Z\r\n"
    "DTEND:20270105T090000Z\r\nSUMMARY:Work\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def three_calendars(root: Path) -> Path:
    """The rig's vdir target and busy folder, and an ICS file of busy time: three calendars."""
    rig = Rig(root)
    work = root / "work.ics"
    work.write_text(WORK, encoding="utf-8")
    config = rig.root / "liftrun.toml"
    with config.open("a", encoding="utf-8") as toml:
        toml.write(f'\n[[calendars]]\nkind = "ics"\nbusy_from = ["{work}"]\n')
    return config


def test_check_on_a_terminal_shows_each_calendar_being_reached_then_its_line(
    tmp_path: Path,
) -> None:
    config = three_calendars(tmp_path)
    check = liftrun("check", "--config", str(config))
    code, pipe = piped(check, tmp_path)
    assert code == 0, pipe
    results = [line for line in pipe.splitlines() if line.startswith(("source ", "target "))]
    assert len(results) == 3
    code, terminal = on_pty(check, tmp_path)
    assert code == 0, terminal
    drawn, shown = terminal[: terminal.rindex("\x1b[2K")], after_drawing(terminal)
    for line in results:
        assert f"{line.split(': ok')[0]}: reaching…" in drawn
        assert line in drawn  # the spinner line turned into the result
    first = terminal[: terminal.index("\x1b")]
    assert first + shown == pipe.replace("\n", "\r\n")


# -- sync ---------------------------------------------------------------------------------------


def sync_once(rig: Rig, *extra: str) -> list[str]:
    return liftrun(
        "sync", "--once", "--now", NOW, "--config", str(rig.root / "liftrun.toml"), *extra
    )


def test_a_first_push_on_a_terminal_draws_a_bar_then_the_lines_a_pipe_gets(
    tmp_path: Path,
) -> None:
    shown, quiet = tmp_path / "shown", tmp_path / "quiet"
    shown.mkdir()
    quiet.mkdir()
    rig, twin = Rig(shown, horizon=42), Rig(quiet, horizon=42)
    code, terminal = on_pty(sync_once(rig), shown)
    assert code == 0, terminal
    created = len(rig.events())
    assert created >= 25
    assert "pushing to training" in terminal
    assert f"{created}/{created}" in terminal
    code, pipe = piped(sync_once(twin), quiet)
    assert code == 0, pipe
    assert "\x1b" not in pipe and "pushing to" not in pipe
    assert f"target training: {created} created" in pipe
    # once the bar is erased the terminal holds the pipe's lines, byte for byte (the pty
    # turns each \n into \r\n)
    expected = pipe.replace(str(quiet), str(shown)).replace("\n", "\r\n")
    assert after_drawing(terminal) == expected


def test_json_on_a_terminal_is_the_json_alone(tmp_path: Path) -> None:
    rig = Rig(tmp_path, horizon=42)
    code, terminal = on_pty(sync_once(rig, "--format", "json"), tmp_path)
    assert code == 0, terminal
    assert "\x1b" not in terminal
    report = json.loads(terminal)
    assert report["targets"]["training"]["created"] >= 25


def test_a_dumb_terminal_or_json_logs_get_no_drawing(tmp_path: Path) -> None:
    for name, args, env in (
        ("dumb", (), {"TERM": "dumb"}),
        ("opted-out", (), {"TTY_COMPATIBLE": "0"}),
        ("json-logs", ("--log-format", "json"), {}),
    ):
        (tmp_path / name).mkdir()
        rig = Rig(tmp_path / name, horizon=42)
        code, terminal = on_pty(sync_once(rig, *args), tmp_path / name, **env)
        assert code == 0, terminal
        assert "pushing to" not in terminal and "\x1b" not in terminal, name
        assert "target training:" in terminal, name


def test_the_loop_draws_for_its_first_push_and_not_for_an_idle_cycle(tmp_path: Path) -> None:
    rig = Rig(tmp_path, horizon=42)
    loop = Pty(liftrun("sync", "--config", str(rig.root / "liftrun.toml")), tmp_path, environment())
    try:
        first = loop.read_until("target training:")
        assert "pushing to training" in first
        seen = len(first)
        request_cycle(rig.loaded().state_dir)  # as the athlete's page does: an idle cycle now
        loop.read_until("target training: 0 created")
    finally:
        loop.proc.send_signal(signal.SIGTERM)
        code, out = loop.finish()
    assert code == 0, out
    later = out[seen:]
    assert "pushing to" not in later and "\x1b" not in later
    woken = [line for line in later.split("\r\n") if "woken by an action" in line]
    assert len(woken) == 1 and re.fullmatch(
        r"\d{4}-\d\d-\d\d [\d:,]+ INFO liftrun\.sync: .*", woken[0]
    )
