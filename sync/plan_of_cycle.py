"""The plan a sync cycle works from: the config's default span, the athlete's soreness and
pauses, no fixes suggested.

The cycle, ``liftrun check`` (which reads the window the next cycle reads) and the athlete's page
(which shows the cycle's plan) each need that plan; made in one place, they cannot drift apart,
as check's window once did.
"""

from __future__ import annotations

from datetime import datetime

from config.models import Settings
from planner.model import Plan
from planner.plan import build_plan, default_span
from sync.actions import effective_pauses
from sync.state import StateStore

__all__ = ["cycle_plan"]


def cycle_plan(settings: Settings, store: StateStore, now: datetime) -> Plan:
    zone = settings.zone
    first, weeks = default_span(settings, now.astimezone(zone).date())
    pauses = effective_pauses(store, zone)
    return build_plan(settings, first, weeks, store.soreness(), suggest=False, pauses=pauses)
