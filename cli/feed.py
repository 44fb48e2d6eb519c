"""``liftrun serve``, ``liftrun feed url`` and ``liftrun feed rotate-token``.

Starlette and uvicorn are imported by ``serve`` alone: ``feed url`` and every other command
start without them.
"""

from __future__ import annotations

import logging
import signal
import sys
from typing import TYPE_CHECKING

import click

from cli.common import config_option, fail, feed_token, load_config, log_options

if TYPE_CHECKING:
    from config.loader import LoadedConfig

log = logging.getLogger("liftrun.feed")


def _echo_urls(loaded: LoadedConfig, token: str) -> None:
    from adapters.ics.feed_address import subscription_urls

    url, webcal = subscription_urls(loaded.settings, token)
    click.echo(url)
    click.echo(webcal)


@click.group()
def feed() -> None:
    """The subscription URL of the ICS feed that `liftrun serve` publishes."""


@feed.command()
@config_option
def url(config_path: str | None) -> None:
    """Print the subscription URL and its webcal:// form (keep it secret: it is the password)."""
    loaded = load_config(config_path)
    _echo_urls(loaded, feed_token(loaded).get())


@feed.command("rotate-token")
@config_option
def rotate_token(config_path: str | None) -> None:
    """Replace the token: the old URL stops working at once, also on a running server."""
    from adapters.feed_token import FeedToken

    loaded = load_config(config_path)
    try:
        token = FeedToken(loaded.state_dir).rotate()
    except OSError as exc:
        fail(f"cannot write the feed token: {exc}")
    click.echo("the old feed URL is revoked; subscribe again with:", err=True)
    _echo_urls(loaded, token)


@click.command()
@log_options
@config_option
def serve(config_path: str | None) -> None:
    """Serve the ICS feed over HTTP for calendar apps to subscribe to ([feed] listen).

    The subscription URL is printed only to a terminal: where stdout is a log (a container,
    a service), `liftrun feed url` shows it.
    """
    from adapters.feed_server import create_app, listen_socket
    from adapters.hardened_server import HardenedServer, ServerLimits
    from adapters.ics.feed_address import feed_paths, subscription_urls

    loaded = load_config(config_path)
    paths = feed_paths(loaded)
    if paths is None:
        fail(
            'nothing to serve: add a [[calendars]] entry with kind = "ics" and push_to = "..." '
            "(the feed file `liftrun sync --once` writes)"
        )
    token = feed_token(loaded)
    settings = loaded.settings
    app = create_app(
        paths.feed,
        token,
        shadow_path=paths.shadow,
        max_age=settings.feed.refresh_minutes * 60,
    )
    server = HardenedServer(app, ServerLimits.for_this_process())
    try:
        sock = listen_socket(settings.feed.host, settings.feed.port)
    except OSError as exc:
        fail(f"cannot listen on {settings.feed.listen} ([feed] listen): {exc}")
    if sys.stdout.isatty():
        _echo_urls(loaded, token.get())
    else:
        shown, _ = subscription_urls(loaded.settings, "<token>")
        click.echo(
            f"serving {shown} (stdout is not a terminal, so the secret URL is not printed here; "
            "`liftrun feed url` shows it)"
        )
    if not paths.feed.exists():
        log.warning(
            "%s does not exist yet; the feed answers 503 until `liftrun sync --once` writes it",
            paths.feed,
        )
    # uvicorn re-raises SIGTERM/SIGINT after its graceful shutdown; with Python-level handlers
    # in place that becomes a no-op, so a requested stop exits 0 instead of "killed by signal".
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    server.run(sock)
