"""Rule S10's drop order, shared by the day search and the placement engine.

When a week cannot hold every session, the optional easy run goes first, then the accessory
modality (runs when strength comes first, lifts when endurance does), least important first,
and only then the primary modality.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from planner.model import Focus, Kind


def drop_order(sessions: Sequence[tuple[Focus, int, str]], strength_priority: bool) -> list[int]:
    """Indexes of ``(focus, rank, id)`` in the order S10 drops them (rank 0 = most important)."""
    accessory = Kind.RUN if strength_priority else Kind.LIFT

    def key(i: int) -> tuple[int, int, str]:
        focus, rank, ident = sessions[i]
        group = 0 if focus is Focus.OPTIONAL_EASY else (1 if focus.kind is accessory else 2)
        return (group, -rank, ident)

    return sorted(range(len(sessions)), key=key)


def drop_sets(order: list[int]) -> Iterator[frozenset[int]]:
    """Drop sets in S10 order: bit p of a counter drops ``order[p]``, so counting up visits the
    sets by the importance of what they drop (each session outranks all before it together)."""
    for mask in range(1 << len(order)):
        yield frozenset(order[p] for p in range(len(order)) if mask >> p & 1)
