"""What the page reads and does, from the state store: the real :class:`web.app.Backend`.

The plan on the page is the one the calendars show: built from the config, the store's
soreness and pauses, at the times the last cycle gave the calendars, with the sessions marked
not doing left out as every calendar leaves them out. A session's own page places its week
again the way a cycle does (the last times kept, the athlete's pins honoured, the busy time the
last clear read saw, ``sync.busy_memory``), to say why the session is where it is. The
athlete's word on each session (done, skipped, not doing) comes from ``sync.actions``; the
calendars' health and the last cycle from the store's journal.

Actions go to ``sync.actions`` and then ask for a cycle (``sync.page_cycle``: the loop is woken,
or the cycle runs here when no loop holds the lock), so every calendar shows them within
seconds. The store is opened per request: SQLite connections are not shared between the
threads Starlette answers on, and opening one costs well under a millisecond.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from planner.constraints import RuleBook
from planner.lift_load import Soreness
from planner.model import Plan, Unplaced
from planner.placement import place_plan
from sync import actions as store_actions
from sync.busy_memory import last_busy
from sync.plan_of_cycle import cycle_plan
from sync.state import StateStore
from web import build
from web.actions_http import ActionName, ActionRefused, ActionRequest
from web.views import Actions, Links, Outcome, Overview, Pause, SessionState, SessionView, WeekView

if TYPE_CHECKING:
    from config.loader import LoadedConfig
    from planner.busy import BusyInterval
    from web.app import SessionUrl

__all__ = ["CycleRequests", "StoreBackend"]


class CycleRequests(Protocol):
    """``sync.page_cycle.PageCycles``: start a cycle soon after an action."""

    def request(self) -> None: ...


class StoreBackend:
    """The page's plan, outcomes and actions, read from and written to one state directory."""

    def __init__(self, loaded: LoadedConfig, cycles: CycleRequests) -> None:
        self.loaded = loaded
        self.settings = loaded.settings
        self.rules = RuleBook.from_settings(self.settings)
        self.cycles = cycles

    @property
    def zone(self) -> ZoneInfo:
        return self.settings.zone

    # -- reading -----------------------------------------------------------------------------
    def overview(
        self, now: datetime, *, actions: Actions, links: Links, session_url: SessionUrl
    ) -> Overview:
        with StateStore(self.loaded.state_dir) as store:
            shown, _ = self._shown(store, now)
            journal = store.cycles(1)
            return build.overview(
                shown,
                now=now,
                outcomes=_outcomes(store),
                health=store.health(),
                last_cycle=journal[0].finished if journal else None,
                pause=self._pause(store, now),
                actions=actions,
                links=links,
                session_url=session_url,
            )

    def week(
        self, monday: date, now: datetime, *, links: Links, session_url: SessionUrl
    ) -> WeekView:
        with StateStore(self.loaded.state_dir) as store:
            shown, busy = self._shown(store, now)
            return build.week(
                shown,
                monday,
                self.rules,
                now=now,
                busy=busy,
                outcomes=_outcomes(store),
                pause=self._pause(store, now),
                links=links,
                session_url=session_url,
            )

    def session(
        self, session_id: str, now: datetime, *, actions: Actions, links: Links
    ) -> SessionView | None:
        with StateStore(self.loaded.state_dir) as store:
            planned = self._planned(store, now)
            placed, busy = self._placed_week(store, planned, session_id, now)
            slots = store_actions.offer_slots(store, self.settings, session_id, now)
            return build.session(
                session_id,
                planned,
                placed,
                now=now,
                busy=busy,
                outcome=_outcomes(store).get(session_id),
                pause=self._pause(store, now),
                slots=[(a.start, a.end) for a in slots],
                actions=actions,
                links=links,
            )

    def _planned(self, store: StateStore, now: datetime) -> Plan:
        """The plan as the config, the athlete's soreness and pauses make it, unplaced."""
        return cycle_plan(self.settings, store, now)

    def _shown(self, store: StateStore, now: datetime) -> tuple[Plan, list[BusyInterval]]:
        """The plan at the times the last cycle gave the calendars (a session beyond the
        horizon keeps its day, without a time yet), what it could not place, and its busy
        time. Read, not placed again: placing a whole plan takes most of a second, and the
        calendars show the cycle's times, not a new guess."""
        planned = self._planned(store, now)
        placed, pins, dropped = store.placements(), store.pins(), store.tombstones()
        sessions = []
        for s in planned.sessions:
            if s.id in dropped:
                continue
            if s.id not in placed:
                sessions.append(s)
                continue
            start, end = placed[s.id]
            sessions.append(
                replace(
                    s,
                    date=start.astimezone(self.zone).date(),
                    start=start,
                    end=end,
                    status="pinned" if s.id in pins else "kept",
                )
            )
        journal = store.cycles(1)
        report = journal[0].report if journal else None
        unplaced = tuple(Unplaced(u.id, u.reason) for u in (report.unplaced if report else ()))
        busy, _ = last_busy(store)
        return replace(planned, sessions=tuple(sessions), unplaced=unplaced), busy

    def _placed_week(
        self, store: StateStore, planned: Plan, session_id: str, now: datetime
    ) -> tuple[Plan, list[BusyInterval]]:
        """The week of ``session_id`` placed as a cycle places it (the last cycle's times
        kept, pins honoured, the freeze, the last clear busy read), so its page can say why
        it is at its time and ``--explain``'s account holds."""
        dropped = store.tombstones()
        me = next((s for s in planned.sessions if s.id == session_id), None)
        week = (
            planned.sessions
            if me is None
            else tuple(
                s
                for s in planned.sessions
                if abs((s.date - me.date).days) <= 7 and s.id not in dropped
            )
        )
        busy, _ = last_busy(store)
        placed = place_plan(
            replace(planned, sessions=week, unplaced=()),
            self.rules,
            busy,
            now=now,
            previous=store.placements(),
            pinned={k: (p.start, p.end) for k, p in store.pins().items() if k not in dropped},
            freeze_until=now + timedelta(hours=self.settings.sync.freeze_hours),
        )
        return placed, busy

    def _pause(self, store: StateStore, now: datetime) -> Pause | None:
        for row in store_actions.active_pauses(store, now, self.zone):
            days = row.effective(self.zone)
            return Pause(days.first, days.last)
        return None

    # -- acting ------------------------------------------------------------------------------
    def act(self, request: ActionRequest, now: datetime) -> None:
        """Record ``request`` and ask for a cycle; a refusal says why in the athlete's words."""
        with StateStore(self.loaded.state_dir) as store:
            try:
                self._record(store, request, now)
            except store_actions.ActionError as exc:
                raise ActionRefused(str(exc)) from exc
        self.cycles.request()

    def _record(self, store: StateStore, request: ActionRequest, now: datetime) -> None:
        sid = request.session_id
        day, title = now.astimezone(self.zone).date(), ""
        if sid is not None:
            planned = self._planned(store, now)
            session = next((s for s in planned.sessions if s.id == sid), None)
            if session is None:
                raise ActionRefused("this session is no longer in the plan")
            day, title = session.date, session.title
        match request.name:
            case ActionName.DONE if sid:
                store_actions.record_done(store, sid, now, request.effort, request.note)
            case ActionName.SKIPPED if sid:
                store_actions.record_skipped(store, sid, now)
            case ActionName.SORE if request.soreness:
                store_actions.set_soreness(store, day, Soreness(request.soreness), now)
            case ActionName.MOVE if sid and request.slot:
                slots = store_actions.offer_slots(store, self.settings, sid, now)
                chosen = next((a for a in slots if a.start == request.slot), None)
                if chosen is None:
                    raise ActionRefused("that time is not free any more; choose another")
                store_actions.move_to(store, sid, (chosen.start, chosen.end), now)
            case ActionName.NOT_DOING if sid:
                store_actions.not_doing(store, sid, now, title)
            case ActionName.RESTORE if sid:
                store_actions.restore(store, sid, now)
            case ActionName.PAUSE if request.start and request.end:
                store_actions.pause(store, request.start, request.end, now)
            case ActionName.END_PAUSE:
                store_actions.end_pause(store, now)
            case _:
                raise ActionRefused("that cannot be done from here")


def _outcomes(store: StateStore) -> Mapping[str, Outcome]:
    said: dict[str, Outcome] = {
        sid: Outcome(SessionState.NOT_DOING, t.at) for sid, t in store.tombstones().items()
    }
    for sid, mark in store_actions.statuses(store).items():
        state = SessionState.DONE if mark.mark is store_actions.Mark.DONE else SessionState.SKIPPED
        said[sid] = Outcome(state, mark.at, mark.effort, mark.note)
    return said
