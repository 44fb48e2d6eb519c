"""compose.yaml, without podman or docker: every service is locked down like the Kubernetes
manifests, each gets only the mounts it needs, and the feed's own config agrees with the loop's.

The last test runs ``liftrun serve`` and ``liftrun feed url`` for real on a state directory
mounted read-only (a private mount namespace; needs root and ``unshare``, skipped otherwise),
as the compose ``feed`` service mounts it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.ics.feed_address import feed_paths
from config.loader import LoadedConfig, load
from tests.adapters.test_feed_server import free_port

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
LOOP_CONFIG = ROOT / "deploy" / "compose" / "liftrun.toml"
FEED_CONFIG = ROOT / "deploy" / "compose" / "feed.toml"
STATE = "/var/lib/liftrun"


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    yaml: Any = pytest.importorskip("yaml")
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """container path -> ``source[:ro]``, from the short volume syntax compose.yaml uses."""
    mounts = {}
    for entry in service.get("volumes", []):
        source, target, *mode = entry.split(":")
        mounts[target] = source + (f":{mode[0]}" if mode else "")
    return mounts


@pytest.mark.parametrize("name", ["sync", "feed", "radicale"])
def test_every_service_is_locked_down(services: dict[str, dict[str, Any]], name: str) -> None:
    service = services[name]
    assert service["read_only"] is True
    assert service["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in service["security_opt"]
    assert any(t.split(":")[0] == "/tmp" for t in service["tmpfs"])
    uid, _, gid = service["user"].partition(":")
    assert int(uid) >= 1000 and int(gid) >= 1000
    assert not service.get("privileged") and "cap_add" not in service
    for port in service.get("ports", []):
        assert port.startswith("127.0.0.1:"), port  # the demo is published on loopback only


def test_the_feed_gets_no_secret_and_reads_the_state(services: dict[str, dict[str, Any]]) -> None:
    feed = services["feed"]
    assert feed["command"] == ["serve"]
    assert "secrets" not in feed
    mounts = _mounts(feed)
    assert mounts == {
        "/etc/liftrun/liftrun.toml": "./deploy/compose/feed.toml:ro",
        STATE: "liftrun-state:ro",
    }
    assert "environment" not in feed  # nothing else carries a credential in


def test_the_loop_is_the_one_writer(services: dict[str, dict[str, Any]]) -> None:
    sync = services["sync"]
    assert sync["command"] == ["sync"]
    assert _mounts(sync) == {
        "/etc/liftrun/liftrun.toml": "./deploy/compose/liftrun.toml:ro",
        STATE: "liftrun-state",
    }
    assert sync["secrets"] == [{"source": "caldav_password", "target": "caldav"}]
    radicale = _mounts(services["radicale"])
    assert [t for t, s in radicale.items() if not s.endswith(":ro")] == ["/var/lib/radicale"]


def _load(path: Path, tmp_path: Path) -> LoadedConfig:
    secret = tmp_path / "caldav"
    secret.write_text("pw\n", encoding="utf-8")
    copy = tmp_path / path.name
    copy.write_text(path.read_text(encoding="utf-8").replace("/run/secrets/caldav", str(secret)))
    return load(str(copy), environ={"LIFTRUN_SECRETS_DIR": str(tmp_path / "none")})


def test_the_feed_config_serves_what_the_loop_writes(tmp_path: Path) -> None:
    loop, feed = _load(LOOP_CONFIG, tmp_path), _load(FEED_CONFIG, tmp_path)
    assert loop.state_dir == feed.state_dir == Path(STATE)
    assert feed_paths(loop) == feed_paths(feed) is not None
    assert loop.settings.feed == feed.settings.feed
    assert [c.kind for c in feed.settings.calendars] == ["ics"]
    raw = tomllib.loads(FEED_CONFIG.read_text(encoding="utf-8"))
    assert not [k for c in raw["calendars"] for k in c if k.startswith(("password", "username"))]


def test_no_doc_says_to_read_the_feed_url_from_the_logs() -> None:
    for path in (COMPOSE, ROOT / "docs" / "container.md"):
        text = path.read_text(encoding="utf-8")
        assert "logs feed" not in text, path
        assert "compose run --rm sync feed url" in text, path


def test_the_kubernetes_feed_container_gets_no_secret_and_reads_the_state(tmp_path: Path) -> None:
    """As in compose: the loop is the one writer and the one holder of the CalDAV password; the
    feed container reads the state it serves from and its own config names no CalDAV calendar."""
    yaml: Any = pytest.importorskip("yaml")
    deployment = yaml.safe_load((ROOT / "deploy/k8s/deployment/deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["fsGroupChangePolicy"] == "OnRootMismatch"
    sync, feed = pod["containers"]
    mounts = {m["mountPath"]: m for m in feed["volumeMounts"]}
    assert "/run/secrets" not in mounts and mounts["/var/lib/liftrun"]["readOnly"] is True
    assert {"name": "LIFTRUN_CONFIG", "value": "/etc/liftrun/feed.toml"} in feed["env"]
    assert "/run/secrets" in {m["mountPath"] for m in sync["volumeMounts"]}
    configmap = yaml.safe_load((ROOT / "deploy/k8s/common/configmap.yaml").read_text())
    env = {"LIFTRUN_SECRETS_DIR": str(tmp_path / "none")}
    secret = tmp_path / "caldav"
    secret.write_text("pw\n")
    loaded = {}
    for key in ("liftrun.toml", "feed.toml"):
        path = tmp_path / key
        path.write_text(configmap["data"][key].replace("/run/secrets/caldav", str(secret)))
        loaded[key] = load(str(path), environ=env)
    loop, served = loaded["liftrun.toml"], loaded["feed.toml"]
    assert loop.state_dir == served.state_dir == Path("/var/lib/liftrun/state")
    assert feed_paths(loop) == feed_paths(served) is not None
    assert loop.settings.feed == served.settings.feed
    assert [c.kind for c in served.settings.calendars] == ["ics"]


# ------------------------------------------------------------------------------------------
# serve on a read-only state directory, for real


def _can_mount_privately() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs none /mnt"],
        capture_output=True,
        check=False,
        timeout=10,
    )
    return probe.returncode == 0


def _read_only(state: Path, *liftrun: str) -> list[str]:
    """``liftrun ...`` in a private mount namespace where ``state`` is mounted read-only."""
    script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'
    return ["unshare", "-m", "sh", "-c", script, "sh", str(state), *_liftrun(*liftrun)]


def _liftrun(*args: str) -> list[str]:
    return [sys.executable, "-m", "cli", *args]


def test_serve_and_feed_url_work_on_a_read_only_state(tmp_path: Path) -> None:
    if not _can_mount_privately():
        pytest.skip("needs root and unshare with mount rights for a read-only bind mount")
    state = tmp_path / "state"
    port = free_port()
    config = tmp_path / "feed.toml"
    config.write_text(
        FEED_CONFIG.read_text(encoding="utf-8")
        .replace(STATE, str(state))
        .replace('"0.0.0.0:8080"', f'"127.0.0.1:{port}"')
        .replace('"http://localhost:8080"', f'"http://127.0.0.1:{port}"'),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIFTRUN_")}
    env["PYTHONPATH"] = str(ROOT)

    def run(command: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=30, check=False
        )

    # What the sync service leaves on the volume: the token (here from `feed url`) and the feed.
    made = run(_liftrun("feed", "url", "--config", str(config)))
    assert made.returncode == 0, made.stderr
    url = made.stdout.splitlines()[0]
    (state / "out").mkdir()
    (state / "out" / "liftrun.ics").write_bytes(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    before = sorted(p.name for p in state.rglob("*"))

    again = run(_read_only(state, "feed", "url", "--config", str(config)))
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0] == url

    server = subprocess.Popen(
        _read_only(state, "serve", "--config", str(config), "--log-format", "json"),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            assert server.poll() is None, server.communicate(timeout=5)
            assert time.monotonic() < deadline, "serve did not answer /healthz within 15 s"
            time.sleep(0.1)
        feed = httpx.get(url, timeout=5)
        assert feed.status_code == 200
        assert feed.content.startswith(b"BEGIN:VCALENDAR")
    finally:
        server.terminate()
        out, err = server.communicate(timeout=15)
    assert url.split("/")[3] not in out + err  # stdout is a pipe: no token printed
    assert sorted(p.name for p in state.rglob("*")) == before
