"""Run the emulator on a real loopback port in a background thread.

A real socket (rather than an in-process transport) is what lets the unmodified
googleapiclient/httplib2 stack, its batching and its retry-on-connection-error paths run exactly
as they do against Google.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httplib2  # type: ignore[import-untyped]
import uvicorn
from googleapiclient.discovery import build

from tests.google_emulator.app import build_app
from tests.google_emulator.dispatch import Emulator
from tests.google_emulator.faults import FaultQueue
from tests.google_emulator.reqlog import RequestLog
from tests.google_emulator.store import Store


@dataclass
class RunningEmulator:
    base_url: str
    emulator: Emulator

    @property
    def api_endpoint(self) -> str:
        """What to pass as ``client_options={"api_endpoint": ...}`` to ``discovery.build``."""
        return f"{self.base_url}/calendar/v3/"

    @property
    def batch_uri(self) -> str:
        """What to pass as ``BatchHttpRequest(batch_uri=...)``; ``new_batch_http_request()``
        ignores ``api_endpoint`` and would go to www.googleapis.com."""
        return f"{self.base_url}/batch/calendar/v3"

    def service(self, http: Any = None) -> Any:
        """A real googleapiclient Calendar service pointed at this emulator."""
        return build(
            "calendar",
            "v3",
            http=http or httplib2.Http(timeout=10),
            static_discovery=True,
            client_options={"api_endpoint": self.api_endpoint},
        )

    @property
    def store(self) -> Store:
        return self.emulator.store

    @property
    def faults(self) -> FaultQueue:
        return self.emulator.faults

    @property
    def log(self) -> RequestLog:
        return self.emulator.log


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_emulator(emulator: Emulator | None = None) -> Iterator[RunningEmulator]:
    """Serve ``emulator`` (a fresh one by default) until the block exits."""
    state = emulator or Emulator()
    port = _free_port()
    config = uvicorn.Config(
        build_app(state),
        host="127.0.0.1",
        port=port,
        http="h11",
        lifespan="off",
        log_level="critical",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"google-emulator-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("google emulator did not start")
        time.sleep(0.01)
    try:
        yield RunningEmulator(f"http://127.0.0.1:{port}", state)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def google_emulator_fixture() -> Generator[RunningEmulator, None, None]:
    """Body for a pytest fixture: ``google_emulator = pytest.fixture(google_emulator_fixture)``."""
    with running_emulator() as running:
        yield running
