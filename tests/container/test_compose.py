"""compose.yaml and the Kubernetes Deployment, without podman or docker: every service is
locked down, each gets only the mounts it needs, and ``serve`` gets exactly what the loop gets.

``serve`` runs the athlete's page: an action there starts a cycle, which ``serve`` runs itself
when no loop holds the sync lock. Given a smaller config than the loop's (no CalDAV calendar, no
busy sources) that cycle would place sessions blind to busy time and leave calendars behind, so
here it shares the loop's config, secret and read-write state, and these tests keep it so.

The last test runs ``liftrun serve`` and ``liftrun feed url`` for real on a state directory
mounted read-only (a private mount namespace; needs root and ``unshare``, skipped otherwise):
an older deployment's mount, on which serve still serves the feed and leaves the page off.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.adapters.test_feed_server import free_port

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
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


@pytest.mark.parametrize("name", ["sync", "serve", "radicale"])
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


def test_the_loop_reads_the_config_and_writes_the_state(
    services: dict[str, dict[str, Any]],
) -> None:
    sync = services["sync"]
    assert sync["command"] == ["sync"]
    assert _mounts(sync) == {
        "/etc/liftrun/liftrun.toml": "./deploy/compose/liftrun.toml:ro",
        STATE: "liftrun-state",
    }
    assert sync["secrets"] == [{"source": "caldav_password", "target": "caldav"}]
    radicale = _mounts(services["radicale"])
    assert [t for t, s in radicale.items() if not s.endswith(":ro")] == ["/var/lib/radicale"]


def test_serve_gets_exactly_what_the_loop_gets(services: dict[str, dict[str, Any]]) -> None:
    """The page's cycles run with the loop's config: every busy source, every calendar."""
    sync, serve = services["sync"], services["serve"]
    assert serve["command"] == ["serve"]
    assert _mounts(serve) == _mounts(sync)
    assert serve["secrets"] == sync["secrets"]
    assert serve["depends_on"] == sync["depends_on"]  # the calendars a cycle writes are up
    for service in (sync, serve):  # nothing points either at another config
        assert not any("LIFTRUN" in str(e) for e in service.get("environment", []))
        assert "entrypoint" not in service
    assert not (ROOT / "deploy" / "compose" / "feed.toml").exists()


def test_no_doc_says_to_read_a_secret_url_from_the_logs() -> None:
    for path in (COMPOSE, ROOT / "docs" / "container.md"):
        text = path.read_text(encoding="utf-8")
        assert "logs feed" not in text and "logs serve" not in text, path
        assert "compose run --rm sync feed url" in text, path
        assert "compose run --rm sync web url" in text, path


def test_the_kubernetes_serve_container_gets_what_the_loop_gets() -> None:
    """As in compose: ``serve`` beside the loop in one pod, with the same config, secret and
    read-write state; the ConfigMap holds one config."""
    yaml: Any = pytest.importorskip("yaml")
    deployment = yaml.safe_load((ROOT / "deploy/k8s/deployment/deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["fsGroupChangePolicy"] == "OnRootMismatch"
    sync, serve = pod["containers"]
    assert (sync["name"], serve["name"]) == ("sync", "serve")
    assert serve["args"] == ["serve"]
    assert serve["volumeMounts"] == sync["volumeMounts"]
    state = {m["mountPath"]: m for m in serve["volumeMounts"]}["/var/lib/liftrun"]
    assert not state.get("readOnly")
    assert "/run/secrets" in {m["mountPath"] for m in serve["volumeMounts"]}
    assert serve.get("env", []) == sync.get("env", []) == []
    configmap = yaml.safe_load((ROOT / "deploy/k8s/common/configmap.yaml").read_text())
    assert set(configmap["data"]) == {"liftrun.toml"}
    service = yaml.safe_load((ROOT / "deploy/k8s/deployment/service.yaml").read_text())
    assert service["metadata"]["name"] == "liftrun-serve"


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


READ_ONLY_CONFIG = """\
timezone = "Europe/Berlin"
[availability]
mon = ["06:00-08:00"]
[state]
path = "{state}"
[[calendars]]
kind = "ics"
name = "feed"
push_to = "{state}/out/liftrun.ics"
busy_from = []
[feed]
listen = "127.0.0.1:{port}"
public_url = "http://127.0.0.1:{port}"
"""


def test_serve_and_feed_url_work_on_a_read_only_state(tmp_path: Path) -> None:
    """The state mounted read-only, as older deployments did: serve serves the feed, says the
    page needs the state read-write, and writes nothing."""
    if not _can_mount_privately():
        pytest.skip("needs root and unshare with mount rights for a read-only bind mount")
    state = tmp_path / "state"
    port = free_port()
    config = tmp_path / "feed.toml"
    config.write_text(READ_ONLY_CONFIG.format(state=state, port=port), encoding="utf-8")
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
    assert "the page needs it read-write" in err
    assert sorted(p.name for p in state.rglob("*")) == before
