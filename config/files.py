"""Reading a file a person named, without letting the name hang or flood liftrun.

Every path liftrun reads because a person wrote it down (the config, ``*_file`` secrets, busy
``.ics`` files, ``plan --busy``) could be a FIFO that never sends EOF, a device such as
``/dev/zero`` that never ends, or a file far larger than anything sensible. So such paths are
opened without blocking and without following a trailing symlink into a device, checked to be
regular files, and read only up to a cap: anything else is one clear error naming the path.
"""

from __future__ import annotations

import os
import stat

__all__ = ["FileRefused", "read_regular_file", "read_text_file"]


class FileRefused(Exception):
    """The path is not a regular file of acceptable size, or cannot be read; ``str()`` is a
    message for the person that never quotes the file's contents.

    ``path`` and ``reason`` are the two halves of that message, for callers that name the path
    their own way (a config key beside it) without repeating it. Given one argument it is the
    whole message (``reason``; ``path`` empty), as the class was first raised.
    """

    def __init__(self, path: str, reason: str | None = None) -> None:
        super().__init__(path if reason is None else f"{path}: {reason}")
        self.path = "" if reason is None else path
        self.reason = path if reason is None else reason


def read_regular_file(path: str | os.PathLike[str], cap: int) -> bytes:
    """The whole content of ``path``, a regular file of at most ``cap`` bytes.

    Symlinks are followed (secrets mounted by Kubernetes are symlinks), but what they point at
    must be a regular file. ``O_NONBLOCK`` makes opening a FIFO return at once instead of
    waiting for a writer; the ``fstat`` on the opened descriptor (not the name) then refuses it.

    Raises:
        FileRefused: missing, unreadable, not a regular file, or larger than ``cap``.
    """
    shown = _shown(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise FileRefused(shown, _reason(exc)) from None
    except ValueError:  # a NUL in the name: no such file can exist
        raise FileRefused(shown, "a NUL character cannot be in a file name") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(shown, f"not a regular file ({_kind(info.st_mode)})")
        if info.st_size > cap:
            raise FileRefused(shown, f"{info.st_size} bytes, more than {cap}")
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(fd, min(1 << 20, cap + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > cap:  # grew while being read
                raise FileRefused(shown, f"more than {cap} bytes")
        return b"".join(chunks)
    except FileRefused:
        raise
    except OSError as exc:
        raise FileRefused(shown, _reason(exc)) from None
    finally:
        os.close(fd)


def _shown(path: str | os.PathLike[str]) -> str:
    """The path as a message names it: quoted when a control character would break the line."""
    text = os.fspath(path)
    return text if text.isprintable() else repr(text)


def _reason(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower() if exc.errno else str(exc)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a plain file"


def read_text_file(path: str | os.PathLike[str], cap: int) -> str:
    """:func:`read_regular_file` decoded as UTF-8 (a BOM is dropped); binary content is an
    error that says so without showing it."""
    data = read_regular_file(path, cap)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefused(_shown(path), "not UTF-8 text") from None
