"""``liftrun auth <kind>``: the one-time consent a calendar kind needs before it can sync.

Which kinds need one, and what each does, is the kind's own (``adapters/<kind>/``, registered
in :mod:`adapters.kinds`); this group gives each the same options and turns its failure into a
clean exit. The kinds are looked up only when a sign-in is asked for or listed, so
``liftrun --help`` loads none of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from cli.common import config_option, fail, load_config

if TYPE_CHECKING:
    from adapters.kinds import SignIn


def command(name: str, sign_in: SignIn) -> click.Command:
    """The ``liftrun auth NAME`` command for one kind's sign-in."""

    @click.command(name=name, help=sign_in.help)
    @config_option
    @click.option("--calendar", "calendar_name", help="Which [[calendars]] entry (its name).")
    @click.option(
        "--console",
        is_flag=True,
        help="No browser on this machine: print the address to open elsewhere, paste the answer.",
    )
    @click.option(
        "--port", type=click.IntRange(0, 65535), default=0, help="Loopback port (0: any)."
    )
    @click.option("--no-browser", is_flag=True, help="Do not open a browser; print the address.")
    def run(
        *,
        config_path: str | None,
        calendar_name: str | None,
        console: bool,
        port: int,
        no_browser: bool,
    ) -> None:
        from adapters.kinds import Consent, SignInFailed

        loaded = load_config(config_path)
        consent = Consent(console=console, port=port, open_browser=not no_browser)
        try:
            done = sign_in(loaded, calendar_name, consent, click.echo)
        except SignInFailed as exc:
            fail(str(exc))
        click.echo(done)

    return run


class SignIns(click.Group):
    """A command per calendar kind that has a sign-in, built when click asks for it."""

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The kinds are named from the registry, as the commands are, so the help never names
        one that has no sign-in; ``liftrun --help`` shows the docstring's first line alone."""
        from adapters.kinds import sign_ins

        super().format_help_text(ctx, formatter)
        formatter.write_paragraph()
        with formatter.indentation():
            kinds = ", ".join(sorted(sign_ins()))
            formatter.write_text(f"A command per calendar kind that has a sign-in: {kinds}.")

    def list_commands(self, ctx: click.Context) -> list[str]:
        from adapters.kinds import sign_ins

        return sorted(sign_ins())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from adapters.kinds import sign_ins

        found = sign_ins().get(cmd_name)
        return None if found is None else command(cmd_name, found)


@click.group(cls=SignIns)
def auth() -> None:
    """Sign in to the calendar services that need consent first."""
