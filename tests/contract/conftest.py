"""The ``calendar`` fixture: every kind of calendar liftrun can push to, each a fresh empty one.

Servers start only when a test asks for a kind that needs them: Radicale, Xandikos and Cyrus
once per test session, the Google emulator once per test (each calendar in it has a name of its
own). A server this machine cannot run (Cyrus without its Debian packages) skips its kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.caldav.servers import KINDS, Server, ServerUnavailable, start
from tests.contract.backends import Backend, FeedBackend, VdirBackend
from tests.contract.remote import CalDAVBackend, GoogleBackend
from tests.google_emulator import RunningEmulator, running_emulator

NewCalendar = Callable[[Path], Backend]
ALL_KINDS = ("vdir", "ics-feed", *(f"caldav-{k}" for k in KINDS), "google")


@pytest.fixture(scope="session")
def contract_servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Server | ServerUnavailable]]:
    started: dict[str, Server | ServerUnavailable] = {}
    try:
        for kind in KINDS:
            try:
                started[kind] = start(kind, tmp_path_factory.mktemp(f"contract-{kind}"))
            except ServerUnavailable as why:
                started[kind] = why
        yield started
    finally:
        for server in started.values():
            if isinstance(server, Server):
                server.stop()


@pytest.fixture
def google_emulator() -> Iterator[RunningEmulator]:
    with running_emulator() as running:
        yield running


@pytest.fixture(params=ALL_KINDS)
def new_calendar(request: pytest.FixtureRequest) -> NewCalendar:
    """Makes a fresh calendar of the kind under test (the state machine needs one per example)."""
    kind: str = request.param
    if kind == "vdir":
        return VdirBackend
    if kind == "ics-feed":
        return FeedBackend
    if kind == "google":
        emu: RunningEmulator = request.getfixturevalue("google_emulator")
        return lambda _root: GoogleBackend(emu)
    server = request.getfixturevalue("contract_servers")[kind.removeprefix("caldav-")]
    if isinstance(server, ServerUnavailable):
        pytest.skip(str(server))
    assert server.running, f"{server.kind} died"
    return lambda _root: CalDAVBackend(server)


@pytest.fixture
def calendar(new_calendar: NewCalendar, tmp_path: Path) -> Backend:
    return new_calendar(tmp_path)
