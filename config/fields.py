"""The pieces every part of the configuration schema is built from: the strict base model, the
way a bad value is quoted in a message, and the web address and loopback checks.

Kept apart from :mod:`config.models` so the calendar kinds' own settings
(``adapters/<kind>/settings.py``) build on them without importing the whole schema, which in
turn collects those settings into ``Settings.calendars`` (:mod:`adapters.kinds`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def printable_text(value: Any) -> Any:
    """No key of this schema holds more than one line: a NUL would end a path inside the OS
    and a newline or escape would forge a log line, so each is refused, named by code point
    (the value may be a secret read from a file)."""
    texts = (
        [value]
        if isinstance(value, str)
        else [v for v in value if isinstance(v, str)]
        if isinstance(value, list | tuple)
        else []
    )
    for text in texts:
        if m := _CONTROL.search(text):
            raise ValueError(f"contains a control character (U+{ord(m.group()):04X})")
    return value


class Strict(BaseModel):
    """The base of every config section. ``defer_build``: a section is validated inside
    ``Settings``, whose validator holds its schema, so building one of its own at import is
    start-up time spent for nothing (its own is built on first direct use)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, defer_build=True)

    @field_validator("*", mode="after")
    @classmethod
    def _one_line(cls, value: Any) -> Any:
        return printable_text(value)


def web_address(value: str) -> str:
    """An http(s) address with a host and no ``user:password@``: it is printed (the feed URL)
    and logged, and a credential in it would be printed with it."""
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        raise ValueError(f"{describe(value)} is not an http(s) address") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise ValueError(f"{describe(value)} is not an http(s) address with a host")
    if "@" in parts.netloc:
        raise ValueError("a user or password in this address would be printed with it; drop it")
    return value


def is_loopback(url: str | None) -> bool:
    """True for ``http(s)://localhost``, ``127.0.0.0/8`` and ``::1`` addresses: where an
    unauthenticated emulator may live, never Google."""
    host = urlsplit(url or "").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


MAX_SHOWN = 80  # characters of a bad value quoted in a message; the key says where the rest is
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/?#@\s]*@")


def describe(value: Any) -> str:
    """How a bad value is quoted in an error message: on one line (control characters
    escaped), about ``MAX_SHOWN`` characters at most (a 1 MiB list is not a message), and with
    the ``user:password@`` of any URL in it replaced by ``***@``."""
    return _described(value, 0)


def _described(value: Any, depth: int) -> str:
    if isinstance(value, SecretStr):
        return "'**********'"
    if isinstance(value, str):
        text = _USERINFO.sub(r"\1***@", value)
        if len(text) <= MAX_SHOWN:
            return repr(text)
        return f"{repr(text[:MAX_SHOWN])[:-1]}...' ({len(text)} characters)"
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        # str() of an int over 4300 digits raises; one that long is named, not printed
        return str(value) if value.bit_length() <= 256 else f"a {value.bit_length()}-bit integer"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | tuple | Mapping):
        if depth >= 3:
            return "[...]" if not isinstance(value, Mapping) else "{...}"
        items = value.items() if isinstance(value, Mapping) else enumerate(value)
        parts: list[str] = []
        size = 0
        for key, item in items:
            shown = _described(item, depth + 1)
            if isinstance(value, Mapping):
                shown = f"{_described(str(key), depth + 1)}: {shown}"
            parts.append(shown)
            size += len(shown) + 2
            if size > MAX_SHOWN and len(parts) < len(value):
                parts.append(f"... ({len(value)} items)")
                break
        inner = ", ".join(parts)
        return "{" + inner + "}" if isinstance(value, Mapping) else "[" + inner + "]"
    text = str(value)  # dates, times, enums
    return text if len(text) <= MAX_SHOWN and text.isprintable() else _described(text, depth)
