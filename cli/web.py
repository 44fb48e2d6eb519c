"""``liftrun web url`` and ``liftrun web rotate-token``, and the page ``liftrun serve`` mounts.

The page's secret is not the feed's (``web.access``): rotating one leaves the other working,
so a feed URL handed to Google can be revoked without breaking the athlete's page links, and
the other way round.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from cli.common import config_option, fail, load_config

if TYPE_CHECKING:
    from adapters.feed_server import Pages
    from config.loader import LoadedConfig
    from web.access import PageSecret


def page_secret(loaded: LoadedConfig) -> PageSecret:
    """The state directory's page secret, created if missing; an unsafe secret file or state
    directory stops the command in one line."""
    from web.access import PageSecret, PageSecretError

    secret = PageSecret(loaded.state_dir)
    try:
        secret.ensure()
    except (PageSecretError, OSError) as exc:
        fail(str(exc))
    return secret


def overview_url(loaded: LoadedConfig, secret: PageSecret) -> str:
    from web.access import page_url, public_base

    url = page_url(public_base(loaded.settings), secret)
    if url is None:
        fail(f"the page secret {secret.path} cannot be read; run `liftrun web rotate-token`")
    return url


def pages(loaded: LoadedConfig) -> Pages:
    """The athlete's page for ``liftrun serve``: its secret, the store behind it, and a cycle
    after each action (the loop woken, or run here when none holds the lock)."""
    from sync.page_cycle import PageCycles
    from web.app import create_pages
    from web.backend import StoreBackend

    return create_pages(page_secret(loaded), StoreBackend(loaded, PageCycles(lambda: loaded)))


@click.group()
def web() -> None:
    """The athlete's page that `liftrun serve` shows beside the feed."""


@web.command()
@config_option
def url(config_path: str | None) -> None:
    """Print the page's URL (keep it private: it opens the plan and every action on it)."""
    loaded = load_config(config_path)
    click.echo(overview_url(loaded, page_secret(loaded)))


@web.command("rotate-token")
@config_option
def rotate_token(config_path: str | None) -> None:
    """Replace the page's secret: its URL, every session link in the calendars and every open
    form stop working at once, also on a running server; the feed URL is not touched."""
    from web.access import PageSecret

    loaded = load_config(config_path)
    secret = PageSecret(loaded.state_dir)
    try:
        secret.rotate()
    except OSError as exc:
        fail(f"cannot write the page secret: {exc}")
    click.echo(
        "the old page URL and session links are revoked (events get new links at the next "
        "sync); the page is now at:",
        err=True,
    )
    click.echo(overview_url(loaded, secret))
