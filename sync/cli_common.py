"""What every ``liftrun`` command shares: the --config option, loading it, failing cleanly."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from config.loader import ConfigError, LoadedConfig, load

EXIT_CONFIG = 2  # configuration or input mistakes
EXIT_SOURCE_FAILED = 3  # some busy source or target failed; the rest was still synced

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (default: $LIFTRUN_CONFIG, then ./liftrun.toml, then the embedded sample).",
)


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
