"""A brute-force oracle for the placement engine over small weeks (S2-S10, R3, P4).

The issue's claim: if a valid placement exists the engine finds one, and the number of moved
sessions is minimal. Three pieces, none of which calls into ``planner.placement``'s internals:

* ``unary_rules`` / ``pair_rules`` / ``violations``: an independent validity checker written from
  ``shared/DOMAIN.md``, on whole minutes since a UTC epoch and local calendar days.
* ``candidate_starts``: the engine's documented slot set computed here from scratch (every free
  span's first start, the quarter-hour grid inside it, its last start, the session's previous
  and planned starts when they fit, and the starts a pinned neighbour fixes: its end or start
  plus or minus 0, the same-day gap or S4's 8 h). The oracle's optimum is over exactly this
  set, so "the engine finds one" is checked against the same alternatives the engine searches.
* ``oracle``: exhaustive search. Drop sets go in S10 order (as an integer mask, so dropping a more
  important session is worse than dropping any set of less important ones); for the first drop set
  that has any valid assignment, the sets of sessions allowed to leave their previous start are
  tried by size. Each existence question is answered by plain backtracking over all candidates, so
  every assignment is considered. ``literal_oracle`` enumerates ``itertools.product`` of all
  assignments for tiny weeks and checks the backtracking oracle against it.

Weeks are small (2-4 sessions, 2-4 available days with short windows, up to 3 busy events, some
previous placements, some pins) so the whole file runs in seconds. Known engine bugs are flagged
below (``SAME_DAY_S4_BUG`` ...), each with a strict xfail reproduction at the end of the file; the
property tests follow a flagged bug only where it changes the optimum.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import event, given, note, settings
from hypothesis import strategies as st

from planner.busy import BusyInterval
from planner.constraints import RuleBook
from planner.model import Focus, Kind, PhaseName, Session
from planner.placement import PlacementResult, Status, place
from tests.conftest import make_settings

# -- the numbers of DOMAIN.md (defaults of config.models.RuleNumbers) ----------------------------
STRENGTH_GAP = 6 * 60  # S3, strength priority
ENDURANCE_GAP = 2 * 60  # S3, endurance priority, runs of 55 min and more
BACK_TO_BACK_UNDER = 55  # S3, endurance priority: a shorter run may sit right next to the lift
HARD_GAP = 8 * 60  # S4
REGION_DAYS = 2  # S5
PER_DAY = 2  # S7
RUN_ON_LIFT_DAY = 40  # R3

LOWER_LIFTS = frozenset({Focus.LOWER, Focus.FULL})
UPPER_LIFTS = frozenset({Focus.UPPER, Focus.FULL})
LIFTS = LOWER_LIFTS | UPPER_LIFTS
HARD_RUNS = frozenset({Focus.INTERVALS, Focus.TEMPO})  # S4: interval, speed, hill, threshold
EASY_RUNS = frozenset({Focus.EASY, Focus.OPTIONAL_EASY})  # R3: zone 2
RUN_FIRST_PHASES = frozenset({PhaseName.BUILD, PhaseName.PEAK})  # S2, endurance, half/full

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
MONDAY = date(2027, 1, 4)
WEEK = tuple(MONDAY + timedelta(days=k) for k in range(7))
BEFORE_WEEK = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def minutes(instant: datetime) -> int:
    return (instant - EPOCH) // timedelta(minutes=1)


def instant(m: int) -> datetime:
    return EPOCH + timedelta(minutes=m)


def hhmm(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


# -- an instance -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Week:
    """One small week: what the engine gets, in a form the checker reads without the engine."""

    zone_name: str
    mode: str  # "strength" | "endurance" (no race) | "endurance_long" (marathon)
    windows: tuple[tuple[tuple[int, int], ...], ...]  # per weekday, local minutes [start, end)
    busy: tuple[BusyInterval, ...]
    buffer: int
    rest_days: int
    sessions: tuple[Session, ...]
    previous: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)
    pinned: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)
    now: datetime = BEFORE_WEEK

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.zone_name)

    @property
    def strength(self) -> bool:
        return self.mode == "strength"

    def place_rules(self) -> RuleBook:
        athlete = {"priority": "strength" if self.strength else "endurance"}
        goal: dict[str, str] = {"race": "none"}
        if self.mode == "endurance_long":
            goal = {"race": "marathon", "race_date": "2027-09-26"}
        availability: dict[str, object] = {
            WEEKDAYS[d]: [f"{hhmm(a)}-{hhmm(b)}" for a, b in ws]
            for d, ws in enumerate(self.windows)
            if ws
        }
        availability["buffer_minutes"] = self.buffer
        config = make_settings(
            timezone=self.zone_name,
            athlete=athlete,
            goal=goal,
            availability=availability,
            rules={"rest_days_per_week": self.rest_days},
        )
        return RuleBook.from_settings(config)

    def run(self, **changes: object) -> PlacementResult:
        """The engine on this week, or on a copy with ``changes`` (busy, previous, ...)."""
        week = replace(self, **changes)  # type: ignore[arg-type]
        return place(
            week.sessions,
            week.place_rules(),
            week.busy,
            now=week.now,
            previous=week.previous,
            pinned=week.pinned,
        )

    def local(self, m: int) -> datetime:
        return instant(m).astimezone(self.zone)

    def day_of(self, m: int) -> date:
        return self.local(m).date()

    def at(self, day: date, local_minutes: int) -> int:
        wall = datetime.combine(day, time(local_minutes // 60, local_minutes % 60))
        return minutes(wall.replace(tzinfo=self.zone))

    def describe(self) -> str:
        out = [f"{self.zone_name} {self.mode} buffer={self.buffer} rest_days={self.rest_days}"]
        out.append(f"now {self.now.isoformat()}")
        for d, ws in enumerate(self.windows):
            if ws:
                out.append(f"  {WEEKDAYS[d]}: " + ", ".join(f"{hhmm(a)}-{hhmm(b)}" for a, b in ws))
        for b in self.busy:
            out.append(
                f"  busy {self.local(minutes(b.start)):%a %H:%M}-{self.local(minutes(b.end)):%H:%M}"
            )
        for s in self.sessions:
            extra = []
            if s.id in self.previous:
                extra.append(f"prev {self.previous[s.id][0].astimezone(self.zone):%a %H:%M}")
            if s.id in self.pinned:
                extra.append(f"pin {self.pinned[s.id][0].astimezone(self.zone):%a %H:%M}")
            if s.start is not None:
                extra.append(f"planned {s.start.astimezone(self.zone):%a %H:%M}")
            if s.not_after is not None:
                extra.append(f"not_after {s.not_after:%a}")
            out.append(
                f"  {s.id}: {s.focus} {s.duration_minutes}min rank={s.rank} {s.phase} "
                + " ".join(extra)
            )
        return "\n".join(out)


@dataclass(frozen=True)
class Spot:
    """A session at a time: whole minutes since ``EPOCH`` (UTC) and its local calendar day."""

    start: int
    end: int
    day: date


def spot(week: Week, start: int, duration: int) -> Spot:
    return Spot(start, start + duration, week.day_of(start))


def spot_of(week: Week, span: tuple[datetime, datetime]) -> Spot:
    return Spot(minutes(span[0]), minutes(span[1]), week.day_of(minutes(span[0])))


# -- the independent checker -------------------------------------------------------------------
def unary_rules(week: Week, s: Session, x: Spot) -> list[str]:
    """Rules one session breaks alone at ``x``: S8 window and busy+buffer, S9 past, P4, week."""
    out: list[str] = []
    if x.end - x.start != s.duration_minutes:
        out.append("duration")
    windows = week.windows[x.day.weekday()]
    if not any(week.at(x.day, a) <= x.start and x.end <= week.at(x.day, b) for a, b in windows):
        out.append("S8 window")
    for b in week.busy:
        if minutes(b.start) < x.end + week.buffer and minutes(b.end) > x.start - week.buffer:
            out.append("S8 busy")
            break
    if x.start < minutes(week.now):
        out.append("S9 past")
    if s.not_after is not None and x.day > s.not_after:
        out.append("P4")
    monday = s.date - timedelta(days=s.date.weekday())
    if not monday <= x.day <= monday + timedelta(days=6):
        out.append("S10 week")
    return out


def pair_rules(week: Week, a: Session, x: Spot, b: Session, y: Spot) -> list[str]:
    """Rules two placed sessions break together (S2, S3, S4, S5, S7, R3, G5)."""
    out: list[str] = []
    a_lift, b_lift = a.focus in LIFTS, b.focus in LIFTS
    if x.start < y.end and y.start < x.end:
        out.append("S7")  # no overlaps
    if x.day == y.day:
        if a_lift == b_lift:
            out.append("S7")  # at most one lift and one run a day
        else:
            at_lift, (run, at_run) = (x, (b, y)) if a_lift else (y, (a, x))
            if week.strength and (
                run.focus not in EASY_RUNS or run.duration_minutes > RUN_ON_LIFT_DAY
            ):
                out.append("R3")
            run_first = week.mode == "endurance_long" and run.phase in RUN_FIRST_PHASES
            first, second = (at_run, at_lift) if run_first else (at_lift, at_run)
            if second.start < first.end:
                out.append("S2")
            else:
                if week.strength:
                    gap = STRENGTH_GAP
                else:
                    gap = 0 if run.duration_minutes < BACK_TO_BACK_UNDER else ENDURANCE_GAP
                if second.start < first.end + gap:
                    out.append("S3")
    hard_and_lower = (a.focus in HARD_RUNS and b.focus in LOWER_LIFTS) or (
        b.focus in HARD_RUNS and a.focus in LOWER_LIFTS
    )
    if hard_and_lower and not (y.start >= x.end + HARD_GAP or x.start >= y.end + HARD_GAP):
        out.append("S4")
    elif hard_and_lower and x.day == y.day:
        # liftrun's reading of S4 (README, "How the rules are read"): never an interval or tempo
        # day that is also a leg day, whatever the hours between them
        out.append("S4 same day")
    if (
        a_lift
        and b_lift
        and (
            (a.focus in LOWER_LIFTS and b.focus in LOWER_LIFTS)
            or (a.focus in UPPER_LIFTS and b.focus in UPPER_LIFTS)
        )
        and abs((x.day - y.day).days) < REGION_DAYS
    ):
        out.append("S5")
    both_hard = a.focus in HARD_RUNS and b.focus in HARD_RUNS
    if both_hard and abs((x.day - y.day).days) == 1:
        out.append("G5")  # hard runs never on consecutive days
    return out


def day_rules(week: Week, spots: Iterable[Spot]) -> list[str]:
    """S6 (rest days in the Mon-Sun week) and S7's count per day."""
    days = [x.day for x in spots]
    out = []
    if len({d for d in days if d in WEEK}) > 7 - week.rest_days:
        out.append("S6")
    if any(n > PER_DAY for n in Counter(days).values()):
        out.append("S7 count")
    return out


def violations(
    week: Week, result: PlacementResult, *, tolerate_known_bugs: bool = True
) -> list[str]:
    """Every rule the engine's output breaks; pinned sessions are not checked against themselves
    (on their own or with another pin), only against what the engine placed around them."""
    by_id = {s.id: s for s in week.sessions}
    out: list[str] = []
    placed = {p.session_id: spot_of(week, (p.start, p.end)) for p in result.placements}
    dropped = [u.id for u in result.unplaced]
    if sorted([*placed, *dropped]) != sorted(by_id):
        out.append(f"sessions in != out: {sorted(placed)} + {sorted(dropped)}")
    for sid, x in placed.items():
        if sid not in week.pinned:
            out += [f"{sid}: {r}" for r in unary_rules(week, by_id[sid], x)]
    for (i, x), (j, y) in itertools.combinations(sorted(placed.items()), 2):
        if i in week.pinned and j in week.pinned:
            continue
        out += [f"{i}+{j}: {r}" for r in pair_rules(week, by_id[i], x, by_id[j], y)]
    # S6/S7 counts: only what the engine added on top of the pins is its doing
    pin_days = {x.day for sid, x in placed.items() if sid in week.pinned}
    all_days = {x.day for x in placed.values()}
    if len(all_days & set(WEEK)) > max(7 - week.rest_days, len(pin_days & set(WEEK))):
        out.append("S6")
    per_day = Counter(x.day for x in placed.values())
    per_day_pins = Counter(x.day for sid, x in placed.items() if sid in week.pinned)
    mine = {x.day for sid, x in placed.items() if sid not in week.pinned}
    tolerated = THIRD_SESSION_BESIDE_TWO_PINS_BUG and tolerate_known_bugs
    out += [
        f"S7 count {d}"
        for d, n in per_day.items()
        if n > PER_DAY and d in mine and not (tolerated and n - per_day_pins[d] == 1)
    ]
    return out


# -- the oracle --------------------------------------------------------------------------------
def free_spans(week: Week, day: date) -> list[tuple[int, int]]:
    """The day's windows minus busy time widened by the buffer, minus the past (S8, S9)."""
    cuts = [(minutes(b.start) - week.buffer, minutes(b.end) + week.buffer) for b in week.busy]
    cuts.append((-(10**9), minutes(week.now)))
    spans = [(week.at(day, a), week.at(day, b)) for a, b in week.windows[day.weekday()]]
    for c0, c1 in cuts:
        spans = [
            piece
            for s0, s1 in spans
            for piece in ((s0, min(s1, c0)), (max(s0, c1), s1))
            if piece[0] < piece[1]
        ]
    return spans


def candidate_starts(week: Week, s: Session) -> list[int]:
    """The engine's documented slot set for ``s``, computed independently."""
    dur = s.duration_minutes
    extras = [minutes(t[0]) for t in (week.previous.get(s.id),) if t is not None]
    if s.start is not None:
        extras.append(minutes(s.start))
    # a pinned neighbour fixes starts to the minute: its end or start, plus or minus a gap
    gaps = (0, STRENGTH_GAP if week.strength else ENDURANCE_GAP, HARD_GAP)
    for sid, (p_start, p_end) in week.pinned.items():
        if sid == s.id:
            continue
        extras += [minutes(p_end) + g for g in gaps]
        extras += [minutes(p_start) - g - dur for g in gaps]
    out: set[int] = set()
    for day in WEEK:
        if s.not_after is not None and day > s.not_after:
            continue
        for a, b in free_spans(week, day):
            last = b - dur
            if last < a:
                continue
            out |= {a, last}
            out |= {t for t in range(a, last + 1) if t % 15 == 0}
            out |= {t for t in extras if a <= t <= last and week.day_of(t) == day}
    return sorted(out)


@dataclass(frozen=True)
class Optimum:
    mask: int  # drop set as bits in S10 order; a smaller number is a better drop set
    dropped: frozenset[str]
    moved: int  # previously placed sessions not at their previous start
    nodes: int


def drop_order(week: Week, sessions: Sequence[Session]) -> list[Session]:
    """S10: optional easy runs first, then the accessory modality (runs when strength comes
    first, lifts when endurance does), least important (highest rank) first, then the rest."""
    accessory_is_lift = not week.strength

    def group(s: Session) -> int:
        if s.focus is Focus.OPTIONAL_EASY:
            return 0
        return 1 if (s.focus in LIFTS) == accessory_is_lift else 2

    return sorted(sessions, key=lambda s: (group(s), -s.rank, s.id))


class Oracle:
    """``quirks``: follow the engine's known bugs instead of DOMAIN.md (see ``expected``)."""

    def __init__(self, week: Week, *, quirks: bool = False) -> None:
        self.week = week
        self.quirks = quirks
        pins = [(s, spot_of(week, week.pinned[s.id])) for s in week.sessions if s.id in week.pinned]
        self.pins = pins
        self.order = drop_order(week, [s for s in week.sessions if s.id not in week.pinned])
        self.domains: dict[str, list[Spot]] = {}
        for s in self.order:
            spots = [spot(week, t, s.duration_minutes) for t in candidate_starts(week, s)]
            self.domains[s.id] = [
                x
                for x in spots
                if not unary_rules(week, s, x) and all(not self.clash(s, x, p, y) for p, y in pins)
            ]
        self.nodes = 0

    def clash(self, a: Session, x: Spot, b: Session, y: Spot) -> bool:
        if pair_rules(self.week, a, x, b, y):
            return True
        return self.quirks and SAME_DAY_S4_BUG and same_day_hard_run_and_lower_lift(a, x, b, y)

    def previous_spot(self, s: Session) -> Spot | None:
        prev = self.week.previous.get(s.id)
        if prev is None:
            return None
        x = spot(self.week, minutes(prev[0]), s.duration_minutes)
        return x if x in self.domains[s.id] else None

    def feasible(self, variables: list[tuple[Session, list[Spot]]]) -> bool:
        """Is there an assignment of every variable to a value of its list that keeps the rules?"""
        variables = sorted(variables, key=lambda v: len(v[1]))
        limit = 7 - self.week.rest_days
        pin_days = {y.day for _, y in self.pins if y.day in WEEK}
        per_day = Counter(y.day for _, y in self.pins)
        count_per_day = not (self.quirks and THIRD_SESSION_BESIDE_TWO_PINS_BUG)
        chosen: list[tuple[Session, Spot]] = []

        def extend(k: int, days: set[date]) -> bool:
            self.nodes += 1
            if k == len(variables):
                return True
            s, values = variables[k]
            for x in values:
                more = days | {x.day}
                if len(more) > limit:
                    continue
                if count_per_day and per_day[x.day] + 1 > PER_DAY:
                    continue
                if any(self.clash(s, x, t, y) for t, y in chosen):
                    continue
                per_day[x.day] += 1
                chosen.append((s, x))
                if extend(k + 1, more):
                    return True
                chosen.pop()
                per_day[x.day] -= 1
            return False

        return extend(0, pin_days)

    def optimum(self) -> Optimum:
        n = len(self.order)
        for mask in range(1 << n):
            kept = [s for p, s in enumerate(self.order) if not mask >> p & 1]
            if not self.feasible([(s, self.domains[s.id]) for s in kept]):
                continue
            with_prev = [s for s in kept if s.id in self.week.previous]
            for size in range(len(with_prev) + 1):
                for free in itertools.combinations(with_prev, size):
                    variables = []
                    for s in kept:
                        prev = self.previous_spot(s)
                        if s in free or s.id not in self.week.previous:
                            variables.append((s, self.domains[s.id]))
                        else:
                            variables.append((s, [prev] if prev is not None else []))
                    if self.feasible(variables):
                        dropped = frozenset(s.id for s in self.order if s not in kept)
                        return Optimum(mask, dropped, size, self.nodes)
            raise AssertionError("a feasible drop set has a feasible move set")
        raise AssertionError("dropping every session is always feasible")


def oracle(week: Week, *, quirks: bool = False) -> Optimum:
    return Oracle(week, quirks=quirks).optimum()


# Known engine bugs, each reproduced by hand in a strict xfail test at the end of this file. While
# a flag is True the property tests accept exactly that behaviour where it matters (the oracle
# follows it, see ``expected``), so everything else stays checked. When a bug is fixed its strict
# xfail starts passing and fails the run: set the flag to False then.
#
# Not a bug but liftrun's documented reading of S4 (no interval or tempo day is a leg day), now
# part of ``pair_rules``; the flag stays so the quirk machinery keeps working for future flags.
SAME_DAY_S4_BUG = False
# test_no_third_session_on_a_day_that_already_has_two_pins: S7's "at most 2 sessions a day" is
# only checked pairwise (one lift + one run), so two pinned lifts on a day still get a run beside.
THIRD_SESSION_BESIDE_TWO_PINS_BUG = False


def same_day_hard_run_and_lower_lift(a: Session, x: Spot, b: Session, y: Spot) -> bool:
    return x.day == y.day and (
        (a.focus in HARD_RUNS and b.focus in LOWER_LIFTS)
        or (b.focus in HARD_RUNS and a.focus in LOWER_LIFTS)
    )


def expected(week: Week) -> Optimum:
    """The oracle's optimum, or the one under the known bugs where (and only where) they matter."""
    best = oracle(week)
    if SAME_DAY_S4_BUG or THIRD_SESSION_BESIDE_TWO_PINS_BUG:
        quirky = oracle(week, quirks=True)
        if (quirky.mask, quirky.moved) != (best.mask, best.moved):
            note(f"a known engine bug matters here: oracle {best}, with the bugs {quirky}")
            return quirky
    return best


def literal_oracle(week: Week) -> tuple[Optimum, int]:
    """Every assignment of every session to {dropped} + its candidates, checked in full."""
    o = Oracle(week)
    best: tuple[int, int] | None = None
    count = 0
    position = {s.id: p for p, s in enumerate(o.order)}
    choices = [[None, *o.domains[s.id]] for s in o.order]
    for values in itertools.product(*choices):
        count += 1
        placed = [(s, x) for s, x in zip(o.order, values, strict=True) if x is not None]
        if any(
            pair_rules(week, s, x, t, y) for (s, x), (t, y) in itertools.combinations(placed, 2)
        ):
            continue
        if day_rules(week, [x for _, x in placed] + [y for _, y in o.pins]):
            continue
        mask = sum(1 << position[s.id] for s, x in zip(o.order, values, strict=True) if x is None)
        moved = sum(
            1
            for s, x in placed
            if s.id in week.previous and x.start != minutes(week.previous[s.id][0])
        )
        if best is None or (mask, moved) < best:
            best = (mask, moved)
    assert best is not None
    dropped = frozenset(s.id for p, s in enumerate(o.order) if best[0] >> p & 1)
    return Optimum(best[0], dropped, best[1], 0), count


def engine_outcome(week: Week, result: PlacementResult) -> tuple[int, frozenset[str], int]:
    order = drop_order(week, [s for s in week.sessions if s.id not in week.pinned])
    dropped = frozenset(u.id for u in result.unplaced)
    mask = sum(1 << p for p, s in enumerate(order) if s.id in dropped)
    moved = sum(
        1
        for p in result.placements
        if p.session_id in week.previous
        and p.session_id not in week.pinned
        and p.start != week.previous[p.session_id][0]
    )
    return mask, dropped, moved


# -- strategies --------------------------------------------------------------------------------
ZONES = ("Europe/Berlin", "UTC", "America/New_York", "Asia/Kolkata")
MORNINGS = ((360, 480), (360, 450), (390, 480))  # 06:00-08:00, 06:00-07:30, 06:30-08:00
EVENINGS = ((1020, 1170), (1080, 1170), (1050, 1140))  # 17:00-19:30, 18:00-19:30, 17:30-19:00
DURATIONS = {
    Focus.LOWER: (45, 60, 75),
    Focus.UPPER: (45, 60),
    Focus.FULL: (60, 75),
    Focus.EASY: (30, 40, 45),
    Focus.OPTIONAL_EASY: (30, 40),
    Focus.TEMPO: (40, 50),
    Focus.INTERVALS: (45, 60),
    Focus.LONG: (60, 90),
}


def session(
    sid: str,
    focus: Focus,
    duration: int,
    day: date,
    *,
    phase: PhaseName = PhaseName.BASE,
    start: datetime | None = None,
    not_after: date | None = None,
) -> Session:
    return Session(
        id=sid,
        date=day,
        kind=Kind.LIFT if focus in LIFTS else Kind.RUN,
        focus=focus,
        phase=phase,
        duration_minutes=duration,
        title=f"{focus} {duration}",
        description="",
        rules=(),
        reason="",
        start=start,
        end=start + timedelta(minutes=duration) if start is not None else None,
        not_after=not_after,
    )


@st.composite
def weeks(
    draw: st.DrawFn, *, sessions: tuple[int, int] = (2, 4), days: tuple[int, int] = (2, 4)
) -> Week:
    zone_name = draw(st.sampled_from(ZONES))
    zone = ZoneInfo(zone_name)
    mode = draw(st.sampled_from(["strength", "strength", "endurance", "endurance_long"]))
    phase = draw(st.sampled_from([PhaseName.BASE, PhaseName.BUILD, PhaseName.PEAK]))
    open_days = draw(st.lists(st.integers(0, 6), min_size=days[0], max_size=days[1], unique=True))
    windows: list[tuple[tuple[int, int], ...]] = [() for _ in range(7)]
    for d in open_days:
        morning = draw(st.sampled_from([None, *MORNINGS]))
        evening = draw(st.sampled_from([*EVENINGS, None] if morning else EVENINGS))
        windows[d] = tuple(w for w in (morning, evening) if w)

    def wall(day: date, m: int) -> datetime:
        return datetime.combine(day, time(m // 60, m % 60)).replace(tzinfo=zone)

    n = draw(st.integers(*sessions))
    foci = draw(
        st.lists(st.sampled_from([f for f in Focus if f is not Focus.RACE]), min_size=n, max_size=n)
    )
    out: list[Session] = []
    previous: dict[str, tuple[datetime, datetime]] = {}
    for k, focus in enumerate(foci):
        dur = draw(st.sampled_from(DURATIONS[focus]))
        day = WEEK[draw(st.integers(0, 6))]
        sid = f"s{k}-{focus}"
        planned = None
        if draw(st.booleans()):
            pd = draw(st.sampled_from(open_days))
            a, b = draw(st.sampled_from(windows[pd]))
            planned = wall(WEEK[pd], a + 15 * draw(st.integers(0, max(0, (b - a - dur) // 15))))
            day = WEEK[pd]
        not_after = WEEK[draw(st.integers(0, 6))] if draw(st.integers(0, 5)) == 0 else None
        out.append(
            session(
                sid,
                focus,
                dur,
                day,
                phase=phase,
                start=planned,
                not_after=not_after,
            )
        )
        if draw(st.integers(0, 2)):  # two in three sessions were placed before
            pd = draw(st.sampled_from(open_days))
            a, b = draw(st.sampled_from(windows[pd]))
            if b - a >= dur:
                t = wall(WEEK[pd], a + 5 * draw(st.integers(0, (b - a - dur) // 5)))
                previous[sid] = (t, t + timedelta(minutes=dur))
    busy = []
    for k in range(draw(st.integers(0, 3))):
        if bool(previous) and draw(st.booleans()):  # a new event on top of a previous placement
            hit = previous[draw(st.sampled_from(sorted(previous)))][0]
            begin = hit + timedelta(minutes=5 * draw(st.integers(-6, 6)))
        else:
            day = WEEK[draw(st.sampled_from(open_days))]
            begin = wall(day, draw(st.integers(330 // 5, 1200 // 5)) * 5)
        length = timedelta(minutes=5 * draw(st.integers(3, 30)))
        busy.append(BusyInterval(begin, begin + length, f"b{k}"))
    # ranks: 0 = most important of its kind, all different within a kind
    for kind in Kind:
        ids = [i for i, s in enumerate(out) if s.kind is kind]
        for rank, i in enumerate(draw(st.permutations(ids))):
            out[i] = replace(out[i], rank=rank)
    now = BEFORE_WEEK
    if draw(st.integers(0, 4)) == 0:  # sometimes the week is under way
        now = wall(WEEK[2], 12 * 60)
        previous = {k: v for k, v in previous.items() if v[0] >= now}
    return Week(
        zone_name=zone_name,
        mode=mode,
        windows=tuple(windows),
        busy=tuple(busy),
        buffer=draw(st.sampled_from([15, 15, 0, 30])),
        rest_days=draw(st.sampled_from([1, 1, 4])),
        sessions=tuple(out),
        previous=previous,
        now=now,
    )


@st.composite
def pinned_weeks(
    draw: st.DrawFn, *, sessions: tuple[int, int] = (2, 4), days: tuple[int, int] = (2, 4)
) -> Week:
    """A week with one or two sessions pinned anywhere between 05:00 and 21:00 of the week."""
    week = draw(weeks(sessions=sessions, days=days))
    ids = [s.id for s in week.sessions]
    chosen = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=2, unique=True))
    pins = {}
    by_id = {s.id: s for s in week.sessions}
    for sid in chosen:
        s = by_id[sid]
        day = WEEK[draw(st.integers(0, 6))]
        m = draw(st.integers(300 // 5, 1260 // 5)) * 5
        t = datetime.combine(day, time(m // 60, m % 60)).replace(tzinfo=week.zone)
        pins[sid] = (t, t + timedelta(minutes=s.duration_minutes))
    previous = {k: v for k, v in week.previous.items() if k not in pins}
    return replace(week, pinned=pins, previous=previous)


# -- tests: the checker and the oracle themselves ----------------------------------------------
def test_checker_numbers_are_the_config_defaults() -> None:
    strength = RuleBook.from_settings(make_settings())
    assert strength.same_day_gap == timedelta(minutes=STRENGTH_GAP)
    assert strength.hard_gap == timedelta(minutes=HARD_GAP)
    assert strength.region_gap_days == REGION_DAYS
    assert strength.max_per_day == PER_DAY
    assert strength.run_on_lift_day_max == RUN_ON_LIFT_DAY
    assert strength.rest_days == 1 and strength.buffer == timedelta(minutes=15)
    endurance = RuleBook.from_settings(
        make_settings(
            athlete={"priority": "endurance"}, goal={"race": "marathon", "race_date": "2027-09-26"}
        )
    )
    assert endurance.same_day_gap == timedelta(minutes=ENDURANCE_GAP)
    assert endurance.back_to_back_run_minutes == BACK_TO_BACK_UNDER
    assert endurance.run_first_phases == RUN_FIRST_PHASES


def _two(week: Week, a: Session, a_at: str, b: Session, b_at: str) -> list[str]:
    def parse(text: str) -> Spot:
        day, clock = text.split()
        start = week.at(WEEK[WEEKDAYS.index(day)], int(clock[:2]) * 60 + int(clock[3:]))
        return spot(week, start, 0)

    x, y = parse(a_at), parse(b_at)
    return pair_rules(
        week,
        a,
        replace(x, end=x.start + a.duration_minutes),
        b,
        replace(y, end=y.start + b.duration_minutes),
    )


def test_checker_reads_the_rules_as_domain_md_states_them() -> None:
    base = Week("Europe/Berlin", "strength", ((),) * 7, (), 15, 1, ())
    lower = session("l", Focus.LOWER, 60, MONDAY)
    upper = session("u", Focus.UPPER, 60, MONDAY)
    full = session("f", Focus.FULL, 60, MONDAY)
    easy40 = session("e", Focus.EASY, 40, MONDAY)
    easy45 = session("e45", Focus.EASY, 45, MONDAY)
    tempo = session("t", Focus.TEMPO, 40, MONDAY)
    long_ = session("g", Focus.LONG, 60, MONDAY, phase=PhaseName.BUILD)
    short = session("r", Focus.EASY, 50, MONDAY, phase=PhaseName.BUILD)
    upper_b = replace(upper, phase=PhaseName.BUILD)
    # S2/S3 strength: lift first, 6 h between
    assert _two(base, lower, "mon 06:00", easy40, "mon 13:00") == []
    assert _two(base, lower, "mon 06:00", easy40, "mon 12:59") == ["S3"]
    assert _two(base, lower, "mon 13:00", easy40, "mon 06:00") == ["S2"]
    # R3: only an easy run of at most 40 min beside a lift
    assert _two(base, lower, "mon 06:00", easy45, "mon 18:00") == ["R3"]
    assert "R3" in _two(base, upper, "mon 06:00", tempo, "mon 18:00")
    # S4 across days, S5 two calendar days, S7
    assert _two(base, lower, "mon 18:00", tempo, "tue 03:00") == []
    assert _two(base, lower, "mon 18:00", tempo, "tue 02:59") == ["S4"]
    assert _two(base, upper, "mon 18:00", tempo, "tue 02:00") == []
    assert _two(base, lower, "mon 06:00", full, "tue 06:00") == ["S5"]
    assert _two(base, lower, "mon 06:00", full, "wed 06:00") == []
    assert _two(base, lower, "mon 06:00", upper, "tue 06:00") == []
    assert _two(base, upper, "mon 06:00", full, "tue 23:00") == ["S5"]
    assert _two(base, lower, "mon 06:00", upper, "mon 18:00") == ["S7"]
    assert _two(base, easy40, "mon 06:00", tempo, "tue 06:00") == []
    # endurance: lift first unless half/full build or peak; back to back below 55 min, else 2 h
    endurance = replace(base, mode="endurance")
    assert _two(endurance, upper_b, "mon 06:00", short, "mon 07:00") == []
    assert _two(endurance, upper_b, "mon 06:00", long_, "mon 07:00") == ["S3"]
    assert _two(endurance, upper_b, "mon 06:00", long_, "mon 09:00") == []
    long_race = replace(base, mode="endurance_long")
    assert _two(long_race, upper_b, "mon 06:00", short, "mon 07:00") == ["S2"]
    assert _two(long_race, upper_b, "mon 07:00", short, "mon 06:00") == []
    assert _two(long_race, upper_b, "mon 06:50", short, "mon 06:00") == []
    assert _two(long_race, upper_b, "mon 09:00", long_, "mon 06:00") == []
    assert _two(long_race, upper_b, "mon 08:59", long_, "mon 06:00") == ["S3"]
    assert (
        _two(long_race, upper, "mon 06:00", replace(short, phase=PhaseName.BASE), "mon 07:00") == []
    )


@settings(max_examples=50)
@given(st.one_of(weeks(sessions=(2, 3), days=(2, 3)), pinned_weeks(sessions=(3, 3), days=(2, 3))))
def test_the_backtracking_oracle_agrees_with_literal_enumeration(week: Week) -> None:
    note(week.describe())
    fast = oracle(week)
    slow, count = literal_oracle(week)
    note(f"{count} assignments enumerated")
    assert (fast.mask, fast.moved) == (slow.mask, slow.moved)


# -- tests: the engine against the checker and the oracle --------------------------------------
@settings(max_examples=150)
@given(weeks())
def test_engine_output_passes_the_independent_checker(week: Week) -> None:
    note(week.describe())
    result = week.run()
    assert violations(week, result) == []
    for p in result.placements:
        prev = week.previous.get(p.session_id)
        status = (
            Status.NEW if prev is None else (Status.KEPT if p.start == prev[0] else Status.MOVED)
        )
        assert p.status is status


@given(weeks())
def test_engine_drops_nothing_when_the_oracle_places_everything(week: Week) -> None:
    note(week.describe())
    best = expected(week)
    result = week.run()
    if best.mask == 0:
        assert result.unplaced == ()


@settings(max_examples=150)
@given(weeks())
def test_engine_drop_set_is_the_oracles_optimum_in_s10_order(week: Week) -> None:
    note(week.describe())
    best = expected(week)
    mask, dropped, _ = engine_outcome(week, week.run())
    event(f"oracle drops {len(best.dropped)} of {len(week.sessions)}")
    assert (mask, dropped) == (best.mask, best.dropped)


@settings(max_examples=150)
@given(weeks())
def test_engine_moves_the_minimum_number_of_sessions(week: Week) -> None:
    note(week.describe())
    best = expected(week)
    result = week.run()
    mask, _, moved = engine_outcome(week, result)
    assert mask == best.mask
    note(f"oracle: {best}; engine moved {moved}")
    event(f"oracle moves {best.moved} of {len(week.previous)} previously placed")
    assert moved == best.moved


# -- tests: stability and determinism ----------------------------------------------------------
def _as_previous(result: PlacementResult) -> dict[str, tuple[datetime, datetime]]:
    return {p.session_id: (p.start, p.end) for p in result.placements}


@given(weeks(), st.data())
def test_busy_time_away_from_every_session_moves_nothing(week: Week, data: st.DataObject) -> None:
    note(week.describe())
    first = week.run()
    spots = [spot_of(week, (p.start, p.end)) for p in first.placements]
    added = []
    for k in range(data.draw(st.integers(1, 4))):
        day = WEEK[data.draw(st.integers(0, 6))]
        start = week.at(day, data.draw(st.integers(300 // 5, 1260 // 5)) * 5)
        end = start + data.draw(st.integers(1, 36)) * 5
        if all(end <= x.start - week.buffer or start >= x.end + week.buffer for x in spots):
            added.append(BusyInterval(instant(start), instant(end), f"new{k}"))
    note(f"added {[(b.start.isoformat(), b.end.isoformat()) for b in added]}")
    again = week.run(busy=week.busy + tuple(added), previous=_as_previous(first))
    assert [(p.session_id, p.start, p.end) for p in again.placements] == [
        (p.session_id, p.start, p.end) for p in first.placements
    ]
    assert {p.status for p in again.placements} <= {Status.KEPT}
    assert {u.id for u in again.unplaced} == {u.id for u in first.unplaced}


@given(weeks(), st.data())
def test_removing_busy_time_moves_nothing(week: Week, data: st.DataObject) -> None:
    note(week.describe())
    first = week.run()
    keep = [b for b in week.busy if data.draw(st.booleans())]
    previous = _as_previous(first)
    again = week.run(busy=tuple(keep), previous=previous)
    before = engine_outcome(replace(week, previous=previous), first)
    after = engine_outcome(replace(week, previous=previous), again)
    assert after[0] <= before[0]  # more room never makes the drop set worse
    if not first.unplaced:
        assert again.unplaced == ()
        assert all(p.status is Status.KEPT for p in again.placements)
        assert [(p.session_id, p.start) for p in again.placements] == [
            (p.session_id, p.start) for p in first.placements
        ]
    # either way the moves are the minimum the oracle finds for the new week
    best = expected(replace(week, busy=tuple(keep), previous=previous))
    assert (after[0], after[2]) == (best.mask, best.moved)


@given(weeks(), st.randoms(use_true_random=False))
def test_same_input_same_output(week: Week, rnd: random.Random) -> None:
    note(week.describe())
    one, two = week.run(), week.run()
    assert one == two
    sessions, busy = list(week.sessions), list(week.busy)
    rnd.shuffle(sessions)
    rnd.shuffle(busy)
    shuffled = week.run(sessions=tuple(sessions), busy=tuple(busy))
    assert shuffled == one


# -- tests: pinned sessions --------------------------------------------------------------------
@settings(max_examples=100)
@given(pinned_weeks())
def test_pinned_sessions_never_move_and_the_rest_is_optimal(week: Week) -> None:
    note(week.describe())
    result = week.run()
    by_id = result.by_id()
    for sid, (start, end) in week.pinned.items():
        assert by_id[sid].start == start and by_id[sid].end == end
        assert by_id[sid].status is Status.PINNED
    assert violations(week, result) == []
    best = expected(week)
    mask, dropped, moved = engine_outcome(week, result)
    assert (mask, dropped, moved) == (best.mask, best.dropped, best.moved)


def _warned(warnings: Sequence[str], ids: Iterable[str], rules: Iterable[str]) -> bool:
    """Some warning names every id in ``ids`` (as ``pinned X`` for the first) and one rule."""
    ids = list(ids)
    return any(
        all(i in w for i in ids)
        and any(f"pinned {i} " in w for i in ids)
        and any(f" {r} " in w or f"({r})" in w for r in rules)
        for w in warnings
    )


@settings(max_examples=100)
@given(pinned_weeks())
def test_a_pin_that_breaks_a_rule_is_warned_about(week: Week) -> None:
    note(week.describe())
    result = week.run()
    by_id = {s.id: s for s in week.sessions}
    placed = {p.session_id: spot_of(week, (p.start, p.end)) for p in result.placements}
    note(repr(result.warnings))
    for sid in week.pinned:
        mine = placed[sid]
        for other, theirs in placed.items():
            broken = pair_rules(week, by_id[sid], mine, by_id[other], theirs)
            if other != sid and broken:
                assert _warned(result.warnings, [sid, other], broken), (sid, other, broken)
        alone = unary_rules(week, by_id[sid], mine)
        overlaps = any(
            minutes(b.start) < mine.end and minutes(b.end) > mine.start for b in week.busy
        )
        if "S8 window" in alone or overlaps:
            assert _warned(result.warnings, [sid], ["S8"]), (sid, alone)


# -- known gaps, each reproduced by hand (strict: they fail today) -----------------------------
BERLIN = ZoneInfo("Europe/Berlin")
EVERY_MORNING = tuple(((360, 480),) for _ in range(7))


def at(day: int, clock: str) -> datetime:
    """Local Europe/Berlin time on day ``day`` (0 = Monday) of the test week."""
    h, m = (int(x) for x in clock.split(":"))
    return datetime.combine(WEEK[day], time(h, m)).replace(tzinfo=BERLIN)


def pin(day: int, clock: str, duration: int) -> tuple[datetime, datetime]:
    return at(day, clock), at(day, clock) + timedelta(minutes=duration)


def _wedged_run() -> tuple[Week, Session, Spot]:
    """Endurance (no race): an upper lift pinned Mon 21:05-22:05, a lower lift pinned Tue
    06:40-07:40, and a 30-min interval run that may only go on Monday 21:00-23:00. S2/S3 (lift
    first, back to back is fine for a run under 55 min) need the run to start at 22:05 or later;
    S4 (8 h from the lower lift) needs it to end by 22:40, so any start in 22:05-22:10 is valid."""
    windows = [(), ((6 * 60, 8 * 60),), (), (), (), (), ()]
    windows[0] = ((21 * 60, 23 * 60),)
    upper = session("upper", Focus.UPPER, 60, WEEK[0])
    lower = session("lower", Focus.LOWER, 60, WEEK[1])
    run = session("intervals", Focus.INTERVALS, 30, WEEK[0])
    week = Week(
        "Europe/Berlin",
        "endurance",
        tuple(windows),
        (),
        15,
        1,
        (upper, lower, run),
        pinned={"upper": pin(0, "21:05", 60), "lower": pin(1, "06:40", 60)},
    )
    return week, run, spot_of(week, pin(0, "22:05", 30))


def test_the_wedged_run_has_a_valid_minute_level_slot() -> None:
    week, run, x = _wedged_run()
    by_id = {s.id: s for s in week.sessions}
    assert unary_rules(week, run, x) == []
    for sid, span in week.pinned.items():
        assert pair_rules(week, run, x, by_id[sid], spot_of(week, span)) == []
    # off the quarter-hour grid, but a pinned neighbour's end: in the candidate set
    assert 22 * 60 + 5 in {
        week.local(t).hour * 60 + week.local(t).minute for t in candidate_starts(week, run)
    }


def test_engine_finds_a_slot_that_exists_only_off_the_grid() -> None:
    week, _, _ = _wedged_run()
    result = week.run()
    assert [u.id for u in result.unplaced] == []


def test_a_pin_inside_the_buffer_of_a_busy_event_is_warned_about() -> None:
    lift = session("upper", Focus.UPPER, 55, WEEK[0])
    busy = (BusyInterval(at(0, "07:00"), at(0, "08:00"), "stand-up"),)
    week = Week(
        "Europe/Berlin",
        "strength",
        EVERY_MORNING,
        busy,
        15,
        1,
        (lift,),
        pinned={"upper": pin(0, "06:00", 55)},
    )
    x = spot_of(week, week.pinned["upper"])
    assert unary_rules(week, lift, x) == ["S8 busy"]  # ends 5 min before the event
    assert _warned(week.run().warnings, ["upper"], ["S8"])


def test_a_pin_after_its_last_allowed_day_is_warned_about() -> None:
    lift = session("lower", Focus.LOWER, 60, WEEK[0], not_after=WEEK[1])
    week = Week(
        "Europe/Berlin",
        "strength",
        EVERY_MORNING,
        (),
        15,
        1,
        (lift,),
        pinned={"lower": pin(3, "06:00", 60)},
    )
    assert unary_rules(week, lift, spot_of(week, week.pinned["lower"])) == ["P4"]
    assert _warned(week.run().warnings, ["lower"], ["P4"])


def test_pins_that_leave_no_rest_day_are_warned_about() -> None:
    runs = tuple(session(f"run{d}", Focus.EASY, 30, WEEK[d]) for d in range(7))
    week = Week(
        "Europe/Berlin",
        "strength",
        EVERY_MORNING,
        (),
        15,
        1,
        runs,
        pinned={f"run{d}": pin(d, "06:00", 30) for d in range(7)},
    )
    assert day_rules(week, [spot_of(week, p) for p in week.pinned.values()]) == ["S6"]
    assert any("S6" in w for w in week.run().warnings)


def test_a_drop_caused_by_the_rest_day_names_s6() -> None:
    runs = tuple(session(f"run{d}", Focus.EASY, 30, WEEK[d]) for d in range(7))
    week = Week(
        "Europe/Berlin",
        "strength",
        EVERY_MORNING,
        (),
        15,
        1,
        runs,
        pinned={f"run{d}": pin(d, "06:00", 30) for d in range(6)},
    )
    result = week.run()
    assert [u.id for u in result.unplaced] == ["run6"]
    assert "S6" in result.unplaced[0].rules


def test_a_hard_run_and_a_lower_lift_never_share_a_day() -> None:
    """liftrun reads S4 at day level too (the planner's "no interval day is a leg day"): the
    lift goes, though 06:00 and 17:00 would be 10 h apart."""
    windows: list[tuple[tuple[int, int], ...]] = [(), (), (), (), (), (), ()]
    windows[3] = ((6 * 60, 8 * 60), (17 * 60, 19 * 60 + 30))
    lift = session("lower", Focus.LOWER, 45, WEEK[3])
    tempo = session("tempo", Focus.TEMPO, 40, WEEK[3])
    week = Week("Europe/Berlin", "endurance", tuple(windows), (), 15, 1, (lift, tempo))
    assert oracle(week).mask != 0
    result = week.run()
    assert violations(week, result) == []
    assert [u.id for u in result.unplaced] == ["lower"]
    assert "S4" in result.unplaced[0].reason


def test_no_third_session_on_a_day_that_already_has_two_pins() -> None:
    windows = tuple(((360, 480), (1020, 1170)) if d in (0, 2) else () for d in range(7))
    upper = session("upper", Focus.UPPER, 45, WEEK[0])
    lower = session("lower", Focus.LOWER, 45, WEEK[0])
    run = session("easy", Focus.EASY, 30, WEEK[0])
    week = Week(
        "Europe/Berlin",
        "endurance",
        windows,
        (),
        15,
        1,
        (upper, lower, run),
        pinned={"upper": pin(0, "06:00", 45), "lower": pin(0, "07:00", 45)},
    )
    best = oracle(week)
    assert (best.mask, best.moved) == (0, 0)  # the run fits on Wednesday
    assert violations(week, week.run(), tolerate_known_bugs=False) == []
