"""Run ``liftrun`` in this process with its calendar target faulted (for subprocess tests).

``python -m tests.sync.run_with_fault MODE VALUE -- sync --once ...`` wraps every target the
wiring builds in :class:`tests.contract.faults.FaultyTarget`, the one fault mechanism of the
suite, whatever the calendar's kind:

- ``kill K``: the process SIGKILLs itself right before write K (0 = the first) starts;
- ``kill-after K``: write K landed, the process dies before the engine records it;
- ``slow SECONDS``: every write waits first, so a signal lands mid-cycle.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import time
from dataclasses import replace
from typing import Any, NoReturn

from cli import main as cli
from sync import engine, wiring
from tests.contract.faults import Fault, FaultyTarget, Moment

MOMENTS = {"kill": Moment.BEFORE, "kill-after": Moment.AFTER}


def die(fault: Fault) -> NoReturn:
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable: SIGKILL cannot be caught")


def main(argv: list[str]) -> None:
    mode, value, sep, *rest = argv
    assert sep == "--" and mode in (*MOMENTS, "slow"), argv
    if mode == "slow":
        wrap = functools.partial(FaultyTarget, pause=functools.partial(time.sleep, float(value)))
    else:
        wrap = functools.partial(FaultyTarget, fault=Fault(int(value), MOMENTS[mode]), die=die)
    real_build = wiring.build

    def build(*args: Any, **kwargs: Any) -> engine.Wiring:
        built = real_build(*args, **kwargs)
        built.targets = [replace(spec, target=wrap(spec.target)) for spec in built.targets]
        return built

    wiring.build = build  # the module attribute sync.loop calls, in this process only
    cli.main(rest)


if __name__ == "__main__":
    main(sys.argv[1:])
