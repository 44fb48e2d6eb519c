"""The athlete's pages as HTML: one Jinja2 environment over ``web/templates`` (autoescaped),
the views from :mod:`web.views` and the pictures from :mod:`web.charts`.

The pages load nothing from elsewhere (styles are inline, pictures are inline SVG, there is no
script) and work with JavaScript off; every action is a plain POST form. ``no-referrer`` keeps a
session link, which is a capability, out of the Referer header of any link followed from it.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from web import charts
from web.views import Field, Overview, SessionView, WeekView


def _hm(t: datetime) -> str:
    return f"{t:%H:%M}"


def _longday(d: date) -> str:
    return f"{d:%A} {d.day} {d:%B %Y}"


def _shortday(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def _stamp(t: datetime) -> str:
    return f"{t:%a} {t.day} {t:%b %H:%M}"


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("web", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(hm=_hm, longday=_longday, shortday=_shortday, stamp=_stamp)
    env.globals.update(field=Field, kind_word=lambda kind: charts.KIND_WORD.get(kind, kind))
    return env


def render_overview(view: Overview) -> str:
    today = view.position.today
    return (
        environment()
        .get_template("overview.html")
        .render(
            view=view,
            timezone=view.timezone,
            timeline=charts.phase_timeline(view.phases, today),
            volume=charts.volume_chart(view.weeks, today),
        )
    )


def render_week(view: WeekView) -> str:
    return (
        environment()
        .get_template("week.html")
        .render(view=view, timezone=view.timezone, grid=charts.week_grid(view))
    )


def render_session(view: SessionView) -> str:
    return (
        environment()
        .get_template("session.html")
        .render(view=view, timezone=view.timezone, today=None)
    )


def render_not_found() -> str:
    """The one page every refusal shows (wrong secret, wrong signature, no such session), so
    a refusal tells nothing about what exists."""
    return environment().get_template("not_found.html").render(timezone="")
