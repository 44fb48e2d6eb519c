"""``liftrun serve`` (the athlete's page and the ICS feed), ``liftrun feed url`` and
``liftrun feed rotate-token``.

Starlette and uvicorn are imported by ``serve`` alone: ``feed url`` and every other command
start without them.
"""

from __future__ import annotations

import logging
import os
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
    """Serve the athlete's page, and the ICS feed when there is one, over HTTP ([feed] listen).

    The secret URLs are printed only to a terminal: where stdout is a log (a container, a
    service), `liftrun feed url` and `liftrun web url` show them. The page's actions start a
    cycle with this config (the loop's wake file, or here when no loop holds the lock), so
    serve must be given the same config as `liftrun sync`.
    """
    from adapters.feed_server import create_app, listen_socket
    from adapters.hardened_server import HardenedServer, ServerLimits
    from adapters.ics.feed_address import feed_paths
    from cli.web import overview_url, page_secret, pages

    loaded = load_config(config_path)
    paths = feed_paths(loaded)
    token = feed_token(loaded)
    writable = os.access(loaded.state_dir, os.W_OK)
    if paths is None and not writable:
        fail(
            f"nothing to serve: the state directory {loaded.state_dir} is read-only, so there "
            'is no page, and no [[calendars]] entry with kind = "ics" and push_to = "..." '
            "gives a feed"
        )
    page = pages(loaded) if writable else None
    settings = loaded.settings
    app = create_app(
        paths.feed if paths else None,
        token,
        shadow_path=paths.shadow if paths else None,
        max_age=settings.feed.refresh_minutes * 60,
        pages=page,
    )
    server = HardenedServer(app, ServerLimits.for_this_process())
    try:
        sock = listen_socket(settings.feed.host, settings.feed.port)
    except OSError as exc:
        fail(f"cannot listen on {settings.feed.listen} ([feed] listen): {exc}")
    if sys.stdout.isatty():
        if paths is not None:
            _echo_urls(loaded, token.get())
        if page is not None:
            click.echo(overview_url(loaded, page_secret(loaded)))
    else:
        click.echo(_serving_line(loaded, feed=paths is not None, page=page is not None))
    if page is None:
        log.warning(
            "the state directory %s is read-only: serving the feed alone; the page needs it "
            "read-write (its actions, the wake file and the page secret live there)",
            loaded.state_dir,
        )
    if paths is not None and not paths.feed.exists():
        log.warning(
            "%s does not exist yet; the feed answers 503 until `liftrun sync --once` writes it",
            paths.feed,
        )
    # uvicorn re-raises SIGTERM/SIGINT after its graceful shutdown; with Python-level handlers
    # in place that becomes a no-op, so a requested stop exits 0 instead of "killed by signal".
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    server.run(sock)


def _serving_line(loaded: LoadedConfig, *, feed: bool, page: bool) -> str:
    """What serve says to a log: the addresses with their secrets left out, and the commands
    that show them."""
    from adapters.ics.feed_address import subscription_urls
    from web.access import public_base

    shown, commands = [], []
    if feed:
        shown.append(subscription_urls(loaded.settings, "<token>")[0])
        commands.append("`liftrun feed url`")
    if page:
        shown.append(f"the page at {public_base(loaded.settings)}/p/<token>/")
        commands.append("`liftrun web url`")
    return (
        f"serving {' and '.join(shown)} (stdout is not a terminal, so the secret URLs are not "
        f"printed here; {' and '.join(commands)} {'shows' if len(commands) == 1 else 'show'} "
        f"{'it' if len(commands) == 1 else 'them'})"
    )
