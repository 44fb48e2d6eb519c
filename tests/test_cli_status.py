"""``liftrun status`` gives every instant in the plan's zone, as the sync's report does."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from cli.main import main
from sync import actions
from sync.state import StateStore

# A zone without DST and with a half-hour offset: an instant left in UTC cannot pass for it.
CONFIG = """\
timezone = "Asia/Kolkata"
[availability]
mon = ["06:00-08:00"]
wed = ["06:00-08:00"]
sat = ["07:00-12:00"]
[state]
path = "state"
"""
OFFSET = "+05:30"


def status(config: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["status", "--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_every_time_status_shows_is_in_the_plans_zone(tmp_path: Path) -> None:
    config = tmp_path / "liftrun.toml"
    config.write_text(CONFIG, encoding="utf-8")
    now = datetime.now(UTC).replace(microsecond=0)
    pin = datetime(2030, 1, 7, 12, 0, tzinfo=UTC)  # 17:30 in Kolkata
    with StateStore(tmp_path / "state") as store:
        store.journal(now - timedelta(minutes=2), now - timedelta(minutes=1), True, None)
        store.set_meta("next_cycle_at", (now + timedelta(minutes=14)).isoformat())
        store.set_health("source", "work.ics", ok=False, at=now, error="HTTP 503")
        store.set_health("target", "out/liftrun.ics", ok=True, at=now, error=None)
        store.tombstone("s-2030-01-09-run", "out/liftrun.ics", "Easy run", now)
        actions.move_to(store, "s-2030-01-07-lift", (pin, pin + timedelta(hours=1)), now)

    data = json.loads(status(config, "--format", "json"))
    instants = [
        data["now"],
        data["next_cycle"],
        *(c[k] for c in data["last_cycles"] for k in ("started", "finished")),
        *(h["checked"] for h in data["sources"] + data["targets"]),
        data["targets"][0]["last_ok"],
        *(p["start"] for p in data["pins"]),
        *(t["at"] for t in data["tombstones"]),
        *(a[k] for a in data["actions"] for k in ("at", "start", "end")),
    ]
    assert len(instants) == 12
    assert all(value.endswith(OFFSET) for value in instants), instants
    assert data["pins"][0]["start"] == "2030-01-07T17:30:00+05:30"
    assert datetime.fromisoformat(data["pins"][0]["start"]) == pin

    text = status(config)
    assert "pinned s-2030-01-07-lift at 2030-01-07T17:30:00+05:30 " in text
    assert "+00:00" not in text
