"""Real CalDAV servers (Radicale, Xandikos, Cyrus) as subprocesses on free loopback ports.

Reusable by end-to-end tests: ``start_radicale``/``start_xandikos``/``start_cyrus`` return a
running :class:`Server`, ``Server.stop`` ends it. Radicale and Xandikos are the PyPI packages
installed in the venv, run with the venv's interpreter, so what the adapter is tested against is
what an athlete runs. Cyrus IMAP's CalDAV (the server Fastmail runs) is Debian's packages
(``cyrus-imapd``, ``cyrus-caldav``, ``sasl2-bin``): where they are missing, or there is no user
to run it as, ``start_cyrus`` raises :class:`ServerUnavailable` and the tests skip.
"""

from __future__ import annotations

import atexit
import contextlib
import grp
import imaplib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

USERNAME = "athlete"
PASSWORD = "s3cret-Pa55word"  # distinctive, so a test can assert it never leaks
STARTUP_TIMEOUT = 20.0


class ServerUnavailable(RuntimeError):
    """A server this machine cannot run (not installed, no user to run it as): its tests skip
    with this reason instead of failing."""


def free_port() -> int:
    """A loopback port nothing listens on right now (the OS picks; a race is unlikely)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """One running server: where it is, whom it expects, where its principal lives."""

    kind: str  # "radicale" | "xandikos" | "cyrus"
    url: str  # what the athlete types as the calendar's url, e.g. http://127.0.0.1:PORT/
    principal: str  # absolute URL of the user's principal collection
    home: str  # absolute URL of the calendar-home-set
    username: str | None
    password: str | None
    root: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    # the process leads a group of its own (Cyrus's master and the services it forks), all of
    # which stop with it
    group: bool = False
    admin: CyrusAdmin | None = field(default=None, repr=False)  # makes accounts (Cyrus)

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
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.process.wait(timeout=5)
        if self.group:  # a service its master left behind outlives no test session
            self._signal(signal.SIGKILL)
        self.process = None

    def _signal(self, number: signal.Signals) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            if self.group:
                os.killpg(self.process.pid, number)
            else:
                self.process.send_signal(number)

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


def _spawn(
    args: list[str],
    root: Path,
    kind: str,
    *,
    env: dict[str, str] | None = None,
    group: bool = False,
) -> tuple[subprocess.Popen[bytes], Path]:
    log = root / f"{kind}.log"
    fh = log.open("wb")
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("RADICALE", "CYRUS"))}
    process = subprocess.Popen(
        args,
        stdout=fh,
        stderr=subprocess.STDOUT,
        env=inherited | (env or {}),
        cwd=root,
        start_new_session=group,
    )
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


CYRUS_BIN = Path("/usr/lib/cyrus/bin")
CYRUS_PACKAGES = "apt-get install cyrus-imapd cyrus-caldav sasl2-bin"
CYRUS_ADMIN = "liftrunadmin"  # the IMAP admin that makes the athlete's INBOX
_cyrus_scratch: list[Path] = []


def _cyrus_account() -> tuple[str, str]:
    """The user and group Cyrus runs as: it refuses root, and drops to its ``cyrus`` user when
    started as root; anyone else runs it as themselves (``CYRUS_USER``)."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    try:
        user = pwd.getpwnam("cyrus")
    except KeyError:
        raise ServerUnavailable(
            f"Cyrus runs as its 'cyrus' user, which does not exist ({CYRUS_PACKAGES})"
        ) from None
    return user.pw_name, grp.getgrgid(user.pw_gid).gr_name


def _cyrus_data(root: Path, user: str, group: str) -> Path:
    """Where Cyrus keeps its databases and spool. As root that is a directory under the system
    temp dir owned by ``cyrus`` (pytest's own are 0700 root, which ``cyrus`` cannot enter),
    linked from ``root`` so a restart on the same root finds it, and removed at exit."""
    link = root / "cyrus-data"
    if os.geteuid() != 0:
        link.mkdir(exist_ok=True)
        return link
    if link.is_symlink() and link.resolve().is_dir():
        return link.resolve()
    data = Path(tempfile.mkdtemp(prefix="liftrun-cyrus-"))
    link.symlink_to(data)
    if not _cyrus_scratch:
        atexit.register(_remove_cyrus_scratch)
    _cyrus_scratch.append(data)
    shutil.chown(data, user, group)
    return data


def _remove_cyrus_scratch() -> None:
    for data in _cyrus_scratch:
        shutil.rmtree(data, ignore_errors=True)


def _cyrus_config(data: Path, imap: int, http: int) -> tuple[Path, Path]:
    """imapd.conf and cyrus.conf: both services on loopback only, users in a sasldb file of
    the server's own, CalDAV's defaults (a default calendar made on first access)."""
    imapd = data / "imapd.conf"
    imapd.write_text(
        "\n".join(
            [
                f"configdirectory: {data / 'conf'}",
                f"partition-default: {data / 'spool'}",
                "defaultpartition: default",
                f"admins: {CYRUS_ADMIN}",
                "sasl_pwcheck_method: auxprop",
                "sasl_auxprop_plugin: sasldb",
                f"sasl_sasldb_path: {data / 'sasldb2'}",
                "sasl_mech_list: PLAIN LOGIN",
                "allowplaintext: yes",
                "httpmodules: caldav",
                "",
            ]
        )
    )
    # master passes its -C to none of its services: each is told where the config is
    conf = f"-C {imapd}"
    cyrus = data / "cyrus.conf"
    cyrus.write_text(
        "\n".join(
            [
                "START {",
                f'  recover cmd="ctl_cyrusdb {conf} -r"',
                "}",
                "SERVICES {",
                f'  imap cmd="imapd {conf}" listen="127.0.0.1:{imap}" prefork=0',
                f'  http cmd="httpd {conf}" listen="127.0.0.1:{http}" prefork=1',
                "}",
                "EVENTS {",
                "}",
                "",
            ]
        )
    )
    return imapd, cyrus


@dataclass(frozen=True)
class CyrusAdmin:
    """What makes another account on a running Cyrus: its sasldb and its admin over IMAP."""

    saslpasswd: str
    sasldb: Path
    imap_port: int
    password: str = field(repr=False)

    def add(self, username: str, password: str = PASSWORD) -> None:
        """A login, and the INBOX (``user/NAME``) without which Cyrus makes no calendar home
        (its default calendar comes on the account's first CalDAV request)."""
        self.login(username, password)
        with imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=5) as session:
            session.login(CYRUS_ADMIN, self.password)
            status, detail = session.create(f"user/{username}")
        assert status == "OK" or b"exists" in detail[0], detail  # again after a restart

    def login(self, username: str, password: str) -> None:
        subprocess.run(
            [self.saslpasswd, "-f", str(self.sasldb), "-p", "-c", username],
            input=password.encode(),
            check=True,
            capture_output=True,
        )


def _wait_for_imap(server: Server, port: int, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        assert server.process is not None
        if server.process.poll() is not None:
            raise RuntimeError(f"cyrus exited at start:\n{log.read_text()[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"cyrus did not listen within {STARTUP_TIMEOUT} s")
        time.sleep(0.05)


def _cyrus_principal(base: str, username: str) -> str:
    return f"{base}dav/principals/user/{username}/"


def _cyrus_home(base: str, username: str) -> str:
    return f"{base}dav/calendars/user/{username}/"


def start_cyrus(root: Path, *, port: int | None = None) -> Server:
    """Cyrus IMAP's CalDAV as a Fastmail user meets it: Basic auth against a sasldb, the
    athlete's INBOX made by an admin over IMAP, the account's URL the server's root (what the
    user types: the host name). ``master`` runs in the foreground in a process group of its
    own (``stop`` ends the services with it); its services log to syslog only."""
    master, saslpasswd = CYRUS_BIN / "master", shutil.which("saslpasswd2", path="/usr/sbin")
    if not master.exists() or saslpasswd is None:
        raise ServerUnavailable(f"Cyrus IMAP is not installed ({CYRUS_PACKAGES})")
    user, group = _cyrus_account()
    root.mkdir(parents=True, exist_ok=True)
    data = _cyrus_data(root, user, group)
    imap, http = free_port(), port or free_port()
    imapd, cyrus = _cyrus_config(data, imap, http)
    admin = CyrusAdmin(saslpasswd, data / "sasldb2", imap, secrets.token_urlsafe(12))
    admin.login(CYRUS_ADMIN, admin.password)
    for sub in ("conf", "spool"):
        (data / sub).mkdir(exist_ok=True)
    if os.geteuid() == 0:
        for path in [data, *data.rglob("*")]:
            shutil.chown(path, user, group)
    args = [str(master), "-D", "-C", str(imapd), "-M", str(cyrus), "-p", str(data / "pid")]
    process, log = _spawn(
        args, root, "cyrus", env={"CYRUS_USER": user, "CYRUS_GROUP": group}, group=True
    )
    base = f"http://127.0.0.1:{http}/"
    server = Server(
        kind="cyrus",
        url=base,
        principal=_cyrus_principal(base, USERNAME),
        home=_cyrus_home(base, USERNAME),
        username=USERNAME,
        password=PASSWORD,
        root=root,
        process=process,
        group=True,
        admin=admin,
    )
    _wait_for_imap(server, imap, log)
    admin.add(USERNAME)
    _wait_until_up(server, log)
    return server


def fresh_account(server: Server, suffix: str) -> Server:
    """``server`` as a new account of its own sees it, where a test needs one: Cyrus allows an
    event's UID once per account, across all its calendars (``unique-scheduling-object-
    resource``), so the same sessions pushed to two tests' calendars would collide. Servers
    without accounts to make are returned as they are (a fresh calendar is enough there)."""
    if server.admin is None:
        return server
    username = f"{USERNAME}-{suffix}"
    server.admin.add(username)
    return replace(
        server,
        username=username,
        principal=_cyrus_principal(server.url, username),
        home=_cyrus_home(server.url, username),
    )


def start(kind: str, root: Path, *, port: int | None = None) -> Server:
    if kind == "radicale":
        return start_radicale(root, port=port)
    if kind == "xandikos":
        return start_xandikos(root, port=port)
    if kind == "cyrus":
        return start_cyrus(root, port=port)
    raise ValueError(f"unknown CalDAV server kind {kind!r}")


KINDS = ("radicale", "xandikos", "cyrus")


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
