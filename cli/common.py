"""What every ``liftrun`` command shares: the --config option, loading it, failing cleanly, and
reading "now" (the one place the clock is read for the planner: "today" is decided here and
passed in).

Only click is imported at module level: ``liftrun --help`` imports this module for every
command, and the config models, the logging set-up and the state store cost more than the
whole help screen may (``benchmarks/bench_startup.py``). Each is imported where it is used.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from adapters.feed_token import FeedToken
    from config.loader import LoadedConfig
    from sync.state import StateStore

EXIT_CONFIG = 2  # configuration or input mistakes
EXIT_SOURCE_FAILED = 3  # some busy source or target failed; the rest was still synced

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (default: $LIFTRUN_CONFIG, then ./liftrun.toml, then the embedded sample).",
)


def log_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--log-format`` and ``-v/--verbose`` for a command that logs, and the logger tree set up
    before its body runs, so every command's log lines take the same one shape."""

    @functools.wraps(command)
    def with_logging(*args: Any, log_format: str, verbose: bool, **kwargs: Any) -> Any:
        from sync import logs

        logs.setup(log_format, verbose=verbose)
        return command(*args, **kwargs)

    with_logging = click.option(
        "-v",
        "--verbose",
        is_flag=True,
        help="Debug lines from liftrun, and the HTTP requests and INFO lines of its libraries.",
    )(with_logging)
    return click.option(
        "--log-format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="Log lines (stderr) for people, or JSON lines for log collectors.",
    )(with_logging)


def tell(message: str, *, level: int = logging.WARNING, multiline: bool = False) -> None:
    """A message for the person on stderr, prefixed ``liftrun:``; a log record when the logs
    are JSON, so that every line on stderr is JSON. A path or value in it that holds control
    characters cannot break the line (nor forge one); only ``multiline`` keeps the message's
    own line breaks (a list of config errors)."""
    from sync import logs

    if logs.active_format() == "json":
        logging.getLogger("liftrun").log(level, "%s", message)
        return
    text = logs.safe_lines(message) if multiline else logs.safe_line(message)
    click.echo(f"liftrun: {text}", err=True)


def fail(message: str, *, multiline: bool = False) -> NoReturn:
    """A user mistake: one line on stderr (``multiline``: one per problem), exit code 2, no
    traceback."""
    tell(message, level=logging.ERROR, multiline=multiline)
    sys.exit(EXIT_CONFIG)


def load_config(config_path: str | None) -> LoadedConfig:
    from config.loader import ConfigError, load

    try:
        loaded = load(config_path)
    except ConfigError as exc:
        fail(f"config error: {exc}", multiline=True)  # one line per bad key
    if loaded.source.startswith("embedded"):
        tell(f"no --config, $LIFTRUN_CONFIG or ./liftrun.toml; using the {loaded.source}")
    return loaded


def today(loaded: LoadedConfig) -> date:
    return datetime.now(UTC).astimezone(loaded.settings.zone).date()


def parse_now(text: str | None, zone: ZoneInfo) -> datetime:
    """``--now``: the clock unless given; a time without a zone is wall-clock time in ``zone``."""
    from config.models import FIRST_DATE, LAST_DATE

    if not text:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--now {text!r}: not an ISO 8601 date-time (e.g. 2027-01-04T07:30)")
    if not FIRST_DATE <= value.date() <= LAST_DATE:
        fail(f"--now {text!r}: outside {FIRST_DATE}..{LAST_DATE}")
    return value if value.tzinfo else value.replace(tzinfo=zone)


def feed_token(loaded: LoadedConfig) -> FeedToken:
    """The state directory's feed token, created if missing; an unsafe token file or state
    directory stops the command in one line."""
    from adapters.feed_token import FeedToken, FeedTokenError

    token = FeedToken(loaded.state_dir)
    try:
        token.get()
    except (FeedTokenError, OSError) as exc:
        fail(str(exc))
    return token


def open_store(loaded: LoadedConfig) -> StateStore:
    from sync.state import StateError, StateStore

    try:
        return StateStore(loaded.state_dir)
    except StateError as exc:
        fail(str(exc))
