"""An in-process emulator of the Google Calendar v3 REST API for tests.

The real ``googleapiclient`` talks to it over loopback HTTP, so adapter code is exercised through
the same serialisation, batching, retry and error paths it meets in production.  Start it with
:func:`tests.google_emulator.server.running_emulator`; point the client at
``Emulator.api_endpoint`` (``http://127.0.0.1:PORT/calendar/v3/``) and batches at
``Emulator.batch_uri`` (``http://127.0.0.1:PORT/batch/calendar/v3``).
"""

from tests.google_emulator.errors import ApiError
from tests.google_emulator.faults import Fault, FaultQueue
from tests.google_emulator.reqlog import LoggedRequest, RequestLog
from tests.google_emulator.server import RunningEmulator, running_emulator
from tests.google_emulator.store import Store

__all__ = [
    "ApiError",
    "Fault",
    "FaultQueue",
    "LoggedRequest",
    "RequestLog",
    "RunningEmulator",
    "Store",
    "running_emulator",
]
