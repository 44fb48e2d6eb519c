"""``liftrun --help`` stays fast: it imports click and the command modules' top levels, never a
calendar client, an HTTP stack, the feed server or the iCalendar parser (issue 14;
``benchmarks/bench_startup.py`` times it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cli.plan import MAX_WEEKS
from cli.sore import LEVELS
from planner.plan import MAX_WEEKS as PLANNER_MAX_WEEKS
from planner.sessions import Soreness

ROOT = Path(__file__).resolve().parents[1]
HEAVY = (
    "googleapiclient",
    "google_auth_oauthlib",
    "caldav",
    "niquests",
    "httpx",
    "starlette",
    "uvicorn",
    "icalendar",
    "rich",
    "config.models",  # pydantic-settings and the models: read a config, not for --help
    "sync.engine",
)

SHOW_MODULES = """
import sys
from cli.main import main
try:
    main([*sys.argv[1:]])
except SystemExit:
    pass
print("\\n".join(sorted(sys.modules)), file=sys.stderr)
"""


def imported_by(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", SHOW_MODULES, *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return set(done.stderr.split())


def test_help_imports_no_calendar_client_http_stack_or_parser() -> None:
    for args in (["--help"], ["sync", "--help"], ["plan", "--help"]):
        loaded = imported_by(*args)
        assert "click" in loaded
        heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY)
        assert heavy == [], (args, heavy)


def test_the_constants_stated_for_help_are_the_planners() -> None:
    assert MAX_WEEKS == PLANNER_MAX_WEEKS
    assert tuple(s.value for s in Soreness) == LEVELS
