"""liftrun starts fast (issue 14; ``benchmarks/bench_startup.py`` times it): ``--help`` imports
click and the command modules' top levels, never a calendar client, an HTTP stack, the feed
server or the iCalendar parser; ``plan`` and an idle ``sync --once`` on an ICS feed import no
calendar client, HTTP stack or feed server, and neither loads the fix search of a week that
drops nothing. An idle cycle renders nothing, so it does not load icalendar either (the feed
written by liftrun is read back without it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from cli.plan import MAX_WEEKS
from cli.sore import LEVELS
from planner.lift_load import Soreness
from planner.plan import MAX_WEEKS as PLANNER_MAX_WEEKS

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


# what no command that opens no calendar of that kind needs (the ICS feed is not one of them)
CLIENTS = ("googleapiclient", "google_auth_oauthlib", "caldav", "niquests", "httpx", "tenacity")
SERVER = ("starlette", "uvicorn", "jinja2", "web")
NOW = "2027-02-01T05:00"  # inside the embedded sample's plan


def imported_by(*args: str, cwd: Path = ROOT) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", SHOW_MODULES, *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return set(done.stderr.split())


def heavy_in(loaded: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in loaded if m.split(".")[0] in names or m in names)


def test_help_imports_no_calendar_client_http_stack_or_parser() -> None:
    for args in (["--help"], ["sync", "--help"], ["plan", "--help"]):
        loaded = imported_by(*args)
        assert "click" in loaded
        assert heavy_in(loaded, HEAVY) == [], args


def test_plan_imports_no_calendar_client_or_server_nor_the_fix_search(tmp_path: Path) -> None:
    loaded = imported_by("plan", "--format", "json", "--now", NOW, cwd=tmp_path)
    assert "planner.placement" in loaded
    forbidden = (*CLIENTS, *SERVER, "rich", "planner.fixes", "sync.engine", "sync.report")
    assert heavy_in(loaded, forbidden) == []


def test_an_idle_ics_sync_imports_no_calendar_client_or_server(tmp_path: Path) -> None:
    config = tmp_path / "liftrun.toml"
    shutil.copy(ROOT / "config/samples/default.toml", config)
    sync = ("sync", "--once", "--now", NOW, "--config", str(config))
    imported_by(*sync, cwd=tmp_path)  # the first cycle creates the state and the feed
    loaded = imported_by(*sync, cwd=tmp_path)
    assert "sync.engine" in loaded
    forbidden = (*CLIENTS, *SERVER, "rich", "planner.fixes", "icalendar")
    assert heavy_in(loaded, forbidden) == []


def test_the_constants_stated_for_help_are_the_planners() -> None:
    assert MAX_WEEKS == PLANNER_MAX_WEEKS
    assert tuple(s.value for s in Soreness) == LEVELS
