"""Radicale, Xandikos and Cyrus, started once per test session; every test gets fresh
calendars (on Cyrus, an account of its own: see ``fresh_account``). A server this machine
cannot run (Cyrus without its Debian packages) skips its parameters, saying what to install."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.caldav.servers import KINDS, Server, ServerUnavailable, fresh_account, start


@pytest.fixture(scope="session")
def unavailable_servers() -> dict[str, str]:
    """Kind -> why it could not start, filled by ``running_servers``."""
    return {}


@pytest.fixture(scope="session")
def running_servers(
    tmp_path_factory: pytest.TempPathFactory, unavailable_servers: dict[str, str]
) -> Iterator[dict[str, Server]]:
    started: dict[str, Server] = {}
    try:
        for kind in KINDS:
            try:
                started[kind] = start(kind, tmp_path_factory.mktemp(kind))
            except ServerUnavailable as why:
                unavailable_servers[kind] = str(why)
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture(params=KINDS)
def server(
    request: pytest.FixtureRequest,
    running_servers: dict[str, Server],
    unavailable_servers: dict[str, str],
    unique: str,
) -> Server:
    if request.param in unavailable_servers:
        pytest.skip(unavailable_servers[request.param])
    found: Server = running_servers[request.param]
    assert found.running, f"{found.kind} died"
    return fresh_account(found, unique)


@pytest.fixture
def cyrus(
    running_servers: dict[str, Server], unavailable_servers: dict[str, str], unique: str
) -> Server:
    """A fresh account on the session's Cyrus, for what only Cyrus does (accounts to make)."""
    if "cyrus" in unavailable_servers:
        pytest.skip(unavailable_servers["cyrus"])
    return fresh_account(running_servers["cyrus"], unique)


@pytest.fixture
def unique() -> str:
    """A suffix that keeps one test's calendars apart from every other test's."""
    return uuid.uuid4().hex[:8]
