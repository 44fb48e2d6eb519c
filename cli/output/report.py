"""A sync cycle's report as ``liftrun sync`` prints it: the lines of
:func:`sync.report.report_lines` for a person (problems on stderr, through ``tell``, so that
``--log-format json`` keeps stderr JSON), or the report as one JSON object for a program."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from cli.common import tell

if TYPE_CHECKING:
    from sync.report import CycleReport


def print_report(report: CycleReport, fmt: str) -> None:
    from sync.report import report_lines

    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), default=str))
        return
    for line in report_lines(report):
        if line.level is None:
            click.echo(line.text)
        else:
            tell(line.text, level=line.level)
