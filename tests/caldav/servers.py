"""Real CalDAV servers (Radicale, Xandikos) as subprocesses on free loopback ports.

Reusable by end-to-end tests: ``start_radicale``/``start_xandikos`` return a running
:class:`Server`, ``Server.stop`` ends it. Both are the PyPI packages installed in the venv, run
with the venv's interpreter, so what the adapter is tested against is what an athlete runs.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

USERNAME = "athlete"
PASSWORD = "s3cret-Pa55word"  # distinctive, so a test can assert it never leaks
STARTUP_TIMEOUT = 20.0


def free_port() -> int:
    """A loopback port nothing listens on right now (the OS picks; a race is unlikely)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """One running server: where it is, whom it expects, where its principal lives."""

    kind: str  # "radicale" | "xandikos"
    url: str  # base URL, e.g. http://127.0.0.1:PORT/
    principal: str  # absolute URL of the user's principal collection
    home: str  # absolute URL of the calendar-home-set
    username: str | None
    password: str | None
    root: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def auth(self) -> httpx.BasicAuth | None:
        if self.username is None or self.password is None:
            return None
        return httpx.BasicAuth(self.username, self.password)

    def http(self) -> httpx.Client:
        """A plain client for seeding and for playing the athlete's own calendar app."""
        return httpx.Client(auth=self.auth, timeout=10.0)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def _wait_until_up(server: Server, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        assert server.process is not None
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.kind} exited at start:\n{log.read_text()[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            response = httpx.request(
                "PROPFIND", server.url, headers={"Depth": "0"}, auth=server.auth, timeout=1.0
            )
            if response.status_code < 500:
                return
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"{server.kind} did not answer within {STARTUP_TIMEOUT} s")


def _spawn(args: list[str], root: Path, kind: str) -> tuple[subprocess.Popen[bytes], Path]:
    log = root / f"{kind}.log"
    fh = log.open("wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RADICALE")}
    process = subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=root)
    fh.close()
    return process, log


def start_radicale(root: Path, *, port: int | None = None) -> Server:
    """Radicale with htpasswd (plain) auth for one user; no auth delay, so wrong-password tests
    stay fast."""
    root.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    htpasswd = root / "users"
    htpasswd.write_text(f"{USERNAME}:{PASSWORD}\n")
    config = root / "radicale.conf"
    config.write_text(
        "\n".join(
            [
                "[server]",
                f"hosts = 127.0.0.1:{port}",
                "[auth]",
                "type = htpasswd",
                f"htpasswd_filename = {htpasswd}",
                "htpasswd_encryption = plain",
                "delay = 0",
                "[rights]",
                "type = owner_only",
                "[storage]",
                f"filesystem_folder = {root / 'collections'}",
                "[logging]",
                "level = warning",
                "",
            ]
        )
    )
    args = [sys.executable, "-m", "radicale", "--config", str(config)]
    process, log = _spawn(args, root, "radicale")
    base = f"http://127.0.0.1:{port}/"
    server = Server(
        kind="radicale",
        url=base,
        principal=f"{base}{USERNAME}/",
        home=f"{base}{USERNAME}/",
        username=USERNAME,
        password=PASSWORD,
        root=root,
        process=process,
    )
    _wait_until_up(server, log)
    return server


def start_xandikos(root: Path, *, port: int | None = None) -> Server:
    """Xandikos serves without auth (its Basic auth needs TLS); ``--defaults`` creates the
    principal and calendar home."""
    root.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    xandikos = str(Path(sys.executable).with_name("xandikos"))
    args = [
        xandikos,
        "serve",
        "--defaults",
        "-d",
        str(root / "data"),
        "--state-dir",
        str(root / "state"),
        "-l",
        "127.0.0.1",
        "-p",
        str(port),
        "--no-detect-systemd",
    ]
    process, log = _spawn(args, root, "xandikos")
    base = f"http://127.0.0.1:{port}/"
    server = Server(
        kind="xandikos",
        url=base,
        principal=f"{base}user/",
        home=f"{base}user/calendars/",
        username=None,
        password=None,
        root=root,
        process=process,
    )
    _wait_until_up(server, log)
    return server


def start(kind: str, root: Path, *, port: int | None = None) -> Server:
    if kind == "radicale":
        return start_radicale(root, port=port)
    if kind == "xandikos":
        return start_xandikos(root, port=port)
    raise ValueError(f"unknown CalDAV server kind {kind!r}")


KINDS = ("radicale", "xandikos")


# ------------------------------------------------------------------------------------------
# Seeding: what an athlete's calendar app would do, with plain HTTP


def make_calendar(server: Server, display_name: str, slug: str) -> str:
    """MKCALENDAR ``slug`` under the home with a display name; returns its URL."""
    url = f"{server.home}{slug}/"
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        f"<D:set><D:prop><D:displayname>{display_name}</D:displayname></D:prop></D:set>"
        "</C:mkcalendar>"
    )
    with server.http() as client:
        response = client.request(
            "MKCALENDAR", url, content=body, headers={"Content-Type": "application/xml"}
        )
    assert response.status_code in (200, 201), (response.status_code, response.text)
    return url


def put_event(server: Server, url: str, ics: str | bytes, *, etag: str | None = None) -> str:
    """PUT one resource as a calendar app would; returns the new ETag (or '')."""
    data = ics.encode() if isinstance(ics, str) else ics
    headers = {"Content-Type": "text/calendar; charset=utf-8"}
    if etag is not None:
        headers["If-Match"] = etag
    with server.http() as client:
        response = client.put(url, content=data, headers=headers)
    assert response.status_code in (200, 201, 204), (response.status_code, response.text)
    return str(response.headers.get("ETag", ""))


def get_event(server: Server, url: str) -> tuple[int, bytes, str]:
    with server.http() as client:
        response = client.get(url)
    return response.status_code, response.content, str(response.headers.get("ETag", ""))


def delete_event(server: Server, url: str) -> int:
    with server.http() as client:
        return client.delete(url).status_code
