"""What adapters keep between runs in the state directory: one format for every kind's cache.

The process starts afresh every cycle under cron, so the ICS source's last good copy, the
parsed busy time, the CalDAV mirrors and the Google caches are files. They are all written and
read here, so every one of them gets the same guarantees:

- An entry is addressed by a :class:`Namespace` (what it holds, with the version of that
  content) and a key (what it is about: a location, a calendar). The file name is a hash of the
  two, so a secret address used as a key never appears in the state directory.
- One file per entry: a one-line JSON header (this format's version, the namespace, its version,
  the payload's type and SHA-256) then the payload, a JSON value or raw bytes. Written with
  :func:`adapters.atomic.atomic_write` (mode 0600) into a 0700 directory made on the first write.
- Anything that is not an intact entry of this namespace and version (missing, unreadable,
  truncated, hand-edited, written by an older liftrun, a link or a FIFO planted there) reads as a
  miss, never as an error: a cache only saves work, so losing it costs one full read.
- ``persist=False`` (``sync --dry-run``) reads as usual but writes and creates nothing, so a dry
  run leaves every byte of the state directory as it was.

Before this module each kind kept its own files; an upgrade reads none of them (one full read
each) and the first write into a directory removes them (:data:`_LEGACY`), so busy titles and
calendar copies of the old format do not linger in the state directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from adapters.atomic import atomic_write

__all__ = ["FORMAT", "Cache", "Namespace"]

FORMAT = 1  # of the envelope; a namespace's own content has its own version
SUFFIX = ".cache"
_NAME = re.compile(r"[a-z][a-z0-9-]{0,39}")
_HEADER_LIMIT = 4096  # bytes; a header is ~200, so a longer first line is not an entry
_Payload = Literal["json", "bytes"]
# The file names of the caches kept before this module: the ICS source's body, validators and
# parsed busy time (SHA-256 of the location), the CalDAV mirrors and the Google caches.
_LEGACY = re.compile(
    r"[0-9a-f]{64}\.(?:ics|json|parsed)"
    r"|(?:caldav-target|caldav-source|google-target|google-busy)-[0-9a-f]{20}\.json"
)


@dataclass(frozen=True)
class Namespace:
    """What a set of entries holds. Raise ``version`` when the shape of the content changes:
    entries of another version are then misses, read again once and rewritten."""

    name: str
    version: int = 1

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"cache namespace {self.name!r}: lower-case letters, digits, '-'")


Key = str | tuple[str, ...]


class Cache:
    """The entries under ``directory`` (one per kind of calendar in the state directory).

    Reads never raise. Writes raise ``OSError`` when the file cannot be written, for the caller
    to say so in its own words (a last good copy that cannot be kept is worth a warning; a
    parsed-busy entry is not); with ``persist=False`` they do nothing.
    """

    def __init__(self, directory: Path, *, persist: bool = True) -> None:
        self.directory = Path(directory)
        self.persist = persist
        self._swept = False

    def __repr__(self) -> str:
        return f"Cache({str(self.directory)!r}, persist={self.persist})"

    def path(self, namespace: Namespace, key: Key) -> Path:
        """The entry's file. The key is hashed with the namespace: equal keys of two namespaces
        are two files, and the name gives nothing of the key away."""
        parts = (key,) if isinstance(key, str) else key
        text = "\x1f".join((namespace.name, *parts))
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return self.directory / f"{namespace.name}-{digest}{SUFFIX}"

    def get_json(self, namespace: Namespace, key: Key) -> Any | None:
        """The JSON value kept for ``key``, or None (a miss)."""
        payload = self._read(namespace, key, "json")
        if payload is None:
            return None
        try:
            return json.loads(payload)
        except ValueError:
            return None

    def put_json(self, namespace: Namespace, key: Key, value: Any) -> None:
        """Keep ``value`` (anything ``json.dumps`` takes) for ``key``, replacing what was kept."""
        payload = json.dumps(value, separators=(",", ":")).encode("ascii")
        self._write(namespace, key, "json", payload)

    def get_bytes(self, namespace: Namespace, key: Key) -> bytes | None:
        """The bytes kept for ``key``, or None (a miss)."""
        return self._read(namespace, key, "bytes")

    def put_bytes(self, namespace: Namespace, key: Key, data: bytes) -> None:
        """Keep ``data`` for ``key``, replacing what was kept."""
        self._write(namespace, key, "bytes", bytes(data))

    def _write(self, namespace: Namespace, key: Key, kind: _Payload, payload: bytes) -> None:
        if not self.persist:
            return
        header = _header(namespace, kind, payload)
        line = json.dumps(header, separators=(",", ":")).encode("ascii") + b"\n"
        atomic_write(self.path(namespace, key), line + payload)
        if not self._swept:
            self._swept = True
            _remove_legacy(self.directory)

    def _read(self, namespace: Namespace, key: Key, kind: _Payload) -> bytes | None:
        raw = _read_regular(self.path(namespace, key))
        if raw is None:
            return None
        line, newline, payload = raw.partition(b"\n")
        if not newline or len(line) > _HEADER_LIMIT:
            return None
        try:
            header = json.loads(line)
        except ValueError:
            return None
        return payload if header == _header(namespace, kind, payload) else None


def _header(namespace: Namespace, kind: _Payload, payload: bytes) -> dict[str, object]:
    """The first line of an entry: written as it is, and an entry whose line differs in any
    field (another format, namespace, version or type, a payload that changed) is a miss."""
    return {
        "liftrun-cache": FORMAT,
        "namespace": namespace.name,
        "version": namespace.version,
        "type": kind,
        "sha256": hashlib.sha256(payload).hexdigest(),
    }


def _remove_legacy(directory: Path) -> None:
    """Remove the files of the caches kept before this module; what cannot be removed stays,
    harmless (nothing reads it)."""
    try:
        paths = list(directory.iterdir())
    except OSError:
        return
    for path in paths:
        if _LEGACY.fullmatch(path.name):
            with contextlib.suppress(OSError):  # a directory of that name, a race: left alone
                path.unlink()


def _read_regular(path: Path) -> bytes | None:
    """The file's bytes if it is a regular file there (a symlink or a FIFO is not read)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        with os.fdopen(os.open(path, flags), "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return None
            return fh.read()
    except (OSError, ValueError):  # ValueError: a NUL in the name, which no file can have
        return None
