"""``liftrun sync`` as a process: SIGKILL mid-push, SIGTERM mid-cycle, the lock, logs, status."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sync.lock import StateLock
from sync.state import StateStore
from tests.sync.harness import Rig

NOW = "2027-01-04T05:00"
ROOT = Path(__file__).resolve().parents[2]


def liftrun(rig: Rig, *args: str, fault: tuple[str, str] | None = None) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m"]
    cmd += ["tests.sync.run_with_fault", *fault, "--"] if fault else ["cli"]
    cmd += [*args, "--config", str(rig.root / "liftrun.toml")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        cmd, cwd=rig.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


def assert_converged(rig: Rig, sessions: int = 20) -> None:
    events = rig.events()
    assert len(events) == sessions
    assert all(len(files) == 1 for files in events.values())
    code, out, _ = finish(liftrun(rig, "sync", "--once", "--now", NOW, "--format", "json"))
    assert code == 0
    (target,) = json.loads(out)["targets"].values()
    assert target["created"] + target["updated"] + target["moved"] + target["cancelled"] == 0


@pytest.mark.parametrize("k", [0, 7, 19])
def test_sigkill_at_a_write_then_a_rerun_converges(tmp_path: Path, k: int) -> None:
    rig = Rig(tmp_path)
    code, _, _ = finish(liftrun(rig, "sync", "--once", "--now", NOW, fault=("kill", str(k))))
    assert code == -signal.SIGKILL
    assert len(rig.events()) == k
    code, _, err = finish(liftrun(rig, "sync", "--once", "--now", NOW))
    assert code == 0, err
    assert_converged(rig)


def test_sigterm_finishes_the_current_write_records_it_and_exits_0(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    proc = liftrun(rig, "sync", "--once", "--now", NOW, fault=("slow", "0.15"))
    deadline = time.monotonic() + 30
    while len(list(rig.training.glob("*.ics"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    code, _, err = finish(proc)
    assert code == 0, err
    assert "stopping after the current write" in err
    landed = len(rig.events())
    assert 3 <= landed < 20
    with StateStore(tmp_path / "state") as store:
        recorded = {sid for sid, row in store.events("training").items() if row.etag}
    assert recorded == set(rig.events())  # every write that landed is in the store
    code, _, _ = finish(liftrun(rig, "sync", "--once", "--now", NOW))
    assert code == 0
    assert_converged(rig)


def test_the_loop_runs_a_cycle_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    proc = liftrun(rig, "sync", "--log-format", "json")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if (tmp_path / "state" / "liftrun.sqlite3").exists():
            with StateStore(tmp_path / "state") as store:
                if store.cycles(1) and store.get_meta("next_cycle_at"):
                    break
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    code, _, err = finish(proc)
    assert code == 0
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any("SIGTERM" in line["message"] for line in lines)
    assert len(rig.events()) == 20


def test_a_second_sync_says_another_is_active_and_writes_nothing(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    with StateLock(tmp_path / "state"):
        code, out, _ = finish(liftrun(rig, "sync", "--once", "--now", NOW))
    assert code == 0
    assert f"another liftrun sync is active (pid {os.getpid()})" in out
    assert not rig.events()


def test_status_check_and_restore(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    code, _, err = finish(liftrun(rig, "status", "--check"))
    assert code == 1 and "no sync cycle has run yet" in err
    finish(liftrun(rig, "sync", "--once", "--now", NOW))
    sid = sorted(rig.events())[0]
    rig.delete(sid)
    code, out, _ = finish(liftrun(rig, "sync", "--once", "--now", NOW))
    assert code == 0 and f"liftrun restore {sid}" in out
    code, out, _ = finish(liftrun(rig, "status", "--format", "json"))
    status = json.loads(out)
    assert [t["session"] for t in status["tombstones"]] == [sid]
    assert status["targets"][0]["ok"] and len(status["last_cycles"]) == 2
    code, _, _ = finish(liftrun(rig, "status", "--check"))
    assert code == 0
    code, out, _ = finish(liftrun(rig, "restore", sid))
    assert code == 0
    code, _, err = finish(liftrun(rig, "restore", "no-such-session"))
    assert code == 2 and "no-such-session" in err and "Traceback" not in err
    finish(liftrun(rig, "sync", "--once", "--now", NOW))
    assert sid in rig.events()


def test_dry_run_prints_reasons_and_leaves_no_trace(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    code, out, _ = finish(liftrun(rig, "sync", "--once", "--dry-run", "--now", NOW))
    assert code == 0
    assert out.count("dry run: would create") == 20 and "(P2" in out
    assert not rig.events()
    with StateStore(tmp_path / "state") as store:
        assert not store.cycles() and not store.placements()
