"""The page secret and what it grants: its file's care, each credential's scope, rotation."""

from __future__ import annotations

import base64
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from adapters.feed_token import FeedToken
from adapters.private_files import UnsafePath
from web.access import (
    PAGE,
    SECRET_FILE,
    PageSecret,
    PageSecretError,
    session_capability,
)

SID = "20270104-lift-lower-1"
OTHER = "20270105-run-easy-1"


@pytest.fixture
def secret(tmp_path: Path) -> PageSecret:
    page = PageSecret(tmp_path / "state")
    page.ensure()
    return page


def test_the_secret_is_256_bits_in_a_private_file(secret: PageSecret) -> None:
    assert secret.path.name == SECRET_FILE
    assert stat.S_IMODE(secret.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(secret.path.parent.stat().st_mode) == 0o700
    raw = secret.path.read_text().strip()
    assert len(base64.urlsafe_b64decode(raw + "=")) == 32


def test_the_secret_itself_never_appears_in_a_credential(secret: PageSecret) -> None:
    raw = secret.path.read_text().strip()
    derived = [
        secret.page_token(),
        secret.signature(SID),
        secret.csrf_token(PAGE),
        secret.csrf_token(session_capability(SID)),
    ]
    assert all(value and raw not in value and value not in raw for value in derived)
    assert len({*derived}) == len(derived)


def test_credential_sizes(secret: PageSecret) -> None:
    token, signature = secret.page_token(), secret.signature(SID)
    assert token is not None and signature is not None
    assert len(base64.urlsafe_b64decode(token + "=")) == 32
    assert len(base64.urlsafe_b64decode(signature)) * 8 >= 128
    assert all(c.isalnum() or c in "-_" for c in token + signature)


def test_a_signature_opens_its_own_session_only(secret: PageSecret) -> None:
    signature = secret.signature(SID)
    assert signature is not None
    assert secret.session_allows(SID, signature)
    assert not secret.session_allows(OTHER, signature)
    assert not secret.page_allows(signature)
    assert not secret.session_allows(SID, signature[:-1])
    assert not secret.session_allows(SID, "")


def test_the_page_token_is_not_a_session_signature(secret: PageSecret) -> None:
    token = secret.page_token()
    assert token is not None
    assert secret.page_allows(token)
    assert not secret.session_allows(SID, token)


def test_csrf_tokens_are_bound_to_their_capability(secret: PageSecret) -> None:
    mine = session_capability(SID)
    token = secret.csrf_token(mine)
    assert token is not None
    assert secret.csrf_allows(mine, token)
    assert not secret.csrf_allows(session_capability(OTHER), token)
    assert not secret.csrf_allows(PAGE, token)
    assert not secret.csrf_allows(mine, token, purpose="other")
    assert not secret.csrf_allows(mine, "")


def test_rotating_voids_every_credential_at_once(secret: PageSecret) -> None:
    token, signature = secret.page_token(), secret.signature(SID)
    csrf = secret.csrf_token(PAGE)
    assert token and signature and csrf
    secret.rotate()
    assert not secret.page_allows(token)
    assert not secret.session_allows(SID, signature)
    assert not secret.csrf_allows(PAGE, csrf)
    assert stat.S_IMODE(secret.path.stat().st_mode) == 0o600


def test_another_process_rotating_is_seen_without_a_restart(
    secret: PageSecret, tmp_path: Path
) -> None:
    token = secret.page_token()
    assert token is not None
    PageSecret(tmp_path / "state").rotate()
    assert not secret.page_allows(token)
    fresh = secret.page_token()
    assert fresh is not None and secret.page_allows(fresh)


def test_the_page_secret_is_not_the_feed_token(secret: PageSecret, tmp_path: Path) -> None:
    feed = FeedToken(tmp_path / "state").get()
    assert feed != secret.path.read_text().strip()
    assert not secret.page_allows(feed)
    assert not FeedToken(tmp_path / "state").matches(secret.page_token() or "")


def test_ensure_keeps_an_existing_secret(secret: PageSecret, tmp_path: Path) -> None:
    token = secret.page_token()
    PageSecret(tmp_path / "state").ensure()
    assert secret.page_allows(token or "")


def test_concurrent_creators_agree_on_one_secret(tmp_path: Path) -> None:
    state = tmp_path / "state"

    def make(_: int) -> str | None:
        page = PageSecret(state)
        page.ensure()
        return page.page_token()

    with ThreadPoolExecutor(8) as pool:
        tokens = set(pool.map(make, range(16)))
    assert len(tokens) == 1


def test_a_secret_others_can_read_is_refused_not_fixed(secret: PageSecret) -> None:
    token = secret.page_token()
    secret.path.chmod(0o644)
    assert not secret.page_allows(token or "")
    assert secret.page_token() is None
    with pytest.raises(PageSecretError, match="rotate-token"):
        PageSecret(secret.path.parent).ensure()
    assert stat.S_IMODE(secret.path.stat().st_mode) == 0o644


@pytest.mark.parametrize("content", [b"", b"short\n", b"\xff" * 50])
def test_a_garbled_secret_denies_everything(secret: PageSecret, content: bytes) -> None:
    signature = secret.signature(SID)
    secret.path.write_bytes(content)
    assert not secret.session_allows(SID, signature or "")
    assert secret.signature(SID) is None


def test_a_missing_secret_denies_everything(secret: PageSecret) -> None:
    token = secret.page_token()
    secret.path.unlink()
    assert not secret.page_allows(token or "")


def test_a_symlink_in_place_of_the_secret_is_not_followed(secret: PageSecret) -> None:
    target = secret.path.parent / "elsewhere"
    target.write_text(secret.path.read_text())
    target.chmod(0o600)
    secret.path.unlink()
    secret.path.symlink_to(target)
    assert secret.page_token() is None
    with pytest.raises(PageSecretError):
        PageSecret(secret.path.parent).ensure()


def test_a_state_directory_others_can_write_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    os.chmod(state, 0o777)  # noqa: PTH101 - the mode is the point
    with pytest.raises(UnsafePath):
        PageSecret(state).ensure()
    assert not (state / SECRET_FILE).exists()
