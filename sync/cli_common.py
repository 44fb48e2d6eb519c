"""What every ``liftrun`` command shares: the --config option, loading it, failing cleanly."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click

from config.loader import ConfigError, LoadedConfig, load
from sync import logs

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


def fail(message: str) -> NoReturn:
    """A user mistake: one line on stderr, exit code 2, no traceback."""
    click.echo(f"liftrun: {message}", err=True)
    sys.exit(EXIT_CONFIG)


def load_config(config_path: str | None) -> LoadedConfig:
    try:
        loaded = load(config_path)
    except ConfigError as exc:
        fail(f"config error: {exc}")
    if loaded.source.startswith("embedded"):
        click.echo(
            f"liftrun: no --config, $LIFTRUN_CONFIG or ./liftrun.toml; using the {loaded.source}",
            err=True,
        )
    return loaded
