"""Find, read and validate the configuration; turn every mistake into one clear line.

Resolution order for the file: ``--config PATH``, else ``$LIFTRUN_CONFIG``, else
``./liftrun.toml``, else the embedded sample (so a fresh machine can run ``liftrun plan``).
Values: environment (``LIFTRUN_<SECTION>__<KEY>``) > secrets directory > file > defaults.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import sys
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from config.environment import SourceError, merged
from config.files import FileRefused, read_text_file
from config.models import SECRET_FILE_CAP, Settings, describe

EMBEDDED_SAMPLE = "default.toml"
DEFAULT_SECRETS_DIR = "/run/secrets"
CONFIG_FILE_CAP = 1 << 20  # a config is a few KiB; a bigger file is a wrong path, not a config


@dataclass(frozen=True)
class Secret:
    """A value that came from a ``*_file``, a ``*_env`` variable or the secrets directory."""

    source: str  # "calendars[1].password_file", "secrets file /run/secrets/liftrun_timezone"
    value: Any


# Secrets by their location in the config; errors at, above or below such a location never show
# the value.
SecretKeys = dict[tuple[int | str, ...], Secret]


class ConfigError(Exception):
    """A user mistake in the configuration: printed as one line, exit code 2, no traceback."""


@dataclass(frozen=True)
class LoadedConfig:
    settings: Settings
    source: str  # where the file came from, for messages ("embedded sample default.toml")
    base_dir: Path  # relative paths in the config (state, feeds) resolve against this

    def resolve(self, path: str) -> Path:
        """A path from the config: absolute as given, else relative to the config file."""
        p = Path(path)
        return p if p.is_absolute() else self.base_dir / p

    @property
    def state_dir(self) -> Path:
        return self.resolve(self.settings.state.path)


def resolve_path(cli_path: str | None, environ: Mapping[str, str]) -> Path | None:
    """The config file to read, or None for the embedded sample."""
    if cli_path:
        return Path(cli_path)
    if environ.get("LIFTRUN_CONFIG"):
        return Path(environ["LIFTRUN_CONFIG"])
    local = Path("liftrun.toml")
    return local if local.exists() else None


def _read_toml(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    except ValueError:  # an integer over Python's limit for converting digits
        raise ConfigError(
            f"{where}: not valid TOML: a number of more than {sys.get_int_max_str_digits()} digits"
        ) from None
    except (RecursionError, MemoryError):
        raise ConfigError(f"{where}: not valid TOML: nested too deeply") from None


def _first_line(exc: BaseException) -> str:
    return str(exc).split(":", 1)[0].splitlines()[0] if str(exc) else type(exc).__name__


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]{1,80}")


def _location(loc: tuple[int | str, ...]) -> str:
    """A key path as TOML readers write it; a key that is not a plain word (a quoted TOML key
    may hold anything, 100 KB or a newline) is quoted, escaped and shortened."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            name = item if _BARE_KEY.fullmatch(item) else describe(item)
            parts.append(("." if parts else "") + name)
    return "".join(parts)


def _without_tags(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """The key path as the user wrote it: pydantic inserts validator names and the tag of a
    tagged union (``calendars.0.vdir.push_to``), which are not keys in the file."""
    out: list[int | str] = []
    for i, p in enumerate(loc):
        if isinstance(p, str) and p.startswith("function-"):
            continue
        if (
            isinstance(p, str)
            and i >= 2
            and loc[i - 2] == "calendars"
            and isinstance(loc[i - 1], int)
        ):
            continue
        out.append(p)
    return tuple(out)


def _value_at(data: Mapping[str, Any], loc: tuple[int | str, ...]) -> tuple[bool, Any]:
    current: Any = data
    for item in loc:
        in_map = isinstance(current, Mapping) and item in current
        in_list = isinstance(current, list) and isinstance(item, int) and item < len(current)
        if in_map or in_list:
            current = current[item]
        else:
            return False, None
    return True, current


# Keys whose values are secrets wherever they come from (a password typed into the TOML, or a
# calendars list in $LIFTRUN_CALENDARS): never shown, like a value read from a *_file.
_SECRET_NAME = re.compile(r"password|secret|token", re.IGNORECASE)

# For a secret, pydantic's own words where they cannot hold the value, else these.
_SECRET_SAFE_MESSAGES = {
    "string_type": "Input should be a valid string",
    "int_type": "Input should be a valid integer",
    "int_parsing": "Input should be a valid integer",
    "float_type": "Input should be a valid number",
    "float_parsing": "Input should be a valid number",
    "bool_type": "Input should be a valid boolean",
    "bool_parsing": "Input should be a valid boolean",
    "finite_number": "Input should be a finite number",
    "list_type": "Input should be a valid list",
    "dict_type": "Input should be a valid dictionary",
}


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif hasattr(value, "get_secret_value"):
        yield from _strings(value.get_secret_value(), depth)
    elif isinstance(value, Mapping) and depth < 8:
        for item in value.values():
            yield from _strings(item, depth + 1)
    elif isinstance(value, list | tuple) and depth < 8:
        for item in value:
            yield from _strings(item, depth + 1)
    elif value is not None and not isinstance(value, Mapping | list | tuple):
        yield str(value) if not isinstance(value, int) or value.bit_length() < 1000 else ""


def _forms(secret: str) -> set[str]:
    """Every way a message could quote ``secret`` or one of its lines: as is, ``repr``- or
    JSON-escaped (``a\\nb``), or as ``describe`` shows it."""
    forms: set[str] = set()
    for line in {secret, *secret.splitlines()}:
        text = line.strip()
        if text:
            forms |= {
                text,
                repr(text)[1:-1],
                json.dumps(text)[1:-1],
                text.encode("unicode_escape").decode("ascii"),
            }
    return forms


_RUN = 8  # characters in common with a secret that make a message a leak
_TOO_SHORT = 4  # a line of a secret shorter than this is in every message; not looked for


def _leaks(message: str, secrets: list[str]) -> bool:
    """Whether ``message`` shares a run of ``_RUN`` characters with a secret or one of its
    lines (or holds all of a shorter one), in any of their quoted forms: a message that does is
    not printed. Catches what exact replacement cannot: a value cut short, or escaped."""
    for secret in secrets:
        for form in _forms(secret):
            if len(form) < _TOO_SHORT:
                continue
            if len(form) <= _RUN:
                if form in message:
                    return True
            elif any(message[i : i + _RUN] in form for i in range(len(message) - _RUN + 1)):
                return True
    return False


def _secret_message(err: ErrorDetails, secrets: list[str]) -> str:
    """The message for an error touching a secret: pydantic's or the validator's words with
    every quoted form of the secret taken out, or, when any trace of it remains, words chosen
    from the error type alone."""
    msg = err["msg"].removeprefix("Value error, ")
    for secret in sorted(secrets, key=len, reverse=True):
        for form in (describe(secret), repr(secret), secret):
            if form:
                msg = msg.replace(form, "the value")
    if not _leaks(msg, secrets):
        return msg
    if err["type"] in _SECRET_SAFE_MESSAGES:
        return _SECRET_SAFE_MESSAGES[err["type"]]
    return f"not a valid value ({err['type']}; the reason would quote the value)"


def format_validation_error(
    exc: ValidationError,
    data: Mapping[str, Any],
    where: str,
    environ: Mapping[str, str],
    secret_keys: SecretKeys | None = None,
) -> str:
    """One line per problem: ``where: athlete.lift_days = 7: Input should be ...``.

    A value read from a ``*_file``, a ``*_env`` variable or the secrets directory, and any
    password, is never printed: not after the key, and not inside the message (pydantic's
    messages and our validators quote the input).
    """
    secret_keys = secret_keys or {}
    lines = []
    for err in exc.errors():
        loc = _without_tags(err["loc"])
        key = _location(loc) or "(top level)"
        value = err.get("input")
        found = value is not None and not isinstance(value, Mapping)
        if not found:
            found, value = _value_at(data, loc)
        if err["type"] == "missing":
            found = False  # the input is the enclosing value, not this key's
        # the value is a secret (at or inside one), or holds one, or a model-level check may
        # quote one (goal's check names goal.race_date)
        outer = [s for at, s in secret_keys.items() if loc[: len(at)] == at]
        inner = [s for at, s in secret_keys.items() if at[: len(loc)] == loc and at != loc]
        is_secret = bool(outer) or any(
            isinstance(p, str) and p not in PATH_KEYS and _SECRET_NAME.search(p) for p in loc
        )
        secrets = [text for s in outer + inner for text in _strings(s.value)]
        if is_secret:
            secrets += _strings(value)
        if err["type"] == "union_tag_invalid":
            ctx = err.get("ctx", {})
            kind = secret_keys.get((*loc, "kind"))
            tag = (
                f" (value read from {kind.source}, not shown)"
                if kind
                else f" = {describe(ctx.get('tag'))}"
            )
            lines.append(
                f"{where}: {key}.kind{tag}: unknown calendar kind; "
                f"use one of {ctx.get('expected_tags')}"
            )
            continue
        if err["type"] == "extra_forbidden":
            lines.append(f"{where}: unknown key {key}")
            continue
        msg = err["msg"].removeprefix("Value error, ")
        shown = f" = {describe(value)}" if found and not isinstance(value, Mapping) else ""
        if shown:  # a validator's own quote of the value, right after the key's: said once
            for lead in (f"{describe(value)}: ", f"{describe(value)} "):
                msg = msg.removeprefix(lead)
        if is_secret:
            sources = ", ".join(sorted({s.source for s in outer}))
            shown = f" (value read from {sources}, not shown)" if sources else " (not shown)"
        elif inner:
            shown = ""
        if secrets:
            safe = _secret_message(err, secrets)
            if safe != msg and not is_secret:
                sources = ", ".join(sorted({s.source for s in inner}))
                shown = f" (with values read from {sources}, not shown)"
            msg = safe
        env_name = "LIFTRUN_" + "__".join(str(p) for p in loc).upper()
        if loc and env_name in environ:
            shown += f" (from {env_name})"
        lines.append(f"{where}: {key}{shown}: {msg}")
    return "\n".join(lines)


def load(
    cli_path: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> LoadedConfig:
    """The settings, or a :class:`ConfigError` whose lines each name one problem: whatever the
    file, the ``*_file`` secrets, the secrets directory or ``LIFTRUN_*`` hold, nothing else
    escapes (no traceback, no secret)."""
    env = os.environ if environ is None else environ
    path = resolve_path(cli_path, env)
    if path is None:
        text = resources.files("config").joinpath("samples", EMBEDDED_SAMPLE).read_text("utf-8")
        where = f"embedded sample {EMBEDDED_SAMPLE}"
        base_dir = Path.cwd()
    else:
        if not os.path.lexists(path):
            raise ConfigError(f"config file {_shown_path(str(path))} does not exist")
        try:
            text = read_text_file(path, CONFIG_FILE_CAP)
        except FileRefused as exc:
            raise ConfigError(
                f"config file {_shown_path(str(path))} cannot be read: {exc.reason}"
            ) from None
        where = _shown_path(str(path))
        base_dir = path.resolve().parent
    data = _read_toml(text, where)
    for key in data:
        if key.startswith("_"):  # never a key of ours (they were pydantic-settings' arguments)
            raise ConfigError(f"{where}: unknown key {_location((key,))}")
    try:
        secret_keys = resolve_file_keys(data, where, environ=env)
    except RecursionError:
        raise ConfigError(f"{where}: not valid TOML: nested too deeply") from None
    secrets_dir = Path(env.get("LIFTRUN_SECRETS_DIR", DEFAULT_SECRETS_DIR))
    secrets = secrets_dir if secrets_dir.is_dir() else None
    if secrets is not None:
        secret_keys |= _secrets_dir_keys(secrets)
    try:
        # LIFTRUN_* values come from the process's environment (``environ`` only names files)
        values = merged(Settings, data, os.environ, secrets, SECRET_FILE_CAP)
        settings = Settings.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(
            format_validation_error(exc, data, where, os.environ, secret_keys)
        ) from None
    except SourceError as exc:
        raise ConfigError(_source_error(exc, where)) from None
    except (RecursionError, MemoryError):
        raise ConfigError(
            f"{where}: a value nested too deeply (in the file, a LIFTRUN_* variable or a "
            "secrets file)"
        ) from None
    return LoadedConfig(settings=settings, source=where, base_dir=base_dir)


def _shown_path(path: str) -> str:
    """A path as a message shows it: as typed, unless it is not one printable line."""
    return path if path.isprintable() and len(path) <= 4096 else describe(path)


def _source_error(exc: SourceError, where: str) -> str:
    """A ``LIFTRUN_*`` variable or a secrets file that cannot be read or decoded, as one line
    naming it, never its value."""
    cause = exc.cause
    if isinstance(cause, FileRefused):
        return f"{where}: {exc.key}: secrets file {cause}"
    if isinstance(cause, json.JSONDecodeError):
        reason = f"not valid JSON ({cause.msg} at line {cause.lineno} column {cause.colno})"
    elif isinstance(cause, ValueError):  # an integer of more digits than Python converts
        reason = f"not a valid value ({_first_line(cause)})"
    else:
        reason = f"cannot be read ({type(cause).__name__})"
    return f"{where}: {exc.key} from {exc.origin}: {reason}"


def _secrets_dir_keys(directory: Path) -> SecretKeys:
    """The top-level keys the secrets directory sets (``liftrun_timezone`` -> timezone), with
    their text for scrubbing messages; a file that cannot be read is left for the settings
    source to refuse, with its own message."""
    found: SecretKeys = {}
    try:
        entries = list(itertools.islice(directory.iterdir(), 10_000))
    except OSError:
        return found
    for entry in entries:
        name = entry.name.lower()
        field = name.removeprefix("liftrun_")
        if name.startswith("liftrun_") and field in Settings.model_fields:
            try:
                value: Any = read_text_file(entry, SECRET_FILE_CAP).strip()
            except FileRefused:
                value = None
            found[(field,)] = Secret(f"secrets file {_shown_path(str(entry))}", value)
    return found


def read_secret_file(path: str, key: str) -> str:
    """Read a ``*_file`` secret (containers mount these) through
    :func:`config.files.read_text_file`, so a FIFO, a device, a binary or a huge file is one
    line naming the key and the path; the value itself is never echoed."""
    try:
        return read_text_file(path, SECRET_FILE_CAP).strip()
    except FileRefused as exc:
        raise ConfigError(
            f"{key} = {_shown_path(path)}: cannot read secret file ({exc.reason})"
        ) from None


_KEY_NAME = re.compile(r"[a-z][a-z0-9_]*")

# Keys that are themselves paths liftrun opens (a CA bundle, OAuth files it reads and writes):
# never replaced by the file's contents.
PATH_KEYS = frozenset({"ca_file", "token_file", "client_secrets_file", "service_account_file"})


def resolve_file_keys(
    data: Any,
    where: str,
    prefix: tuple[int | str, ...] = (),
    environ: Mapping[str, str] | None = None,
) -> SecretKeys:
    """Replace every ``KEY_file = "/path"`` by ``KEY = <contents of /path>`` and every
    ``KEY_env = "NAME"`` by ``KEY = $NAME``, in place.

    Any key may come from a file (container secrets: ``password_file``) or a named environment
    variable (``password_env``, for keys inside ``[[calendars]]`` that ``LIFTRUN_…`` variables
    cannot reach); the returned locations are the keys whose values came from either, so errors
    never print those values.
    """
    secret: SecretKeys = {}
    if isinstance(data, list):
        for index, item in enumerate(data):
            secret |= resolve_file_keys(item, where, (*prefix, index), environ)
        return secret
    if not isinstance(data, dict):
        return secret
    for key in [
        k
        for k in data
        if isinstance(k, str) and k.endswith(("_file", "_env")) and k not in PATH_KEYS
    ]:
        suffix = "_file" if key.endswith("_file") else "_env"
        target = key.removesuffix(suffix)
        if not _KEY_NAME.fullmatch(target):
            continue  # "_env_file", "x-y_file": no key of ours; left for "unknown key"
        dotted = _location((*prefix, key))
        if target in data:
            raise ConfigError(f"{where}: give {_location((*prefix, target))} or {dotted}, not both")
        if not isinstance(data[key], str):
            what = "a file path" if suffix == "_file" else "an environment variable name"
            raise ConfigError(f"{where}: {dotted} must be {what}")
        if suffix == "_file":
            data[target] = read_secret_file(data.pop(key), f"{where}: {dotted}")
        else:
            name = data.pop(key)
            if environ is None or name not in environ:
                raise ConfigError(f"{where}: {dotted} = {describe(name)}: that variable is not set")
            if len(environ[name]) > SECRET_FILE_CAP:
                raise ConfigError(
                    f"{where}: {dotted} = {describe(name)}: that variable holds more than "
                    f"{SECRET_FILE_CAP} characters"
                )
            data[target] = environ[name]
        secret[(*prefix, target)] = Secret(dotted, data[target])
    for key, value in data.items():
        secret |= resolve_file_keys(value, where, (*prefix, key), environ)
    return secret
