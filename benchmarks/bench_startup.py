"""Benchmark: how long ``liftrun`` takes to start, against the libraries it cannot do without.

A Kubernetes CronJob or a cron line starts a fresh interpreter for every ``liftrun sync --once``,
so the import cost of the command line is paid on every run. The yardstick is what any liftrun
process must import anyway, ``python -c "import icalendar, pydantic, click"``, timed in the same
run on the same machine, so the ratios hold on a fast laptop and a slow pod alike.

Measured, each as wall-clock time of a whole subprocess, in interleaved rounds (one run of each
command per round, so a busy moment of the machine hits all of them alike):

1. ``liftrun --help``;
2. ``liftrun plan --format json`` on the embedded sample (no config, a fresh working directory);
3. ``liftrun sync --once`` on an idle ICS config: one ICS target with ``push_to``, no busy
   sources, the state created by a first, unmeasured run, so each measured run finds nothing to
   change.

Targets (issue 14), on the best of N runs (noise only ever adds time): ``--help`` <= 1.5x,
``plan`` <= 2.5x, idle ``sync --once`` <= 3x the yardstick. Medians are shown beside them, and
the best CPU time (user + system) of each command and its ratio: on a machine shared with other
work, waiting for a CPU inflates wall-clock times (the yardstick's most of all, being shortest),
while the CPU a start-up burns is nearly what it is on an idle machine.

Run: ``.venv/bin/python benchmarks/bench_startup.py [RUNS]``; exits 1 when a target is missed.
``LIFTRUN_BENCH_COMMAND`` overrides how liftrun is started (e.g. ``python -m cli``).
"""

from __future__ import annotations

import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 15
NOW = "2027-02-01T05:00"  # inside the sample's plan: the idle sync places the same every run
TARGETS = {"--help": 1.5, "plan --format json": 2.5, "sync --once (idle)": 3.0}
YARDSTICK = "import icalendar, pydantic, click"


def liftrun_command() -> list[str]:
    """The installed console script beside this interpreter, as a person or a CronJob starts
    it; ``python -m cli`` where it is not installed."""
    override = os.environ.get("LIFTRUN_BENCH_COMMAND")
    if override:
        return shlex.split(override)
    script = Path(sys.executable).with_name("liftrun")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli"]


def clean_env() -> dict[str, str]:
    """No LIFTRUN_* override and no config from the caller: each command reads what it is given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIFTRUN_")}
    env["PYTHONPATH"] = str(ROOT)  # `python -m cli` from a temporary working directory
    return env


def idle_config(root: Path) -> Path:
    """The embedded sample's athlete with its one ICS feed target and no busy sources."""
    sample = (ROOT / "config/samples/default.toml").read_text(encoding="utf-8")
    path = root / "liftrun.toml"
    path.write_text(sample, encoding="utf-8")
    return path


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one run (the commands run one at a time, so the growth of
    the children's CPU time is this one's)."""
    cpu = cpu_of_children()
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{shlex.join(cmd)} exited {done.returncode}:\n{done.stderr.decode()}")
    return elapsed, cpu_of_children() - cpu


def measure(runs: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    liftrun = liftrun_command()
    env = clean_env()
    with tempfile.TemporaryDirectory(prefix="liftrun-bench-") as tmp:
        plain = Path(tmp) / "plain"  # no liftrun.toml: the embedded sample
        plain.mkdir()
        synced = Path(tmp) / "synced"
        synced.mkdir()
        config = idle_config(synced)
        sync = [*liftrun, "sync", "--once", "--now", NOW, "--config", str(config)]
        commands: dict[str, tuple[list[str], Path]] = {
            "yardstick": ([sys.executable, "-c", YARDSTICK], plain),
            "--help": ([*liftrun, "--help"], plain),
            "plan --format json": ([*liftrun, "plan", "--format", "json", "--now", NOW], plain),
            "sync --once (idle)": (sync, synced),
        }
        for cmd, cwd in commands.values():  # warm the disk cache and bytecode; create the state
            timed(cmd, cwd, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, (cmd, cwd) in commands.items():
                wall, used = timed(cmd, cwd, env)
                times[name].append(wall)
                cpu[name].append(used)
        if (plain / "state").exists():
            sys.exit("liftrun plan created a state directory; it must not")
        shutil.rmtree(synced / "state", ignore_errors=True)
    return times, cpu


def main(argv: list[str]) -> int:
    runs = int(argv[0]) if argv else RUNS
    times, cpu = measure(runs)
    base_best = min(times["yardstick"])
    base_median = statistics.median(times["yardstick"])
    base_cpu = min(cpu["yardstick"])
    print(
        f"liftrun start-up: {shlex.join(liftrun_command())}, best and median of {runs} runs "
        "(wall clock), best CPU time"
    )
    print(
        f"  {'yardstick':22} {base_best * 1000:6.0f} ms {base_median * 1000:6.0f} ms  "
        f"cpu {base_cpu * 1000:4.0f} ms  ({YARDSTICK})"
    )
    missed = 0
    for name, target in TARGETS.items():
        best, median = min(times[name]), statistics.median(times[name])
        ratio = best / base_best
        verdict = "ok" if ratio <= target else "OVER"
        missed += verdict == "OVER"
        print(
            f"  {name:22} {best * 1000:6.0f} ms {median * 1000:6.0f} ms  "
            f"cpu {min(cpu[name]) * 1000:4.0f} ms  "
            f"{ratio:4.2f}x best, {median / base_median:4.2f}x median, "
            f"{min(cpu[name]) / base_cpu:4.2f}x cpu (target <= {target}x: {verdict})"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
