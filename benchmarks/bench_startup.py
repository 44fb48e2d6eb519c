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

Every command is timed twice in each round, and both figures are printed:

- **compiled**, as liftrun runs where it is installed (``pip install .`` and the container write
  bytecode for liftrun's modules as for the libraries): the commands run with
  ``PYTHONPYCACHEPREFIX`` set to a temporary directory that the warm-up round fills with the
  bytecode of every module they import, liftrun's and the libraries' alike (the yardstick runs
  the same way). Like for like: the targets are judged on these figures;
- **as started here**: the caller's environment unchanged. Where it sets
  ``PYTHONDONTWRITEBYTECODE`` (a checkout run by tools that must not leave ``__pycache__``
  behind), liftrun's own modules are compiled from source on every start while the yardstick's
  libraries load their bytecode from site-packages: an extra cost shown, not hidden, that no
  installed liftrun pays.

Run: ``.venv/bin/python benchmarks/bench_startup.py [RUNS]``; exits 1 when a target is missed
(compiled figures, best wall clock).
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
COMPILED = "compiled"
AS_STARTED = "as started here"


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


def compiled_env(env: dict[str, str], cache: Path) -> dict[str, str]:
    """``env`` with bytecode written and read in ``cache`` for every module, as installed."""
    out = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out["PYTHONPYCACHEPREFIX"] = str(cache)
    return out


def as_started_label(env: dict[str, str]) -> str:
    if env.get("PYTHONDONTWRITEBYTECODE"):
        return (
            f"{AS_STARTED} (PYTHONDONTWRITEBYTECODE is set: liftrun's modules are compiled on "
            "every start, the libraries' bytecode is in site-packages)"
        )
    return f"{AS_STARTED} (bytecode written beside the sources, as Python does by default)"


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


Figures = dict[str, dict[str, list[float]]]  # mode -> command -> seconds per run


def measure(runs: int) -> tuple[Figures, Figures]:
    """Wall-clock and CPU seconds per mode and command, the modes interleaved in each round."""
    liftrun = liftrun_command()
    started = clean_env()
    with tempfile.TemporaryDirectory(prefix="liftrun-bench-") as tmp:
        envs = {COMPILED: compiled_env(started, Path(tmp) / "pycache"), AS_STARTED: started}
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
        for env in envs.values():  # warm the disk cache, write the bytecode; create the state
            for cmd, cwd in commands.values():
                timed(cmd, cwd, env)
        times: Figures = {mode: {name: [] for name in commands} for mode in envs}
        cpu: Figures = {mode: {name: [] for name in commands} for mode in envs}
        for _ in range(runs):
            for mode, env in envs.items():
                for name, (cmd, cwd) in commands.items():
                    wall, used = timed(cmd, cwd, env)
                    times[mode][name].append(wall)
                    cpu[mode][name].append(used)
        if (plain / "state").exists():
            sys.exit("liftrun plan created a state directory; it must not")
        shutil.rmtree(synced / "state", ignore_errors=True)
    return times, cpu


def report(label: str, times: dict[str, list[float]], cpu: dict[str, list[float]]) -> int:
    """Print one mode's table; the number of targets missed."""
    base_best = min(times["yardstick"])
    base_median = statistics.median(times["yardstick"])
    base_cpu = min(cpu["yardstick"])
    print(f" {label}:")
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
    return missed


def main(argv: list[str]) -> int:
    runs = int(argv[0]) if argv else RUNS
    times, cpu = measure(runs)
    print(
        f"liftrun start-up: {shlex.join(liftrun_command())}, best and median of {runs} runs "
        "(wall clock), best CPU time"
    )
    missed = report(
        f"{COMPILED} (bytecode of every module in a temporary PYTHONPYCACHEPREFIX, as installed; "
        "the targets are judged here)",
        times[COMPILED],
        cpu[COMPILED],
    )
    report(as_started_label(clean_env()), times[AS_STARTED], cpu[AS_STARTED])
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
