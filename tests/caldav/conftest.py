"""Radicale and Xandikos, started once per test session; every test gets fresh calendars."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.caldav.servers import KINDS, Server, start


@pytest.fixture(scope="session")
def running_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    started: dict[str, Server] = {}
    try:
        for kind in KINDS:
            started[kind] = start(kind, tmp_path_factory.mktemp(kind))
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture(params=KINDS)
def server(request: pytest.FixtureRequest, running_servers: dict[str, Server]) -> Server:
    found: Server = running_servers[request.param]
    assert found.running, f"{found.kind} died"
    return found


@pytest.fixture
def unique() -> str:
    """A suffix that keeps one test's calendars apart from every other test's."""
    return uuid.uuid4().hex[:8]
