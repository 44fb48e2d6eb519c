"""The ``liftrun`` group and where each of its commands lives.

Commands are registered by name and imported only when click asks for one (click's lazy group
pattern): ``liftrun plan`` loads ``cli.plan`` and nothing of ``cli.init`` or the feed server.
``liftrun --help`` asks every command for its one-line help, so each command module keeps its
top level to click and :mod:`cli.common`, and imports the rest inside the command.
"""

from __future__ import annotations

import importlib
import os

import click

# name -> "module:attribute"; the one list of liftrun's commands
COMMANDS: dict[str, str] = {
    "auth": "cli.auth:auth",
    "check": "cli.check:check",
    "feed": "cli.feed:feed",
    "init": "cli.init:init",
    "plan": "cli.plan:plan",
    "restore": "cli.status:restore",
    "serve": "cli.feed:serve",
    "sore": "cli.sore:sore",
    "status": "cli.status:status",
    "sync": "cli.sync:sync",
    "web": "cli.web:web",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use, from :data:`COMMANDS`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        module, attribute = COMMANDS[cmd_name].split(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command), COMMANDS[cmd_name]
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="liftrun")
def main() -> None:
    """liftrun: a phased running + strength plan, placed in your own calendar."""
    # Everything liftrun writes (state store, journal, tokens, feeds, caches) is the athlete's
    # private data: busy titles, when they are away, credentials.
    os.umask(0o077)


if __name__ == "__main__":  # python -m cli.main (python -m cli does the same)
    main()
