"""The Calendar v3 emulator, started on a free loopback port for each test that asks for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.google_emulator import RunningEmulator, running_emulator


@pytest.fixture
def emu() -> Iterator[RunningEmulator]:
    with running_emulator() as running:
        yield running
