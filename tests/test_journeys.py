"""The README's user journeys, run as a new user would: the same commands, as processes, on a
fresh directory. Google runs against the Calendar v3 emulator and CalDAV against a real
Radicale, the closest this machine gets to the real services; the container journey is
``tests/container`` (opt-in, it needs podman)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.caldav.servers import PASSWORD, Server, start
from tests.google_emulator import running_emulator

LIFTRUN = str(Path(sys.executable).with_name("liftrun"))


def liftrun(cwd: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = subprocess.run(
        [LIFTRUN, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    return result.returncode, result.stdout + result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_journey_1_subscribe_to_the_feed(tmp_path: Path) -> None:
    code, out = liftrun(tmp_path, "sync", "--once")
    assert code == 0, out
    assert (tmp_path / "out" / "liftrun.ics").stat().st_size > 0
    port = free_port()
    env = {**os.environ, "LIFTRUN_FEED__LISTEN": f"127.0.0.1:{port}"}
    server = subprocess.Popen(
        [LIFTRUN, "serve"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        code, out = liftrun(
            tmp_path, "feed", "url", env={"LIFTRUN_FEED__LISTEN": f"127.0.0.1:{port}"}
        )
        (url,) = [line for line in out.splitlines() if line.startswith("http://")]
        assert any(line.startswith("webcal://") for line in out.splitlines())
        first = httpx.get(url)
        assert first.status_code == 200 and first.headers["content-type"].startswith(
            "text/calendar"
        )
        again = httpx.get(url, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304
    finally:
        server.terminate()
        server.wait(timeout=10)


GOOGLE = """\
timezone = "Europe/Berlin"
[athlete]
bodyweight_kg = 70
[goal]
race = "half"
race_date = "2027-04-18"
plan_start = "2027-01-04"
[availability]
mon = ["06:00-08:00"]
wed = ["06:00-08:00"]
fri = ["06:00-08:00"]
sat = ["07:00-12:00"]
[[calendars]]
kind = "google"
auth = "none"                                   # the emulator; "oauth" against Google
api_endpoint = "{endpoint}"
push_to = "Training"
busy_from = ["primary"]
"""


def test_journey_2_sessions_in_google_calendar(tmp_path: Path) -> None:
    with running_emulator() as emu:
        (tmp_path / "liftrun.toml").write_text(GOOGLE.format(endpoint=emu.api_endpoint))
        code, out = liftrun(tmp_path, "sync", "--once", "--dry-run")
        assert code == 0 and "would create" in out, out
        code, out = liftrun(tmp_path, "sync", "--once", "--format", "json")
        assert code == 0, out
        created = json.loads(out.splitlines()[-1])["targets"]["Training"]["created"]
        assert created > 0
        code, out = liftrun(tmp_path, "status")
        assert code == 0 and "target Training: ok" in out
        code, out = liftrun(tmp_path, "auth", "google")
        assert code == 2 and "auth = 'oauth'" in out  # this config needs no sign-in


CALDAV = """\
timezone = "Europe/Berlin"
[athlete]
bodyweight_kg = 70
[goal]
race = "half"
race_date = "2027-04-18"
plan_start = "2027-01-04"
[availability]
mon = ["06:00-08:00"]
wed = ["06:00-08:00"]
fri = ["06:00-08:00"]
sat = ["07:00-12:00"]
[[calendars]]
kind = "caldav"
url = "{url}"
username = "{username}"
password_file = "{password_file}"
push_to = "Training"
busy_from = []
"""


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[Server]:
    server = start("radicale", tmp_path / "radicale")
    try:
        yield server
    finally:
        server.stop()


def test_journey_3_caldav(tmp_path: Path, radicale: Server) -> None:
    secret = tmp_path / "caldav-password"
    secret.write_text(PASSWORD + "\n")
    secret.chmod(0o600)
    (tmp_path / "liftrun.toml").write_text(
        CALDAV.format(url=radicale.url, username=radicale.username, password_file=secret)
    )
    code, out = liftrun(tmp_path, "sync", "--once")
    assert code == 0 and "created" in out, out
    assert PASSWORD not in out
    code, out = liftrun(tmp_path, "sync", "--once", "--format", "json")
    report = json.loads(out.splitlines()[-1])
    assert code == 0 and report["targets"]["Training"]["unchanged"] > 0
    assert report["targets"]["Training"]["created"] == 0
