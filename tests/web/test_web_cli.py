"""``liftrun web url`` and ``liftrun web rotate-token``: where the page is, and revoking it
without touching the feed."""

from __future__ import annotations

import stat
from pathlib import Path

from click.testing import CliRunner

from adapters.feed_token import FeedToken
from cli.main import main
from web.access import PageSecret

WEB_CONFIG = """\
timezone = "Europe/Berlin"
[athlete]
bodyweight_kg = 70
[availability]
mon = ["06:00-08:00"]
[state]
path = "state"
[[calendars]]
kind = "ics"
push_to = "out/liftrun.ics"
[feed]
listen = "127.0.0.1:8123"
{extra}
"""


def _web(tmp_path: Path, *args: str, extra: str = "") -> str:
    config = tmp_path / "liftrun.toml"
    config.write_text(WEB_CONFIG.format(extra=extra))
    result = CliRunner().invoke(main, ["web", *args, "--config", str(config)])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_web_url_prints_the_overview(tmp_path: Path) -> None:
    url = _web(tmp_path, "url").strip()
    secret = PageSecret(tmp_path / "state")
    assert url == f"http://127.0.0.1:8123/p/{secret.page_token()}/"
    assert stat.S_IMODE(secret.path.stat().st_mode) == 0o600
    assert _web(tmp_path, "url").strip() == url  # the same secret next time


def test_web_url_behind_a_proxy(tmp_path: Path) -> None:
    url = _web(tmp_path, "url", extra='public_url = "https://runner.example/cal/"').strip()
    assert url == f"https://runner.example/cal/p/{PageSecret(tmp_path / 'state').page_token()}/"


def test_web_rotate_token_revokes_the_page_not_the_feed(tmp_path: Path) -> None:
    old = _web(tmp_path, "url").strip()
    feed = FeedToken(tmp_path / "state").get()
    new = _web(tmp_path, "rotate-token").strip()
    assert new != old and new.startswith("http://127.0.0.1:8123/p/")
    secret = PageSecret(tmp_path / "state")
    assert not secret.page_allows(old.split("/")[-2])
    assert secret.page_allows(new.split("/")[-2])
    assert FeedToken(tmp_path / "state").get() == feed


def test_web_public_url_wins_over_the_feeds(tmp_path: Path) -> None:
    extra = 'public_url = "https://feed.example"\n[web]\npublic_url = "https://me.example/plan"'
    url = _web(tmp_path, "url", extra=extra).strip()
    assert url == f"https://me.example/plan/p/{PageSecret(tmp_path / 'state').page_token()}/"


def test_web_public_url_is_checked_like_the_feeds(tmp_path: Path) -> None:
    config = tmp_path / "liftrun.toml"
    config.write_text(WEB_CONFIG.format(extra='[web]\npublic_url = "https://u:p@me.example"'))
    result = CliRunner().invoke(main, ["web", "url", "--config", str(config)])
    assert result.exit_code == 2
    assert "web.public_url" in result.output
    assert "u:p" not in result.output
