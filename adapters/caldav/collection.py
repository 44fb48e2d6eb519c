"""What a CalDAV collection held at the last read: the mirror incremental reads start from.

The mirror is a plain value, kept between cycles by
:mod:`adapters.caldav.mirror` and refreshed by :mod:`adapters.caldav.incremental`; it lives
apart from both so that neither needs the other to name it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from adapters.protocol import saved_instant

__all__ = ["Item", "Mirror", "resource_key"]


def resource_key(url: str) -> str:
    """How a resource is identified in a mirror: its decoded path. Servers spell one href with
    different escaping in different reports; the decoded path is the same every time."""
    return unquote(urlsplit(url).path)


@dataclass(frozen=True)
class Item:
    """One resource in a mirror: its ETag and whatever the owner keeps of it (JSON-able)."""

    etag: str | None
    value: Any


@dataclass(frozen=True)
class Mirror:
    """What a collection held at the last read, and the tokens that tell whether it changed.

    ``window`` is the time range the mirror was filled for (None: every resource); a read of a
    wider range needs a full read, since resources outside it were never fetched.
    """

    url: str
    sync_token: str | None = None
    ctag: str | None = None
    window: tuple[datetime, datetime] | None = None
    items: dict[str, Item] = field(default_factory=dict)
    saved_at: datetime | None = None  # when a busy source kept it: its fallback says so

    def covers(self, window: tuple[datetime, datetime] | None) -> bool:
        if self.window is None:
            return True
        if window is None:
            return False
        return self.window[0] <= window[0] and window[1] <= self.window[1]

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "sync_token": self.sync_token,
            "ctag": self.ctag,
            "window": [w.isoformat() for w in self.window] if self.window else None,
            "items": {k: {"etag": v.etag, "value": v.value} for k, v in self.items.items()},
            "saved_at": self.saved_at.isoformat() if self.saved_at else None,
        }

    @classmethod
    def from_json(cls, data: Any) -> Mirror | None:
        """None for anything that is not a mirror this version wrote: a full read follows."""
        try:
            window = None
            if data.get("window") is not None:
                a, b = data["window"]
                window = (datetime.fromisoformat(a), datetime.fromisoformat(b))
                if window[0].tzinfo is None or window[1].tzinfo is None:
                    return None
            items = {
                str(k): Item(v["etag"] if isinstance(v["etag"], str) else None, v["value"])
                for k, v in data["items"].items()
            }
            url, token, ctag = data["url"], data.get("sync_token"), data.get("ctag")
            if not isinstance(url, str):
                return None
            return cls(
                url=url,
                sync_token=token if isinstance(token, str) else None,
                ctag=ctag if isinstance(ctag, str) else None,
                window=window,
                items=items,
                saved_at=saved_instant(data.get("saved_at")),
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            return None
