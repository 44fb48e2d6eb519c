"""Find, read and validate the configuration; turn every mistake into one clear line.

Resolution order for the file: ``--config PATH``, else ``$LIFTRUN_CONFIG``, else
``./liftrun.toml``, else the embedded sample (so a fresh machine can run ``liftrun plan``).
Values: environment (``LIFTRUN_<SECTION>__<KEY>``) > secrets directory > file > defaults.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from config.models import Settings, describe

EMBEDDED_SAMPLE = "default.toml"
DEFAULT_SECRETS_DIR = "/run/secrets"


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


def _location(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + item)
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


def format_validation_error(
    exc: ValidationError,
    data: Mapping[str, Any],
    where: str,
    environ: Mapping[str, str],
    secret_keys: set[tuple[int | str, ...]] = frozenset(),  # type: ignore[assignment]
) -> str:
    """One line per problem: ``where: athlete.lift_days = 7: Input should be ...``."""
    lines = []
    for err in exc.errors():
        loc = _without_tags(err["loc"])
        key = _location(loc) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "union_tag_invalid":
            ctx = err.get("ctx", {})
            lines.append(
                f"{where}: {key}.kind = {describe(ctx.get('tag'))}: unknown calendar kind; "
                f"use one of {ctx.get('expected_tags')}"
            )
            continue
        if err["type"] == "extra_forbidden":
            lines.append(f"{where}: unknown key {key}")
            continue
        value = err.get("input")
        found = value is not None and not isinstance(value, Mapping)
        if not found:
            found, value = _value_at(data, loc)
        shown = f" = {describe(value)}" if found and not isinstance(value, Mapping) else ""
        if loc in secret_keys:
            shown = " (value read from a *_file key, not shown)"
            if isinstance(value, str) and value:
                msg = msg.replace(value, "***")
        env_name = "LIFTRUN_" + "__".join(str(p) for p in loc).upper()
        if loc and env_name in environ:
            shown += f" (from {env_name})"
        lines.append(f"{where}: {key}{shown}: {msg}")
    return "\n".join(lines)


def load(
    cli_path: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> LoadedConfig:
    env = os.environ if environ is None else environ
    path = resolve_path(cli_path, env)
    if path is None:
        text = resources.files("config").joinpath("samples", EMBEDDED_SAMPLE).read_text("utf-8")
        where = f"embedded sample {EMBEDDED_SAMPLE}"
        base_dir = Path.cwd()
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {path} cannot be read: {exc}") from None
        where = str(path)
        base_dir = path.resolve().parent
    data = _read_toml(text, where)
    secret_keys = resolve_file_keys(data, where, environ=env)
    secrets_dir = env.get("LIFTRUN_SECRETS_DIR", DEFAULT_SECRETS_DIR)
    secrets = secrets_dir if Path(secrets_dir).is_dir() else None
    try:
        settings = Settings(_secrets_dir=secrets, **data)
    except ValidationError as exc:
        raise ConfigError(
            format_validation_error(exc, data, where, os.environ, secret_keys)
        ) from None
    return LoadedConfig(settings=settings, source=where, base_dir=base_dir)


def read_secret_file(path: str, key: str) -> str:
    """Read a ``*_file`` secret (containers mount these); the value itself is never echoed."""
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{key} = {path}: cannot read secret file ({exc.strerror})") from None


# Keys that are themselves paths liftrun opens (a CA bundle, OAuth files it reads and writes):
# never replaced by the file's contents.
PATH_KEYS = frozenset({"ca_file", "token_file", "client_secrets_file", "service_account_file"})


def resolve_file_keys(
    data: Any,
    where: str,
    prefix: tuple[int | str, ...] = (),
    environ: Mapping[str, str] | None = None,
) -> set[tuple[int | str, ...]]:
    """Replace every ``KEY_file = "/path"`` by ``KEY = <contents of /path>`` and every
    ``KEY_env = "NAME"`` by ``KEY = $NAME``, in place.

    Any key may come from a file (container secrets: ``password_file``) or a named environment
    variable (``password_env``, for keys inside ``[[calendars]]`` that ``LIFTRUN_…`` variables
    cannot reach); the returned locations are the keys whose values came from either, so errors
    never print those values.
    """
    secret: set[tuple[int | str, ...]] = set()
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
                raise ConfigError(f"{where}: {dotted} = {name!r}: that variable is not set")
            data[target] = environ[name]
        secret.add((*prefix, target))
    for key, value in data.items():
        secret |= resolve_file_keys(value, where, (*prefix, key), environ)
    return secret
