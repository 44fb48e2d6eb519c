"""Run ``liftrun`` in this process with a fault at the vdir's k-th write (for subprocess tests).

``python -m tests.sync.run_with_fault kill K -- sync --once ...`` SIGKILLs itself right before
vdir write K commits (``caldav-kill K``: before CalDAV PUT K is sent; ``google-kill K``: after
Google batch K+1 returned, before its outcomes are recorded); ``slow SECONDS -- ...``
sleeps before every write, so a signal lands mid-cycle.
"""

from __future__ import annotations

import functools
import itertools
import os
import signal
import sys
import time
from typing import Any

from adapters.caldav import client as caldav_client
from adapters.google import client as google_client
from adapters.vdir import directory as vdir
from cli import main as cli
from sync import wiring


def main(argv: list[str]) -> None:
    mode, value, sep, *rest = argv
    assert sep == "--"
    writes = itertools.count()

    def hook(name: str) -> None:
        if mode in ("kill", "caldav-kill", "google-kill") and next(writes) == int(value):
            os.kill(os.getpid(), signal.SIGKILL)
        if mode == "slow":
            time.sleep(float(value))

    target: Any = functools.partial(vdir.VdirTarget, before_write=hook)
    setattr(wiring, "VdirTarget", target)  # noqa: B010  # the module-level name wiring calls
    real_put = caldav_client.CalDAVClient.put

    def put(self: caldav_client.CalDAVClient, *args: Any, **kwargs: Any) -> Any:
        hook("put")
        return real_put(self, *args, **kwargs)

    caldav_client.CalDAVClient.put = put  # type: ignore[method-assign]
    real_batch = google_client.GoogleClient.batch

    def batch(self: google_client.GoogleClient, *args: Any, **kwargs: Any) -> Any:
        result = real_batch(self, *args, **kwargs)
        if mode == "google-kill":
            hook("batch")  # the batch landed; die before its outcomes are recorded
        return result

    google_client.GoogleClient.batch = batch  # type: ignore[method-assign]
    cli.main(rest)


if __name__ == "__main__":
    main(sys.argv[1:])
