"""Ranked fixes for a week that cannot hold every session: what a coach would offer.

When the day search (``planner.week.solve_week``) drops sessions (S10), each kind of fix below
changes the week a little, solves it again and is kept only when it strictly reduces what is
dropped: fewer dropped sessions, or a more important one back (a lower S10 drop cost, the drop
set's rank in ``planner.drops.drop_order``). A session a fix leaves out on purpose (one lift
fewer) counts as dropped. Fixes are ranked by how little they change, cheapest first:

1. shorten a run (dropped, or one that blocks a day) to the longest 5-min step, not below 20 min,
   that works; a long run of 45 min or less is an easy run (R3) and may share a lift's day;
2. make a run an easy one so it may share a day with a lift (S7; under strength priority at
   most ``run_on_lift_day_max`` minutes, R3);
3. one lift fewer: leave out the least important lift (S10) when that leaves fewer sessions out
   in all (it counts as dropped itself, and optional runs alone are not worth it);
4. a window on a free day (S8), named with its times;
5. a longer window on a named day, 15 to 60 minutes earlier or later (S8).

Within a kind the smaller change comes first. Every fix is verified by a real re-solve, and a
week makes at most ``MAX_SOLVES`` of them (the day search memoises, so a week that repeats within
a phase costs nothing the second time). Pure: no I/O, no clock. The five kinds of fix stay in one
module (near 700 lines) because they share the candidate ranking and the one re-solve budget;
apart, each would need the other four's bookkeeping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import time
from enum import IntEnum
from typing import Any, TypeVar

from planner.constraints import shared_run_minutes
from planner.drops import drop_order
from planner.model import Focus, Kind
from planner.volume import EASY_MAX_FOR_LONG
from planner.week import solve_week
from planner.week_types import Dropped, Spec, WeekLayout, WeekRules

MAX_SOLVES = 24  # re-solves per week, all kinds together (a pathological week solves in ~0.1 s)
MAX_FIXES = 5
PER_KIND_FIRST = 2  # the first pass takes at most this many of one kind, so kinds mix
MAX_PER_KIND = 3  # a kind stops searching after this many verified fixes
MIN_RUN_MINUTES = 20
RUN_STEP = 5
WINDOW_STEPS = (15, 30, 45, 60)
DEFAULT_WINDOWS = ((7 * 60, 8 * 60 + 30), (18 * 60, 19 * 60 + 30))  # minutes of the day
MAX_WINDOW_DAYS = 4  # free days tried for a new window
MAX_MOVES_NAMED = 2  # a fix that moves more sessions only says how many
END_OF_DAY = time(23, 59, 59, 999999)  # how config spells a window ending at 24:00
DAY = 24 * 60
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_NAMES = {
    Focus.LOWER: "lower-body lift",
    Focus.UPPER: "upper-body lift",
    Focus.FULL: "full-body lift",
    Focus.EASY: "easy run",
    Focus.TEMPO: "tempo run",
    Focus.INTERVALS: "interval run",
    Focus.LONG: "long run",
    Focus.OPTIONAL_EASY: "optional easy run",
    Focus.RACE: "race",
}

T = TypeVar("T")


class FixKind(IntEnum):
    """The kinds of fix, in ranking order (the smallest change first)."""

    SHORTEN = 1
    PAIR = 2
    FEWER_LIFTS = 3
    ADD_WINDOW = 4
    LONGER_WINDOW = 5


# solves allowed so far when a kind finishes: unspent solves carry over to the next kind
_CUMULATIVE_SOLVES = {
    FixKind.SHORTEN: 8,
    FixKind.PAIR: 11,
    FixKind.FEWER_LIFTS: 12,
    FixKind.ADD_WINDOW: 18,
    FixKind.LONGER_WINDOW: MAX_SOLVES,
}


@dataclass(frozen=True)
class Fix:
    """One verified fix: the changed week (``specs``, ``rules``) and what solving it gives.

    ``restored`` are the keys of sessions it brings back, ``displaced`` of sessions dropped now
    that were placed before (S10 may trade two runs for a lift), ``removed`` of sessions it
    leaves out on purpose. ``target`` is the run changed or the lift left out; ``day`` and
    ``window`` the weekday and (new) window of a window fix; ``minutes`` the run's new length.
    """

    kind: FixKind
    change: int  # the size of the change within its kind (minutes cut or added, lifts left out)
    text: str
    specs: tuple[Spec, ...]
    rules: WeekRules
    layout: WeekLayout
    restored: tuple[str, ...]
    displaced: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    relaxes: tuple[str, ...] = ()  # rule ids the fix relaxes
    target: str = ""
    minutes: int | None = None
    focus: Focus | None = None
    day: int | None = None
    window: tuple[time, time] | None = None

    @property
    def cost(self) -> tuple[int, int]:
        """The ranking key: the kind first, then the size of the change."""
        return (int(self.kind), self.change)


def week_fixes(specs: tuple[Spec, ...], rules: WeekRules, layout: WeekLayout) -> tuple[str, ...]:
    """At most ``MAX_FIXES`` one-sentence fixes for the week's drops, best first; () when
    nothing is dropped or nothing small helps. ``layout`` is ``solve_week(specs, rules)``."""
    return tuple(f.text for f in find_fixes(specs, rules, layout))


def find_fixes(specs: tuple[Spec, ...], rules: WeekRules, layout: WeekLayout) -> tuple[Fix, ...]:
    """The verified fixes behind ``week_fixes``, best first."""
    if not layout.dropped:
        return ()
    ctx = _Context(specs, rules, layout)
    if not ctx.dropped:
        return ()
    found: list[Fix] = []
    kinds: tuple[tuple[FixKind, Callable[[_Context], Iterator[Fix]]], ...] = (
        (FixKind.SHORTEN, _shorten),
        (FixKind.PAIR, _pair),
        (FixKind.FEWER_LIFTS, _fewer_lifts),
        (FixKind.ADD_WINDOW, _add_window),
        (FixKind.LONGER_WINDOW, _longer_window),
    )
    for kind, search in kinds:
        ctx.cap = _CUMULATIVE_SOLVES[kind]
        mine = 0
        for fix in search(ctx):
            if ctx.seen(fix):
                continue
            found.append(fix)
            mine += 1
            if mine >= MAX_PER_KIND:
                break
    return _pick(found)


def improves(before: tuple[int, int], after: tuple[int, int]) -> bool:
    """Strictly less dropped: fewer sessions, or a more important one back (S10)."""
    return after != before and (after[0] < before[0] or after[1] < before[1])


# -- the search context ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Trial:
    specs: tuple[Spec, ...]
    rules: WeekRules
    origin: tuple[int, ...]  # original index of each spec of ``specs``
    layout: WeekLayout
    dropped: frozenset[int]  # original indexes, sessions left out on purpose included
    removed: frozenset[int]
    improves: bool


class _Context:
    def __init__(self, specs: tuple[Spec, ...], rules: WeekRules, layout: WeekLayout) -> None:
        self.specs = specs
        self.rules = rules
        self.layout = layout
        order = drop_order([(s.focus, s.importance, s.key) for s in specs], rules.strength_priority)
        self.position = {i: p for p, i in enumerate(order)}
        self.identity = tuple(range(len(specs)))
        self.dropped = _indexes(specs, layout.dropped)
        self.base = self.score(self.dropped)
        self.placed_on = _weekdays(specs, layout, self.identity)
        self.cap = 0
        self.solves = 0
        self._memo: dict[
            tuple[tuple[Spec, ...], WeekRules], tuple[tuple[Spec, ...], WeekLayout]
        ] = {}
        self._seen_problems: set[tuple[tuple[Spec, ...], WeekRules]] = set()
        self._seen_texts: set[str] = set()

    def score(self, dropped: frozenset[int]) -> tuple[int, int]:
        return len(dropped), sum(1 << self.position[i] for i in dropped)

    def trial(
        self, specs: tuple[Spec, ...], rules: WeekRules, origin: tuple[int, ...] | None = None
    ) -> _Trial | None:
        """Solve the changed week; None once this kind's share of ``MAX_SOLVES`` is spent."""
        origin = self.identity if origin is None else origin
        key = (specs, rules)
        hit = self._memo.get(key)
        if hit is None:
            if self.solves >= self.cap:
                return None
            self.solves += 1
            hit = self._memo[key] = (specs, solve_week(specs, rules))
        specs, layout = hit  # the layout names the very Spec objects it was solved with
        removed = frozenset(range(len(self.specs))) - frozenset(origin)
        dropped = frozenset(origin[j] for j in _indexes(specs, layout.dropped)) | removed
        better = improves(self.base, self.score(dropped))
        return _Trial(specs, rules, origin, layout, dropped, removed, better)

    def seen(self, fix: Fix) -> bool:
        problem = (fix.specs, fix.rules)
        if problem in self._seen_problems or fix.text in self._seen_texts:
            return True
        self._seen_problems.add(problem)
        self._seen_texts.add(fix.text)
        return False

    def least(
        self, options: Sequence[T], build: Callable[[T], _Trial | None]
    ) -> tuple[T, _Trial] | None:
        """The first option (the smallest change) that improves, by bisection: options grow in
        change and a larger change relaxes the week further, so the last one is tried first and
        a week it does not help costs one solve."""
        if not options:
            return None
        last = build(options[-1])
        if last is None or not last.improves:
            return None
        best = (options[-1], last)
        lo, hi = 0, len(options) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            got = build(options[mid])
            if got is None:
                break
            if got.improves:
                hi = mid
                best = (options[mid], got)
            else:
                lo = mid + 1
        return best

    # -- words ---------------------------------------------------------------------------------
    def outcome(self, trial: _Trial, subject: int | None = None) -> str:
        """'the tempo run (35 min) fits on Tuesday[; ... dropped instead (S10)]'."""
        restored = sorted(self.dropped - trial.dropped, key=lambda i: -self.position[i])
        parts = []
        for i in restored:
            who = "it" if i == subject else _name(self.specs[i])
            parts.append(f"{who} fits{_where(trial, i)}")
        text = _join(parts) or "fewer sessions are dropped"
        displaced = sorted(
            trial.dropped - self.dropped - trial.removed, key=self.position.__getitem__
        )
        moved = self.moved(trial, subject)
        if len(moved) > MAX_MOVES_NAMED:
            text += f", with {len(moved)} other sessions on new days"
        elif moved:
            text += ", with " + _join(
                [f"{_bare(self.specs[i])} moved to {DAYS[wd]}" for i, wd in moved]
            )
        if displaced:
            names = _join([_name(self.specs[i]) for i in displaced])
            verb = "is" if len(displaced) == 1 else "are"
            text += f", though {names} {verb} dropped instead (S10)"
        return text

    def moved(self, trial: _Trial, subject: int | None) -> list[tuple[int, int]]:
        """(original index, new weekday) of sessions placed before and after on other days."""
        out: list[tuple[int, int]] = []
        for i, wd in sorted(_weekdays(trial.specs, trial.layout, trial.origin).items()):
            if i != subject and i in self.placed_on and self.placed_on[i] != wd:
                out.append((i, wd))
        return out

    def allowed(self, trial: _Trial, changed: int) -> _Trial:
        """S10: the accessory modality gives way first, so a fix never shortens or softens a
        placed session of the primary one (runs under endurance priority) only to bring back
        accessory sessions."""
        if not trial.improves or changed in self.dropped:
            return trial
        primary = Kind.LIFT if self.rules.strength_priority else Kind.RUN
        if self.specs[changed].kind is not primary:
            return trial
        restored = self.dropped - trial.dropped
        if any(self.specs[i].kind is primary for i in restored):
            return trial
        return replace(trial, improves=False)

    def fix(
        self,
        kind: FixKind,
        change: int,
        text: str,
        trial: _Trial,
        relaxes: tuple[str, ...],
        *,
        target: str = "",
        minutes: int | None = None,
        focus: Focus | None = None,
        day: int | None = None,
        window: tuple[time, time] | None = None,
    ) -> Fix:
        restored = sorted(self.dropped - trial.dropped, key=lambda i: -self.position[i])
        displaced = sorted(
            trial.dropped - self.dropped - trial.removed, key=self.position.__getitem__
        )
        return Fix(
            kind=kind,
            change=change,
            text=text,
            specs=trial.specs,
            rules=trial.rules,
            layout=trial.layout,
            restored=tuple(self.specs[i].key for i in restored),
            displaced=tuple(self.specs[i].key for i in displaced),
            removed=tuple(self.specs[i].key for i in sorted(trial.removed)),
            relaxes=relaxes,
            target=target,
            minutes=minutes,
            focus=focus,
            day=day,
            window=window,
        )

    # -- which sessions and days matter --------------------------------------------------------
    def runs_to_try(self) -> list[int]:
        """Dropped runs, most important first, then placed runs that may block a day."""
        runs = [i for i, s in enumerate(self.specs) if s.kind is Kind.RUN]
        dropped = sorted((i for i in runs if i in self.dropped), key=lambda i: -self.position[i])
        placed = sorted(
            (i for i in runs if i not in self.dropped),
            key=lambda i: (self.specs[i].focus is not Focus.LONG, -self.specs[i].minutes, i),
        )
        return dropped + placed

    def day_distance(self, wd: int) -> tuple[int, int]:
        """How far ``wd`` is from where the dropped sessions would like to be."""
        allowed = any(wd in self.specs[i].allowed for i in self.dropped)
        near = min(abs(wd - self.specs[i].preferred) for i in self.dropped)
        return (0 if allowed else 1, near)


def _indexes(specs: tuple[Spec, ...], dropped: Sequence[Dropped]) -> frozenset[int]:
    """Which of ``specs`` the layout dropped (the day search keeps the spec objects)."""
    out: set[int] = set()
    for d in dropped:
        match = next((i for i, s in enumerate(specs) if s is d.spec and i not in out), None)
        if match is None:
            match = next((i for i, s in enumerate(specs) if s == d.spec and i not in out), None)
        if match is not None:
            out.add(match)
    return frozenset(out)


# -- 1. shorten a run ---------------------------------------------------------------------------


def _shorter(spec: Spec) -> list[tuple[int, Focus]]:
    """(minutes, focus) options, longest first: 5-min steps down to 20 min; a long run of 45
    min or less is an easy run (R3), so a long run already that short may just be relabelled."""
    out: list[tuple[int, Focus]] = []
    if spec.focus is Focus.LONG and spec.minutes <= EASY_MAX_FOR_LONG:
        out.append((spec.minutes, Focus.EASY))
    top = (spec.minutes - 1) // RUN_STEP * RUN_STEP
    for minutes in range(top, MIN_RUN_MINUTES - 1, -RUN_STEP):
        long_easy = spec.focus is Focus.LONG and minutes <= EASY_MAX_FOR_LONG
        out.append((minutes, Focus.EASY if long_easy else spec.focus))
    return out


def _shorten(ctx: _Context) -> Iterator[Fix]:
    for i in ctx.runs_to_try():
        spec = ctx.specs[i]

        def build(option: tuple[int, Focus], i: int = i, spec: Spec = spec) -> _Trial | None:
            minutes, focus = option
            changed = replace(spec, minutes=minutes, focus=focus)
            trial = ctx.trial(_with(ctx.specs, i, changed), ctx.rules)
            return None if trial is None else ctx.allowed(trial, i)

        found = ctx.least(_shorter(spec), build)
        if found is None:
            continue
        (minutes, focus), trial = found
        capped = _placed_minutes(trial, i)
        if capped is not None and capped < minutes:
            # R3 caps it beside a lift: say the length it will really have
            exact = build((capped, focus))
            if exact is not None and exact.improves:
                minutes, trial = capped, exact
        easy = focus is not spec.focus
        shares = any(p.shares_day for p in trial.layout.placed if p.spec is trial.specs[i])
        relaxes = ("R3",) if easy else ("S3",) if shares else ("S8",)
        outcome = ctx.outcome(trial, subject=i)
        if minutes == spec.minutes:
            text = (
                f"Run {_name(spec)} as an easy run (R3: 45 min or less is an easy run, never "
                f"a long one) and {outcome}."
            )
        elif easy:
            text = f"Shorten {_name(spec)} to {minutes} min, an easy run (R3), and {outcome}."
        else:
            text = f"Shorten {_name(spec)} to {minutes} min ({relaxes[0]}) and {outcome}."
        yield ctx.fix(
            FixKind.SHORTEN,
            spec.minutes - minutes,
            text,
            trial,
            relaxes,
            target=spec.key,
            minutes=minutes,
            focus=focus,
        )


# -- 2. an easy run beside a lift -----------------------------------------------------------------


def _pair(ctx: _Context) -> Iterator[Fix]:
    rules = ctx.rules
    if rules.max_per_day < 2:
        return  # S7: no two-a-days at all
    for i in ctx.runs_to_try():
        spec = ctx.specs[i]
        if spec.focus.is_easy_run or spec.focus is Focus.LONG:
            continue  # easy: already allowed beside a lift; long: shortening covers it (R3)
        if rules.strength_priority:
            minutes = shared_run_minutes(spec.minutes, rules.book)  # R3
            relaxes: tuple[str, ...] = ("R3", "S7")
        else:
            if not spec.focus.is_hard_run:
                continue  # endurance priority: a long run may share a day already
            minutes = spec.minutes
            relaxes = ("S4", "S7")
        changed = replace(spec, minutes=minutes, focus=Focus.EASY)
        trial = ctx.trial(_with(ctx.specs, i, changed), rules)
        if trial is None:
            return
        if not ctx.allowed(trial, i).improves:
            continue
        outcome = ctx.outcome(trial, subject=i)
        if rules.strength_priority:
            length = f" of {minutes} min" if minutes < spec.minutes else ""
            text = (
                f"Make {_name(spec)} an easy run{length} (R3) so it may share a day with a lift "
                f"(S7), and {outcome}."
            )
        else:
            text = (
                f"Make {_name(spec)} an easy run, so S4 no longer keeps it 8 h from a "
                f"lower-body lift and it may share a day with one (S7), and {outcome}."
            )
        yield ctx.fix(
            FixKind.PAIR,
            spec.minutes - minutes,
            text,
            trial,
            relaxes,
            target=spec.key,
            minutes=minutes,
            focus=Focus.EASY,
        )


# -- 3. one lift fewer ----------------------------------------------------------------------------


def _fewer_lifts(ctx: _Context) -> Iterator[Fix]:
    lifts = [i for i, s in enumerate(ctx.specs) if s.kind is Kind.LIFT]
    if not lifts:
        return
    victim = min(lifts, key=lambda i: ctx.position[i])  # the first S10 would drop
    if victim in ctx.dropped:
        return  # the least important lift is out already
    origin = tuple(i for i in range(len(ctx.specs)) if i != victim)
    trial = ctx.trial(tuple(ctx.specs[i] for i in origin), ctx.rules, origin)
    if trial is None or not trial.improves:
        return
    if all(ctx.specs[i].focus is Focus.OPTIONAL_EASY for i in ctx.dropped - trial.dropped):
        return  # a planned lift is not worth optional runs alone (S10 drops those first)
    lift = ctx.specs[victim]
    text = (
        f"Plan one lift fewer this week (L1): leave out {_name(lift)}, the least important "
        f"lift (S10), and {ctx.outcome(trial)}."
    )
    yield ctx.fix(FixKind.FEWER_LIFTS, 1, text, trial, ("L1", "S10"), target=lift.key)


# -- 4. a window on a free day --------------------------------------------------------------------


def _window_options(rules: WeekRules, wd: int) -> list[tuple[tuple[int, int], int | None]]:
    """New windows for free day ``wd``: the nearest windowed day's, then the defaults."""
    out: list[tuple[tuple[int, int], int | None]] = []
    with_windows = [d for d in range(7) if rules.windows[d]]
    if with_windows:
        near = min(abs(d - wd) for d in with_windows)
        for d in (d for d in with_windows if abs(d - wd) == near):
            out.extend((_minutes_window(w), d) for w in rules.windows[d])
    out.extend((w, None) for w in DEFAULT_WINDOWS)
    unique: dict[tuple[int, int], int | None] = {}
    for window, source in out:
        unique.setdefault(window, source)
    return list(unique.items())[:3]


def _add_window(ctx: _Context) -> Iterator[Fix]:
    free = [wd for wd in range(7) if not ctx.rules.windows[wd]]
    free.sort(key=lambda wd: (ctx.day_distance(wd), wd))
    for wd in free[:MAX_WINDOW_DAYS]:
        for (start, end), source in _window_options(ctx.rules, wd):
            window = (_clock(start), _clock(end))
            rules = _with_windows(ctx.rules, wd, (window,))
            trial = ctx.trial(ctx.specs, rules)
            if trial is None:
                return
            if not trial.improves:
                continue
            like = f", like {DAYS[source]}'s" if source is not None else ""
            text = (
                f"Add a window on {DAYS[wd]} ({_hhmm(start)}-{_hhmm(end)}{like}) and "
                f"{ctx.outcome(trial)} (S8)."
            )
            yield ctx.fix(
                FixKind.ADD_WINDOW, end - start, text, trial, ("S8",), day=wd, window=window
            )
            break  # one window per day: the first that works


# -- 5. a longer window -------------------------------------------------------------------------


def _longer_window(ctx: _Context) -> Iterator[Fix]:
    windows = [(wd, k) for wd in range(7) for k in range(len(ctx.rules.windows[wd]))]
    windows.sort(key=lambda w: (ctx.day_distance(w[0]), w))
    for wd, k in windows:
        day = [_minutes_window(w) for w in ctx.rules.windows[wd]]
        start, end = day[k]
        floor = day[k - 1][1] if k > 0 else 0
        ceiling = day[k + 1][0] if k + 1 < len(day) else DAY
        for later in (True, False):
            options = [
                n for n in WINDOW_STEPS if (end + n <= ceiling if later else start - n >= floor)
            ]

            def build(
                n: int,
                later: bool = later,
                wd: int = wd,
                k: int = k,
                span: tuple[int, int] = (start, end),
            ) -> _Trial | None:
                new = (span[0], span[1] + n) if later else (span[0] - n, span[1])
                return ctx.trial(ctx.specs, _with_window(ctx.rules, wd, k, new))

            found = ctx.least(options, build)
            if found is None:
                if ctx.solves >= ctx.cap:
                    return
                continue
            n, trial = found
            new = (start, end + n) if later else (start - n, end)
            how = f"End {DAYS[wd]}'s window" if later else f"Start {DAYS[wd]}'s window"
            text = (
                f"{how} {n} min {'later' if later else 'earlier'} "
                f"({_hhmm(new[0])}-{_hhmm(new[1])} instead of {_hhmm(start)}-{_hhmm(end)}) "
                f"and {ctx.outcome(trial)} (S8)."
            )
            yield ctx.fix(
                FixKind.LONGER_WINDOW,
                n,
                text,
                trial,
                ("S8",),
                day=wd,
                window=(_clock(new[0]), _clock(new[1])),
            )


# -- helpers ------------------------------------------------------------------------------------


def _pick(found: list[Fix]) -> tuple[Fix, ...]:
    """Best first, at most ``MAX_FIXES``; a first pass takes at most ``PER_KIND_FIRST`` of a
    kind so one kind (say, a window on each free day) does not crowd out the others."""
    found_at = {id(f): n for n, f in enumerate(found)}  # the search tries the nearest days first
    ranked = sorted(
        found, key=lambda f: (f.cost, -len(f.restored), len(f.displaced), found_at[id(f)])
    )
    chosen: list[Fix] = []
    per_kind: dict[FixKind, int] = {}
    for fix in ranked:
        if len(chosen) < MAX_FIXES and per_kind.get(fix.kind, 0) < PER_KIND_FIRST:
            chosen.append(fix)
            per_kind[fix.kind] = per_kind.get(fix.kind, 0) + 1
    for fix in ranked:
        if len(chosen) < MAX_FIXES and fix not in chosen:
            chosen.append(fix)
    return tuple(sorted(chosen, key=ranked.index))


def _with(specs: tuple[Spec, ...], i: int, spec: Spec) -> tuple[Spec, ...]:
    return (*specs[:i], spec, *specs[i + 1 :])


def _with_windows(rules: WeekRules, wd: int, windows: tuple[tuple[time, time], ...]) -> WeekRules:
    days = list(rules.windows)
    days[wd] = windows
    # S8's windows live in the athlete's rule book (``rules.book``) or, in older versions of
    # week.py, on WeekRules itself; only they change
    book = getattr(rules, "book", None)
    changes: dict[str, Any] = (
        {"windows": tuple(days)} if book is None else {"book": replace(book, windows=tuple(days))}
    )
    return replace(rules, **changes)


def _with_window(rules: WeekRules, wd: int, k: int, window: tuple[int, int]) -> WeekRules:
    day = list(rules.windows[wd])
    day[k] = (_clock(window[0]), _clock(window[1]))
    return _with_windows(rules, wd, tuple(day))


def _minutes_window(window: tuple[time, time]) -> tuple[int, int]:
    start, end = window
    return _of_day(start), DAY if end == END_OF_DAY else _of_day(end)


def _of_day(t: time) -> int:
    return t.hour * 60 + t.minute


def _clock(minutes: int) -> time:
    return END_OF_DAY if minutes >= DAY else time(minutes // 60, minutes % 60)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _name(spec: Spec) -> str:
    return f"the {_NAMES.get(spec.focus, str(spec.focus))} ({spec.minutes} min)"


def _where(trial: _Trial, original: int) -> str:
    """' on Wednesday beside the upper-body lift' for a session the trial placed."""
    j = trial.origin.index(original)
    spec = trial.specs[j]
    placed = next((p for p in trial.layout.placed if p.spec is spec), None)
    if placed is None:
        return ""
    text = f" on {DAYS[placed.weekday]}"
    partners = [
        p for p in trial.layout.placed if p.weekday == placed.weekday and p.spec is not spec
    ]
    if partners:
        text += " beside " + _join([_bare(p.spec) for p in partners])
    if placed.minutes < spec.minutes:
        text += f", at {placed.minutes} min on the lift day (R3)"
    return text


def _placed_minutes(trial: _Trial, j: int) -> int | None:
    spec = trial.specs[j]
    return next((p.minutes for p in trial.layout.placed if p.spec is spec), None)


def _bare(spec: Spec) -> str:
    return f"the {_NAMES.get(spec.focus, str(spec.focus))}"


def _weekdays(
    specs: tuple[Spec, ...], layout: WeekLayout, origin: tuple[int, ...]
) -> dict[int, int]:
    """Original index -> weekday of every placed session."""
    out: dict[int, int] = {}
    for j, spec in enumerate(specs):
        placed = next((p for p in layout.placed if p.spec is spec), None)
        if placed is not None:
            out[origin[j]] = placed.weekday
    return out


def _join(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
