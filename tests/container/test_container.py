"""Opt-in: build the container image with podman and sync into a real Radicale from inside it.

Skipped unless ``LIFTRUN_CONTAINER_TESTS=1``; skipped with a reason when podman is missing.

    apt-get install -y podman runc debootstrap      # as root, once
    LIFTRUN_CONTAINER_TESTS=1 .venv/bin/pytest tests/container -q -p no:cacheprovider -s

What it does: builds the base image from Debian packages (``scripts/container_base.sh``, needs
root) unless it exists, builds the ``Dockerfile`` on it with podman, starts Radicale on the host
(``tests.caldav.servers``), and runs the image with ``--network host``, read-only, all
capabilities dropped, the config mounted read-only, the CalDAV password as a file in
/run/secrets and a state directory mounted: ``sync --once`` must exit 0 and put the sessions into
Radicale's Training calendar, a second run must write nothing, ``status --check`` must pass,
the default command (the loop) must turn healthy by the image's HEALTHCHECK and stop cleanly on
SIGTERM, and ``serve`` must answer /healthz, the feed and the athlete's page, whose actions
(posted as its forms) must reach Radicale both ways a deployment runs them: through the cycle
``serve`` runs itself while no loop runs, and, with the loop in a second container on the same
state volume (compose, Kubernetes), through the loop's cycle, woken by the page. It also checks
the image runs as a non-root user, that build arguments and the build-time CA bundle are in no
layer of the shipped image, and that the compose and Kubernetes examples parse and load as
liftrun configs. Timings are printed (``-s`` shows them). Images are kept as a build cache.

Environment (all optional):
    LIFTRUN_CONTAINER_BASE   base image (default localhost/liftrun-base:debian, built when
                             missing; python:3.11-slim where a registry can be reached)
    LIFTRUN_CONTAINER_IMAGE  tag to build (default localhost/liftrun:test)
    LIFTRUN_PODMAN_ARGS      global podman options (default: ``--cgroup-manager cgroupfs``
                             and ``--runtime runc`` when runc is installed)
    CONTAINERS_CONF          podman's containers.conf (default: one with ``default_ulimits = []``,
                             which sandboxes that forbid raising rlimits need)
    PIP_CERT                 CA bundle pip uses in the build (default: the system bundle)
    PIP_INDEX_URL, PIP_EXTRA_INDEX_URL  passed to the build when they are http(s) URLs
"""

from __future__ import annotations

import os
import shutil
import sys

import pytest

if os.environ.get("LIFTRUN_CONTAINER_TESTS") != "1":
    pytest.skip(
        "container tests are opt-in: set LIFTRUN_CONTAINER_TESTS=1", allow_module_level=True
    )
if shutil.which("podman") is None:
    pytest.skip(
        "podman is not installed (apt-get install -y podman runc debootstrap)",
        allow_module_level=True,
    )

import contextlib
import json
import shlex
import subprocess
import tarfile
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import icalendar

from adapters.cache import Cache
from adapters.caldav.target import CalDAVTarget
from adapters.protocol import OwnedEvent
from config.loader import load
from tests.caldav.servers import Server, free_port, start
from tests.web.page_checks import parse

ROOT = Path(__file__).resolve().parents[2]
BASE = os.environ.get("LIFTRUN_CONTAINER_BASE", "localhost/liftrun-base:debian")
IMAGE = os.environ.get("LIFTRUN_CONTAINER_IMAGE", "localhost/liftrun:test")
UID = 10001
# Passed to the build; must not appear anywhere in the shipped image. Fixed strings, so the
# layer cache survives between runs. pip ignores the missing file:// index with a warning.
ARG_SENTINEL = "liftrun-build-arg-sentinel-5d1e"
CERT_SENTINEL = "liftrun-pip-cert-sentinel-5d1e"
TZ = "Europe/Berlin"
FAR = (datetime(1900, 1, 1, tzinfo=UTC), datetime(2999, 1, 1, tzinfo=UTC))


def log(message: str) -> None:
    print(f"[container] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------
# podman


def _global_args() -> list[str]:
    if "LIFTRUN_PODMAN_ARGS" in os.environ:
        return shlex.split(os.environ["LIFTRUN_PODMAN_ARGS"])
    args = ["--cgroup-manager", "cgroupfs"]
    if shutil.which("runc"):
        args += ["--runtime", "runc"]
    return args


@dataclass
class Podman:
    env: Mapping[str, str]
    global_args: list[str]

    def __call__(
        self, *args: str, check: bool = True, timeout: float = 300.0
    ) -> subprocess.CompletedProcess[str]:
        command = ["podman", *self.global_args, *args]
        result = subprocess.run(
            command,
            check=False,
            env=dict(self.env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{shlex.join(command)} exited {result.returncode}\n"
                f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
            )
        return result

    def exists(self, image: str) -> bool:
        return self("image", "exists", image, check=False).returncode == 0


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Podman:
    env = dict(os.environ)
    if "CONTAINERS_CONF" not in env:
        conf = tmp_path_factory.mktemp("podman") / "containers.conf"
        conf.write_text("[containers]\ndefault_ulimits = []\n")
        env["CONTAINERS_CONF"] = str(conf)
    return Podman(env=env, global_args=_global_args())


def _build_args() -> list[str]:
    """Index URLs of the host that a container can reach (not file://), plus the sentinel."""
    index = os.environ.get("PIP_INDEX_URL", "")
    extras = [u for u in os.environ.get("PIP_EXTRA_INDEX_URL", "").split() if "://" in u]
    extras = [u for u in extras if u.startswith(("http://", "https://"))]
    args = ["--build-arg", f"BASE_IMAGE={BASE}"]
    if index.startswith(("http://", "https://")):
        args += ["--build-arg", f"PIP_INDEX_URL={index}"]
    extra = " ".join([*extras, f"file:///nonexistent/{ARG_SENTINEL}/simple"])
    return [*args, "--build-arg", f"PIP_EXTRA_INDEX_URL={extra}"]


@pytest.fixture(scope="module")
def image(podman: Podman, tmp_path_factory: pytest.TempPathFactory) -> str:
    if not podman.exists(BASE):
        if BASE != "localhost/liftrun-base:debian":
            log(f"{BASE} is not local; podman build will try to pull it")
        elif os.geteuid() != 0:
            pytest.skip(f"{BASE} is missing and building it (debootstrap) needs root")
        else:
            started = time.monotonic()
            result = subprocess.run(
                [str(ROOT / "scripts" / "container_base.sh")],
                check=False,
                env={**podman.env, "PODMAN": "podman", "LIFTRUN_BASE_IMAGE": BASE},
                capture_output=True,
                text=True,
                timeout=1800,
            )
            assert result.returncode == 0, result.stderr[-3000:]
            log(f"base image {BASE} built in {time.monotonic() - started:.1f} s")
    # The CA bundle pip trusts in the build (a TLS-inspecting proxy's CA is in the host's),
    # with a sentinel comment that must not reach the image.
    bundle = Path(os.environ.get("PIP_CERT", "/etc/ssl/certs/ca-certificates.crt"))
    cert = tmp_path_factory.mktemp("build") / "pip-cert.pem"
    cert.write_text((bundle.read_text() if bundle.is_file() else "") + f"\n# {CERT_SENTINEL}\n")
    started = time.monotonic()
    podman(
        "build",
        "--format",
        "docker",  # keeps HEALTHCHECK (the OCI format has none)
        "--network",
        "host",
        "--secret",
        f"id=pip_cert,src={cert}",
        *_build_args(),
        "-t",
        IMAGE,
        str(ROOT),
        timeout=1800,
    )
    size = podman("image", "inspect", IMAGE, "--format", "{{.Size}}").stdout.strip()
    log(
        f"image {IMAGE} built in {time.monotonic() - started:.1f} s "
        f"(base {BASE}), {int(size) / 1e6:.0f} MB"
    )
    return IMAGE


# ------------------------------------------------------------------------------------------
# the image itself


def _inspect(podman: Podman, image: str) -> dict[str, Any]:
    data: list[dict[str, Any]] = json.loads(podman("image", "inspect", image).stdout)
    return data[0]


def test_image_runs_as_non_root_with_liftrun_entrypoint(podman: Podman, image: str) -> None:
    inspected = _inspect(podman, image)
    config = inspected["Config"]
    assert config["User"] == f"{UID}:{UID}"
    assert config["Entrypoint"] == ["liftrun"]
    assert config["Cmd"] == ["sync"]
    assert "8080/tcp" in config["ExposedPorts"]
    assert "/var/lib/liftrun" in config["Volumes"]
    # podman shows the Docker-format HEALTHCHECK at the top level, docker under Config
    healthcheck = inspected.get("Healthcheck") or config.get("Healthcheck") or {}
    assert healthcheck.get("Test") == ["CMD", "liftrun", "status", "--check"]
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["LIFTRUN_STATE__PATH"] == "/var/lib/liftrun"
    assert env["LIFTRUN_CONFIG"] == "/etc/liftrun/liftrun.toml"
    assert env["LIFTRUN_FEED__LISTEN"] == "0.0.0.0:8080"
    assert not [k for k in env if k.startswith("PIP_")]
    ids = podman("run", "--rm", "--entrypoint", "id", image).stdout.strip()
    assert ids.startswith(f"uid={UID}(liftrun) gid={UID}(liftrun)"), ids
    # Only runtime dependencies: no test tools, no pip.
    probe = (
        "import importlib.util as u; "
        "print([m for m in ('pytest', 'hypothesis', 'radicale', 'mypy', 'pip') if u.find_spec(m)])"
    )
    found = podman("run", "--rm", "--entrypoint", "python3", image, "-c", probe).stdout.strip()
    assert found == "[]"


def test_no_build_secrets_in_any_layer(
    podman: Podman, image: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    history = podman("history", "--no-trunc", "--format", "{{.CreatedBy}}", image).stdout
    assert ARG_SENTINEL not in history
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CERT", "pip_cert"):
        assert name not in history
    archive = tmp_path_factory.mktemp("save") / "image.tar"
    started = time.monotonic()
    podman("save", "--format", "docker-archive", "-o", str(archive), image, timeout=600)
    leaks: list[str] = []
    needles = (ARG_SENTINEL.encode(), CERT_SENTINEL.encode())
    with tarfile.open(archive) as outer:
        for member in outer:
            handle = outer.extractfile(member)
            if handle is None:
                continue
            tail = b""
            while chunk := handle.read(1 << 20):
                window = tail + chunk
                leaks += [f"{member.name}: {n.decode()}" for n in needles if n in window]
                tail = window[-64:]
    archive.unlink()
    log(f"scanned every layer for build secrets in {time.monotonic() - started:.1f} s")
    assert not leaks
    listing = podman(
        "run",
        "--rm",
        "--entrypoint",
        "sh",
        image,
        "-c",
        "ls -A /run/secrets /src /root/.cache /etc/pip.conf 2>/dev/null; true",
    ).stdout
    assert listing.strip() == ""


# ------------------------------------------------------------------------------------------
# running it against Radicale


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start("radicale", tmp_path_factory.mktemp("radicale"))
    try:
        yield server
    finally:
        server.stop()


def _give_to_container_user(podman: Podman, path: Path, mode: int) -> None:
    """What the container's user 10001 must own: its state directory, its secret file."""
    path.chmod(mode)
    if os.geteuid() == 0:
        os.chown(path, UID, UID)
    else:  # rootless podman: 10001 in the container is a subordinate id on the host
        podman("unshare", "chown", f"{UID}:{UID}", str(path))


@dataclass
class Deployment:
    """A config, a secret and a state directory, as a container sees them."""

    podman: Podman
    image: str
    config: Path
    secret: Path
    state: Path

    def mounts(self) -> list[str]:
        return [
            "-v",
            f"{self.config}:/etc/liftrun/liftrun.toml:ro",
            "-v",
            f"{self.secret}:/run/secrets/caldav:ro",
            "-v",
            f"{self.state}:/var/lib/liftrun",
        ]

    def run(
        self, *args: str, options: tuple[str, ...] = (), check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        hardening = ["--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]
        return self.podman(
            "run",
            "--rm",
            "--network",
            "host",
            "--no-healthcheck",
            *hardening,
            *self.mounts(),
            *options,
            self.image,
            *args,
            check=check,
            timeout=180,
        )


def _compose_config_for(server: Server) -> str:
    """The compose demo's config, pointed at this Radicale instead of the `radicale` service."""
    text = (ROOT / "deploy" / "compose" / "liftrun.toml").read_text()
    replaced = text.replace('url = "http://radicale:5232/"', f'url = "{server.url}"').replace(
        'username = "athlete"', f'username = "{server.username}"'
    )
    assert replaced.count(server.url) == 1 and f'"{server.username}"' in replaced
    return replaced


@pytest.fixture(scope="module")
def deployment(
    podman: Podman, image: str, radicale: Server, tmp_path_factory: pytest.TempPathFactory
) -> Deployment:
    root = tmp_path_factory.mktemp("deployment")
    config = root / "liftrun.toml"
    config.write_text(_compose_config_for(radicale))
    config.chmod(0o644)
    secret = root / "caldav"
    secret.write_text(f"{radicale.password}\n")
    _give_to_container_user(podman, secret, 0o400)
    state = root / "state"
    state.mkdir()
    _give_to_container_user(podman, state, 0o750)
    return Deployment(podman, image, config, secret, state)


def _report(stdout: str) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return report


def test_status_check_fails_before_any_cycle(deployment: Deployment) -> None:
    result = deployment.run("status", "--check", check=False)
    assert result.returncode == 1, result.stderr
    assert "no sync cycle has run yet" in result.stderr


def _radicale_target(deployment: Deployment, radicale: Server) -> CalDAVTarget:
    """Radicale's Training calendar, read from the host as another client would."""
    assert radicale.password is not None
    return CalDAVTarget(
        radicale.url,
        username=radicale.username,
        password=radicale.password,
        calendar="Training",
        timezone=TZ,
        now=datetime.now(UTC),
        cache=Cache(deployment.state.parent / "reader-cache"),
        create=False,
    )


def _radicale_sessions(deployment: Deployment, radicale: Server) -> dict[str, OwnedEvent]:
    """The sessions liftrun's events in Radicale show (a cancelled event shows none)."""
    owned = _radicale_target(deployment, radicale).list_owned(*FAR)
    return {o.session_id: o for o in owned if not o.cancelled}


def test_sync_once_pushes_to_radicale(deployment: Deployment, radicale: Server) -> None:
    started = time.monotonic()
    result = deployment.run("sync", "--once", "--format", "json", check=False)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-3000:]
    assert radicale.password is not None
    assert radicale.password not in result.stdout + result.stderr
    report = _report(result.stdout)
    created = report["targets"]["radicale"]["created"]
    assert created > 0, report
    assert report["targets"]["radicale"]["errors"] == []
    assert report["targets"]["feed"]["created"] == created
    log(f"`sync --once` in the container: {elapsed:.2f} s, {created} sessions pushed")

    owned = _radicale_target(deployment, radicale).list_owned(*FAR)
    assert len(owned) == created
    assert all(o.session_id and not o.cancelled for o in owned)

    # Everything written is on the state volume, owned by the container's user.
    feed = deployment.state / "out" / "liftrun.ics"
    assert feed.read_bytes().startswith(b"BEGIN:VCALENDAR")
    assert feed.stat().st_uid != 0
    assert (deployment.state / "liftrun.sqlite3").exists()

    # A second cycle with nothing new writes nothing.
    again = _report(deployment.run("sync", "--once", "--format", "json").stdout)
    assert again["targets"]["radicale"]["created"] == 0
    assert again["targets"]["radicale"]["unchanged"] == created
    assert again["actions"] == []

    check = deployment.run("status", "--check")
    assert check.returncode == 0


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _stop(podman: Podman, name: str) -> int:
    podman("stop", "-t", "30", name, timeout=60)
    code = int(podman("inspect", name, "--format", "{{.State.ExitCode}}").stdout.strip())
    logs = podman("logs", name, check=False)
    podman("rm", "-f", name, check=False)
    assert code == 0, logs.stdout[-2000:] + logs.stderr[-2000:]
    return code


def _last_cycle(deployment: Deployment) -> str | None:
    status = json.loads(deployment.run("status", "--format", "json").stdout)
    cycles: list[dict[str, Any]] = status["last_cycles"]
    return str(cycles[0]["started"]) if cycles else None


def _start_loop(deployment: Deployment, name: str) -> None:
    """The image's default command (the loop), detached, with its HEALTHCHECK."""
    deployment.podman(
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "host",
        "--read-only",
        "--cap-drop",
        "ALL",
        *deployment.mounts(),
        deployment.image,
    )


def test_default_command_is_the_loop_and_turns_healthy(deployment: Deployment) -> None:
    """The image's CMD (`sync`, the loop) and HEALTHCHECK (`status --check`), then SIGTERM."""
    podman = deployment.podman
    name = f"liftrun-test-loop-{os.getpid()}"
    before = _last_cycle(deployment)
    _start_loop(deployment, name)
    try:
        started = time.monotonic()

        def healthy() -> bool:
            if _last_cycle(deployment) == before:  # wait for the loop's own first cycle
                return False
            return podman("healthcheck", "run", name, check=False).returncode == 0

        _wait(healthy, 60, "the loop's first cycle, then a passing HEALTHCHECK")
        log(f"loop container healthy after {time.monotonic() - started:.1f} s")
        command = podman("inspect", name, "--format", "{{json .Config.Cmd}}").stdout
        assert json.loads(command) == ["sync"]
        started = time.monotonic()
        assert _stop(podman, name) == 0
        log(f"loop stopped by SIGTERM with exit 0 in {time.monotonic() - started:.1f} s")
    finally:
        podman("rm", "-f", name, check=False)


def _form(html: str, action_ends: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields (the CSRF token) of the page's form ending ``action_ends``."""
    page = parse(html)
    for form, fields in zip(page.forms, page.form_fields, strict=True):
        if form.get("action", "").endswith(action_ends):
            hidden = {f["name"]: f.get("value", "") for f in fields if f.get("type") == "hidden"}
            return form["action"], hidden
    raise AssertionError(f"no form whose action ends with {action_ends}: {page.forms}")


def _act(html: str, page_url: str, action_ends: str) -> None:
    """Submit the page's form whose action ends with ``action_ends``, as a browser does: a 303
    back to the page."""
    action, fields = _form(html, action_ends)
    posted = urljoin(page_url, action)
    answer = httpx.post(posted, data=fields, timeout=30.0)
    assert answer.status_code == 303, answer.text[-2000:]
    assert urljoin(posted, answer.headers["location"]) == page_url


def _page_cycles(podman: Podman, name: str) -> int:
    """How many cycles ``serve`` ran itself for the page, by its log."""
    logs = podman("logs", name)
    return (logs.stdout + logs.stderr).count("cycle for the page:")


def _feed_status(feed: bytes, sid: str) -> str | None:
    """The STATUS of session ``sid``'s event in an ICS feed; None when it has none."""
    for event in icalendar.Calendar.from_ical(feed).walk("VEVENT"):
        if str(event.get("X-LIFTRUN-SESSION")) == sid:
            return str(event.get("STATUS", "CONFIRMED"))
    return None


def test_serve_answers_healthz_the_feed_and_the_page(
    deployment: Deployment, radicale: Server
) -> None:
    """``serve`` as compose runs it: the feed, the athlete's page, and an action on the page
    reaching Radicale through the cycle serve runs itself (no loop holds the sync lock)."""
    podman = deployment.podman
    port = free_port()
    name = f"liftrun-test-feed-{os.getpid()}"
    started = time.monotonic()
    podman(
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "host",
        "--read-only",
        "--cap-drop",
        "ALL",
        "--no-healthcheck",
        "-e",
        f"LIFTRUN_FEED__LISTEN=127.0.0.1:{port}",
        "-e",
        f"LIFTRUN_FEED__PUBLIC_URL=http://127.0.0.1:{port}",
        *deployment.mounts(),
        deployment.image,
        "serve",
    )
    try:
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            with contextlib.suppress(httpx.HTTPError):
                return httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200
            return False

        _wait(up, 30, "liftrun serve's /healthz")
        log(f"`serve` answered /healthz {time.monotonic() - started:.1f} s after podman run")
        public = ("-e", f"LIFTRUN_FEED__PUBLIC_URL={base}")
        url = deployment.run("feed", "url", options=public).stdout.splitlines()[0]
        assert url.startswith(f"{base}/")
        response = httpx.get(url, timeout=5.0)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/calendar")
        assert response.content == (deployment.state / "out" / "liftrun.ics").read_bytes()
        assert httpx.get(f"{base}/wrong-token/liftrun.ics", timeout=5.0).status_code == 404

        page_url = deployment.run("web", "url", options=public).stdout.strip()
        assert page_url.startswith(f"{base}/p/") and page_url.endswith("/")
        started = time.monotonic()
        page = httpx.get(page_url, timeout=10.0)
        log(f"`serve` answered the athlete's page in {time.monotonic() - started:.2f} s")
        assert page.status_code == 200, page.text[-2000:]
        assert parse(page.text).h1 == 1  # the templates made it into the image
        assert httpx.get(f"{base}/p/wrong-token/", timeout=5.0).status_code == 404

        # "Not doing it" on a session two days out (past any freeze), posted as the page's form.
        soon = datetime.now(UTC) + timedelta(days=2)
        before = _radicale_sessions(deployment, radicale)
        sid = min((o.start, s) for s, o in before.items() if o.start > soon)[1]
        assert _feed_status(httpx.get(url, timeout=5.0).content, sid) == "CONFIRMED"
        session_page = f"{page_url}session/{sid}"
        opened = httpx.get(session_page, timeout=10.0)
        assert opened.status_code == 200, opened.text[-2000:]
        started = time.monotonic()
        _act(opened.text, session_page, "/not-doing")
        _wait(
            lambda: sid not in _radicale_sessions(deployment, radicale),
            60,
            f"serve's cycle to take {sid} out of Radicale",
        )
        log(f"page action reached Radicale in {time.monotonic() - started:.1f} s")
        after = _radicale_sessions(deployment, radicale)
        assert set(after) == set(before) - {sid}
        # the feed keeps the event, cancelled, so a subscribed calendar drops it
        assert _feed_status(httpx.get(url, timeout=5.0).content, sid) == "CANCELLED"
        assert _page_cycles(podman, name) == 1

        # As compose and Kubernetes run it: the loop in a second container holds the sync lock,
        # so the next action only wakes it, through the wake file on the shared volume.
        loop = f"liftrun-test-loop-{os.getpid()}"
        before_loop = _last_cycle(deployment)
        _start_loop(deployment, loop)
        try:
            _wait(lambda: _last_cycle(deployment) != before_loop, 60, "the loop's first cycle")
            opened = httpx.get(session_page, timeout=10.0)
            started = time.monotonic()
            _act(opened.text, session_page, "/restore")
            _wait(
                lambda: sid in _radicale_sessions(deployment, radicale),
                60,
                f"the loop's cycle to put {sid} back into Radicale",
            )
            log(f"page action reached Radicale by the loop in {time.monotonic() - started:.1f} s")
            assert set(_radicale_sessions(deployment, radicale)) == set(before)
            assert _page_cycles(podman, name) == 1  # the loop ran that cycle, not serve
            assert _stop(podman, loop) == 0
        finally:
            podman("rm", "-f", loop, check=False)
        assert _stop(podman, name) == 0
    finally:
        podman("rm", "-f", name, check=False)


# ------------------------------------------------------------------------------------------
# the examples around the image


def test_compose_and_kubernetes_examples_parse(tmp_path: Path) -> None:
    yaml: Any = pytest.importorskip("yaml")
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert set(compose["services"]) == {"sync", "serve", "radicale"}
    assert compose["services"]["serve"]["command"] == ["serve"]
    assert compose["services"]["radicale"]["build"]["target"] == "radicale"

    docs: dict[str, dict[str, Any]] = {}
    for path in sorted((ROOT / "deploy" / "k8s").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            assert isinstance(doc, dict), path
            docs[f"{doc['kind']}/{doc.get('metadata', {}).get('name', path.parent.name)}"] = doc
    cron = docs["CronJob/liftrun-sync"]["spec"]
    assert cron["concurrencyPolicy"] == "Forbid"
    pod = cron["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["containers"][0]["args"] == ["sync", "--once"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    deployment = docs["Deployment/liftrun"]["spec"]["template"]["spec"]
    assert [c["args"] for c in deployment["containers"]] == [["sync"], ["serve"]]
    assert docs["PersistentVolumeClaim/liftrun-state"]["spec"]["accessModes"]

    # Every config shipped for a container loads as a liftrun config.
    secret = tmp_path / "caldav"
    secret.write_text("pw\n")
    configs = {
        "configmap": docs["ConfigMap/liftrun-config"]["data"]["liftrun.toml"],
        "compose": (ROOT / "deploy" / "compose" / "liftrun.toml").read_text(),
        "image": (ROOT / "deploy" / "container" / "liftrun.toml").read_text(),
    }
    env = {"LIFTRUN_SECRETS_DIR": str(tmp_path / "none")}
    for name, text in configs.items():
        tomllib.loads(text)
        path = tmp_path / f"{name}.toml"
        path.write_text(text.replace("/run/secrets/caldav", str(secret)))
        loaded = load(str(path), environ=env)
        state = "/var/lib/liftrun/state" if name == "configmap" else "/var/lib/liftrun"
        assert loaded.resolve(loaded.settings.state.path) == Path(state), name
