"""The Training calendar gone from under liftrun: deleted on the server, or another account's
once the config's username changed. Either way the calendar is found or made again and the
engine is told it is a reset (``TargetReset``), as Google's target tells it: the sessions are
pushed again, and none is taken for deleted by hand (S9 is for the athlete's own deletions, not
for a calendar that went away whole)."""

from __future__ import annotations

from pathlib import Path

from adapters.caldav.kind import url_key
from sync.state import StateStore
from tests.caldav.servers import Server, fresh_account
from tests.caldav.test_account import later
from tests.caldav.test_caldav_adapter import seed_busy
from tests.caldav.test_caldav_sync import cycle, owned, write_config
from tests.caldav.test_quirks import hrefs


def training_url(tmp_path: Path, server: Server, unique: str) -> str:
    with StateStore(tmp_path / "state") as store:
        url = store.get_meta(url_key(server.url, f"Training {unique}"))
    assert url is not None
    return url


def test_a_deleted_training_calendar_is_made_again_and_nothing_tombstoned(
    server: Server, unique: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path, server, unique)
    first, _ = cycle(config)
    pushed = first.targets["training"].created
    assert not first.failed and pushed > 0, first.as_dict()
    with server.http() as http:
        assert http.delete(training_url(tmp_path, server, unique)).status_code in (200, 204)

    gone, _ = cycle(config, later(1))
    assert not gone.failed, gone.as_dict()
    assert any("was gone" in w and "none is taken for deleted by hand" in w for w in gone.warnings)
    with StateStore(tmp_path / "state") as store:
        assert store.tombstones() == {}
    again, _ = cycle(config, later(2))
    assert not again.failed and again.targets["training"].created == pushed, again.as_dict()
    assert len(owned(config)) == pushed
    idle, _ = cycle(config, later(3))
    assert idle.writes == 0


def test_another_username_moves_to_that_accounts_calendar_and_leaves_the_old_one(
    cyrus: Server, unique: str, tmp_path: Path
) -> None:
    """The athlete points the config at another Fastmail account on the same server. Cyrus
    answers the old account's calendar with a redirect to a share the new user does not have,
    then 403: that is no rights problem to report every cycle but a calendar to look up again
    in the new account, which starts empty."""
    config = write_config(tmp_path, cyrus, unique)
    first, _ = cycle(config)
    pushed = first.targets["training"].created
    assert not first.failed and pushed > 0, first.as_dict()
    old = training_url(tmp_path, cyrus, unique)
    kept = hrefs(cyrus, old)

    other = fresh_account(cyrus, f"{unique}-b")
    seed_busy(other, f"Work {unique}", f"work-{unique}")  # the new account's own busy calendar
    config.write_text(config.read_text().replace(cyrus.username or "", other.username or ""))
    switched, _ = cycle(config, later(1))
    assert not switched.failed, switched.as_dict()
    assert any("not this account's" in w for w in switched.warnings), switched.warnings
    moved, _ = cycle(config, later(2))
    assert not moved.failed and moved.targets["training"].created == pushed, moved.as_dict()
    new = training_url(tmp_path, cyrus, unique)
    assert new != old and f"/{other.username}/" in new
    assert hrefs(cyrus, old) == kept  # the old account's calendar is not touched
    with StateStore(tmp_path / "state") as store:
        assert store.tombstones() == {}
