"""The pages' pictures, drawn on the server as SVG from the views: the phase timeline, the weekly
volume chart and the week's time grid.

Each picture is one ``<svg role="img">`` with an ``aria-label``, a ``<title>`` and a ``<desc>``
that say in words what it shows, a ``viewBox`` and ``width="100%"`` so it scales from a 360 px
phone to a desktop, and no script, font or link outside the page. Colour is never the only
signal: phases carry their names, cutback weeks a hatch and a letter, sessions a pattern and a
word (lift, run, race), pins a marker, busy time the word "busy" and never an event's title
(the views do not hold one). The page beside each picture gives the same facts as text.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from markupsafe import Markup, escape

from web.views import (
    BusyBlock,
    DayColumn,
    PhaseBand,
    SessionLine,
    SessionState,
    WeekBar,
    WeekView,
)

PHASE_FILL = {
    "base": "#cfe0f3",
    "build": "#d4edcf",
    "peak": "#ead7ef",
    "taper": "#fbeec0",
    "race": "#f6c7c8",
    "recovery": "#e6e3e1",
    "maintenance": "#cdeceb",
}
SHORT_PHASE = {
    "base": "base",
    "build": "bld",
    "peak": "pk",
    "taper": "tpr",
    "race": "race",
    "recovery": "rec",
    "maintenance": "mnt",
}
KIND_FILL = {"lift": "#f4a259", "run": "#8fb3f5", "race": "#f08a8b"}
KIND_WORD = {"lift": "Lift", "run": "Run", "race": "Race"}
INK = "#1a1a1a"
MUTED = "#555"
BUSY_FILL = "#9e9e9e"
FADED = ' opacity="0.55"'
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _svg(prefix: str, size: tuple[int, int], label: str, desc: str, body: Iterable[str]) -> Markup:
    width, height = size
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {prefix}" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMidYMin meet" '
        f'aria-label="{escape(label)}" font-size="11" fill="{INK}">'
        f"<title>{escape(label)}</title><desc>{escape(desc)}</desc>"
    )
    return Markup(head + "".join(body) + "</svg>")


def _text(x: float, y: float, words: str, **attrs: str | float) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}"{_attrs(attrs)}>{escape(words)}</text>'


def _rect(x: float, y: float, w: float, h: float, **attrs: str | float) -> str:
    size = f'width="{max(w, 0):.1f}" height="{max(h, 0):.1f}"'
    return f'<rect x="{x:.1f}" y="{y:.1f}" {size}{_attrs(attrs)}/>'


def _attrs(attrs: dict[str, str | float]) -> str:
    """Keyword arguments as SVG attributes: ``font_size`` is ``font-size``, ``class_`` is
    ``class``."""
    return "".join(
        f' {k.rstrip("_").replace("_", "-")}="{escape(str(v))}"' for k, v in attrs.items()
    )


def _hatch(pid: str, colour: str, background: str = "none", angle: int = 45) -> str:
    bg = f'<rect width="6" height="6" fill="{background}"/>' if background != "none" else ""
    return (
        f'<pattern id="{pid}" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate({angle})">{bg}'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{colour}" stroke-width="2"/></pattern>'
    )


def _dots(pid: str, colour: str, background: str) -> str:
    return (
        f'<pattern id="{pid}" width="6" height="6" patternUnits="userSpaceOnUse">'
        f'<rect width="6" height="6" fill="{background}"/>'
        f'<circle cx="3" cy="3" r="1.2" fill="{colour}"/></pattern>'
    )


def _day(d: date) -> str:
    return f"{d:%d %b}".lstrip("0")


# -- the phase timeline ----------------------------------------------------------------------------
def phase_timeline(phases: tuple[PhaseBand, ...], today: date) -> Markup:
    """The phases as bands along the plan's days, named and dated, with a "today" mark."""
    width, left, right, top, band = 480, 6, 6, 22, 34
    if not phases:
        return _svg("timeline", (width, 40), "No phases", "The plan has no phases.", ())
    first, last = phases[0].start, phases[-1].end
    days = (last - first).days + 1
    scale = (width - left - right) / days

    def x_of(d: date) -> float:
        return left + (d - first).days * scale

    body: list[str] = [
        "<defs>",
        _dots("tl-race", "#8a1c1d", PHASE_FILL["race"]),
        _hatch("tl-taper", "#c9a227", PHASE_FILL["taper"]),
        _hatch("tl-recovery", "#9a948f", PHASE_FILL["recovery"], angle=-45),
        "</defs>",
    ]
    for p in phases:
        x0, x1 = x_of(p.start), x_of(p.end + timedelta(days=1))
        w = x1 - x0
        span = f"{p.name} {p.start.isoformat()} to {p.end.isoformat()}"
        body.append(
            f'<g class="phase phase-{escape(p.name)}"><title>{escape(span)}</title>'
            + _rect(x0, top, w, band, fill=_phase_fill(p.name), stroke=INK, stroke_width=0.6)
        )
        name = next((n for n in (p.name, SHORT_PHASE.get(p.name, "")) if w >= 7 * len(n)), "")
        if name:
            body.append(_text(x0 + w / 2, top + 21, name, text_anchor="middle"))
        body.append("</g>")
    shown: list[float] = []
    for p in phases:  # start dates under the bands, skipped where they would overlap
        x = x_of(p.start)
        if all(abs(x - s) >= 44 for s in shown):
            body.append(_text(x + 1, top + band + 14, _day(p.start), font_size=10, fill=MUTED))
            shown.append(x)
    end_x = x_of(last + timedelta(days=1))
    if all(abs(end_x - 40 - s) >= 44 for s in shown):
        body.append(
            _text(end_x, top + band + 14, _day(last), font_size=10, fill=MUTED, text_anchor="end")
        )
    if first <= today <= last:
        tx = x_of(today) + scale / 2
        anchor = "start" if tx < 40 else ("end" if tx > width - 40 else "middle")
        body.append(
            f'<g class="today"><line x1="{tx:.1f}" y1="{top - 4}" x2="{tx:.1f}" '
            f'y2="{top + band + 4}" stroke="{INK}" stroke-width="2.5"/>'
            + _text(tx, 12, f"today {_day(today)}", text_anchor=anchor, font_weight="bold")
            + "</g>"
        )
    label = "Phase timeline: " + ", ".join(
        f"{p.name} {_day(p.start)} to {_day(p.end)}" for p in phases
    )
    desc = f"Phases from {first.isoformat()} to {last.isoformat()}" + (
        f"; today is {today.isoformat()}, in the {_phase_on(phases, today)} phase"
        if first <= today <= last
        else ""
    )
    return _svg("timeline", (width, top + band + 20), label, desc, body)


def _phase_fill(name: str) -> str:
    """Race week dotted, taper and recovery hatched: the short phases stay apart where a band is
    too narrow for its name (the list beside the picture names them all)."""
    if name in {"race", "taper", "recovery"}:
        return f"url(#tl-{name})"
    return PHASE_FILL.get(name, "#eee")


def _phase_on(phases: tuple[PhaseBand, ...], day: date) -> str:
    return next((p.name for p in phases if p.start <= day <= p.end), "")


# -- the weekly volume chart -----------------------------------------------------------------------
def week_text(w: WeekBar) -> str:
    """One week's bar in words (its tooltip and the table beside the chart say the same)."""
    parts = [f"run {w.run_minutes} min", f"long run {w.long_run_minutes} min"]
    parts.append(f"{w.lift_sets} lift sets")
    text = f"Week of {w.start.isoformat()} ({w.phase}): " + ", ".join(parts)
    if w.cutback:
        text += ", cutback week"
    if w.past:
        text += f"; done {w.done} of {w.sessions}, skipped {w.skipped}"
    return text


def volume_chart(weeks: tuple[WeekBar, ...], today: date) -> Markup:
    """Run minutes per week (long run inside), lift sets below; cutbacks hatched and marked
    "c"; past weeks carry a strip of done (solid) and skipped (crossed) sessions."""
    width, left, right = 480, 34, 4
    run_top, run_h = 14, 130
    lift_top, lift_h = run_top + run_h + 34, 50
    strip_top = lift_top + lift_h + 8
    height = strip_top + 30
    n = max(len(weeks), 1)
    slot = (width - left - right) / n
    bar = max(slot * 0.72, 1.0)
    top_run = max((w.run_minutes for w in weeks), default=0) or 60
    top_sets = max((w.lift_sets for w in weeks), default=0) or 10
    body: list[str] = [
        "<defs>",
        _hatch("vol-cutback", "#fff"),
        _hatch("vol-skip", INK, "#fff", angle=45),
        "</defs>",
    ]
    for value, y in ((top_run, run_top), (0, run_top + run_h)):
        body.append(_text(left - 4, y + 4, f"{value}'", text_anchor="end", font_size=9, fill=MUTED))
    body.append(
        _text(left - 4, lift_top + 8, str(top_sets), text_anchor="end", font_size=9, fill=MUTED)
    )
    body.append(_text(left, run_top - 4, "run minutes (dark: long run)", font_size=10, fill=MUTED))
    body.append(_text(left, lift_top - 4, "lift sets", font_size=10, fill=MUTED))
    body.append(
        f'<line x1="{left}" y1="{run_top + run_h}" x2="{width - right}" '
        f'y2="{run_top + run_h}" stroke="{MUTED}" stroke-width="0.6"/>'
    )
    for i, w in enumerate(weeks):
        x = left + i * slot + (slot - bar) / 2
        rh = run_h * w.run_minutes / top_run
        lh = run_h * w.long_run_minutes / top_run
        sh = lift_h * w.lift_sets / top_sets
        current = w.start <= today <= w.start + timedelta(days=6)
        g = [
            f'<g class="week{" cutback" if w.cutback else ""}{" past" if w.past else ""}">'
            f"<title>{escape(week_text(w))}</title>",
            _rect(x, run_top + run_h - rh, bar, rh, fill="#8fb3f5"),
            _rect(x, run_top + run_h - lh, bar, lh, fill="#2f5fb3"),
            _rect(x, lift_top + lift_h - sh, bar, sh, fill="#f4a259"),
        ]
        if w.cutback:
            g.append(_rect(x, run_top + run_h - rh, bar, rh, fill="url(#vol-cutback)"))
            g.append(
                _text(x + bar / 2, run_top + run_h + 11, "c", text_anchor="middle", font_size=9)
            )
        if w.past and w.sessions:
            unit = 22 / w.sessions
            g.append(_rect(x, strip_top, bar, 22, fill="#fff", stroke=MUTED, stroke_width=0.4))
            g.append(_rect(x, strip_top + 22 - unit * w.done, bar, unit * w.done, fill="#2e7d32"))
            g.append(
                _rect(
                    x,
                    strip_top + 22 - unit * (w.done + w.skipped),
                    bar,
                    unit * w.skipped,
                    fill="url(#vol-skip)",
                )
            )
        if current:
            g.append(
                f'<polygon points="{x + bar / 2:.1f},{run_top + run_h + 15} '
                f"{x + bar / 2 - 4:.1f},{run_top + run_h + 23} "
                f'{x + bar / 2 + 4:.1f},{run_top + run_h + 23}" fill="{INK}"/>'
            )
        g.append("</g>")
        body.append("".join(g))
    if any(w.past for w in weeks):
        body.append(
            _text(left - 4, strip_top + 15, "done", text_anchor="end", font_size=9, fill=MUTED)
        )
    past = [w for w in weeks if w.past]
    label = (
        f"Weekly volume over {len(weeks)} weeks: run minutes up to {top_run}, "
        f"lift sets up to {top_sets}, {sum(w.cutback for w in weeks)} cutback weeks"
    )
    desc = (
        f"Bars per week from {weeks[0].start.isoformat()}: run minutes with the long run "
        "inside, lift sets below; cutback weeks hatched and marked c; a triangle marks this "
        f"week. {len(past)} past weeks show sessions done (solid) and skipped (hatched)."
        if weeks
        else "No weeks."
    )
    return _svg("volume", (width, height), label, desc, body)


# -- the week's time grid --------------------------------------------------------------------------
def _hours(days: tuple[DayColumn, ...]) -> tuple[int, int]:
    """The hours the grid shows: every window, session and busy block of the week's days
    (busy time outside every window is clipped), at least 06:00-21:00."""
    lo, hi = 6, 21
    for d in days:
        spans: list[tuple[datetime, datetime]] = list(d.windows)
        spans += [(s.start, s.end) for s in d.sessions if s.start and s.end and not s.all_day]
        for a, b in spans:
            lo = min(lo, a.hour)
            hi = max(hi, b.hour + (1 if b.minute else 0) if b.date() == a.date() else 24)
    return lo, min(hi, 24)


def _minutes(t: datetime, day: date) -> float:
    if t.date() < day:
        return 0.0
    if t.date() > day:
        return 24 * 60.0
    return t.hour * 60 + t.minute + t.second / 60


def _session_shape(s: SessionLine, x: float, y0: float, y1: float, col: float) -> str:
    fill = (
        "url(#grid-lift)"
        if s.kind == "lift"
        else ("url(#grid-race)" if s.kind == "race" else KIND_FILL["run"])
    )
    h = max(y1 - y0, 14)
    start = f"{s.start:%H:%M}" if s.start and not s.all_day else "all day"
    state = "" if s.state is SessionState.PLANNED else f", {s.state.value}"
    pin = ", pinned" if s.pinned else ""
    tip = f"{s.title}, {start}{state}{pin}"
    faded = s.state in (SessionState.NOT_DOING, SessionState.PAUSED, SessionState.SKIPPED)
    halo: dict[str, str | float] = {"paint_order": "stroke", "stroke": "#fff", "stroke_width": 2.5}
    parts = [
        f'<g class="session kind-{escape(s.kind)}{" pinned" if s.pinned else ""}"'
        f"{FADED if faded else ''}><title>{escape(tip)}</title>",
        _rect(x + 2, y0, col - 4, h, fill=fill, stroke=INK, stroke_width=1, rx=3),
        _text(
            x + 5, y0 + 11, KIND_WORD.get(s.kind, s.kind), font_size=9.5, font_weight="bold", **halo
        ),
    ]
    lines = [start] + ([s.state.value] if s.state is not SessionState.PLANNED else [])
    for k, line in enumerate(lines):
        if h >= 24 + 11 * k:
            parts.append(_text(x + 5, y0 + 22 + 11 * k, line, font_size=9, **halo))
    if s.pinned:
        px = x + col - 9
        parts.append(
            f'<g class="pin"><circle cx="{px:.1f}" cy="{y0 + 6:.1f}" r="5" fill="{INK}"/>'
            + _text(
                px, y0 + 9, "P", font_size=8, fill="#fff", text_anchor="middle", font_weight="bold"
            )
            + "</g>"
        )
    if s.state is SessionState.DONE:
        parts.append(
            f'<path d="M{x + col - 18:.1f},{y0 + h - 8:.1f} l3,3 l6,-7" fill="none" '
            f'stroke="{INK}" stroke-width="2"/>'
        )
    parts.append("</g>")
    shape = "".join(parts)
    if s.url:
        return f'<a href="{escape(s.url)}" aria-label="{escape(tip)}">{shape}</a>'
    return shape


def _busy_shape(b: BusyBlock, x: float, y0: float, y1: float, col: float) -> str:
    words = f"busy {b.start:%H:%M}-{b.end:%H:%M}"
    out = f'<g class="busy" aria-label="{escape(words)}">' + _rect(
        x + 1, y0, col - 2, y1 - y0, fill="url(#grid-busy)", stroke=BUSY_FILL
    )
    if y1 - y0 >= 13:
        out += _text(x + 4, y0 + 10, "busy", font_size=9, fill="#333")
    return out + "</g>"


def week_grid(view: WeekView) -> Markup:
    """The seven days as columns of hours: training windows white, the rest shaded, busy time
    grey and hatched with the word "busy", sessions by kind with a pattern and a word."""
    lo, hi = _hours(view.days)
    left, top, col, per_hour = 34, 30, 54.0, 26.0
    width = int(left + 7 * col + 2)
    height = int(top + (hi - lo) * per_hour + 4)

    def y_of(minutes: float) -> float:
        return top + (min(max(minutes, lo * 60), hi * 60) - lo * 60) * per_hour / 60

    body: list[str] = [
        "<defs>",
        _hatch("grid-lift", "#b35f12", KIND_FILL["lift"]),
        _dots("grid-race", "#8a1c1d", KIND_FILL["race"]),
        _hatch("grid-busy", "#7a7a7a", "#d0d0d0", angle=-45),
        _hatch("grid-off", "#e4e4e4", "#f4f4f4"),
        "</defs>",
    ]
    for hour in range(lo, hi + 1):
        y = y_of(hour * 60)
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 2}" y2="{y:.1f}" stroke="#ddd" '
            'stroke-width="0.6"/>'
        )
        if hour < hi:
            body.append(
                _text(left - 4, y + 9, f"{hour:02d}", text_anchor="end", font_size=9, fill=MUTED)
            )
    for k, d in enumerate(view.days):
        x = left + k * col
        today = d.day == view.today
        body.append(_rect(x + 1, top, col - 2, (hi - lo) * per_hour, fill="url(#grid-off)"))
        for a, b in d.windows:
            y0, y1 = y_of(_minutes(a, d.day)), y_of(_minutes(b, d.day))
            body.append(
                _rect(
                    x + 1,
                    y0,
                    col - 2,
                    y1 - y0,
                    fill="#fff",
                    stroke="#6aa36f",
                    stroke_dasharray="3 2",
                    class_="window",
                )
            )
        head = f"{DAYS[d.day.weekday()]} {d.day.day}"
        body.append(
            _text(
                x + col / 2,
                12,
                head,
                text_anchor="middle",
                font_weight="bold" if today else "normal",
            )
        )
        if today:
            body.append(
                _text(
                    x + col / 2, 24, "today", text_anchor="middle", font_size=9, font_weight="bold"
                )
            )
            body.append(
                _rect(
                    x + 1,
                    top,
                    col - 2,
                    (hi - lo) * per_hour,
                    fill="none",
                    stroke=INK,
                    stroke_width=1.5,
                )
            )
        for blk in d.busy:
            y0, y1 = y_of(_minutes(blk.start, d.day)), y_of(_minutes(blk.end, d.day))
            if y1 > y0:
                body.append(_busy_shape(blk, x, y0, y1, col))
        for s in d.sessions:
            if s.all_day or s.start is None or s.end is None:
                y0, y1 = top, top + 16
            else:
                y0, y1 = y_of(_minutes(s.start, d.day)), y_of(_minutes(s.end, d.day))
            body.append(_session_shape(s, x, y0, y1, col))
    sessions = [s for d in view.days for s in d.sessions]
    busy = sum(len(d.busy) for d in view.days)
    label = (
        f"Week of {view.monday.isoformat()}: {len(sessions)} sessions, "
        f"{busy} busy blocks, hours {lo:02d}:00 to {hi:02d}:00"
    )
    desc = (
        "Columns Monday to Sunday. White dashed areas are training windows, grey hatched "
        "blocks are busy time, hatched orange boxes are lifts, plain blue boxes runs, dotted "
        "red boxes the race; P marks a pinned session. "
        + "; ".join(
            f"{DAYS[s.start.weekday()] if s.start else ''} {s.title}"
            + (" (pinned)" if s.pinned else "")
            for s in sessions
        )
    )
    return _svg("grid", (width, height), label, desc, body)
