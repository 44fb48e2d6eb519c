"""config.environment against pydantic-settings, the library it replaced (issue 14, start-up).

The reference is liftrun's settings class as it was: a ``BaseSettings`` with the schema's keys,
prefix ``LIFTRUN_``, ``__`` nesting, partial nested updates, and the sources in the order
environment, bounded secrets directory, file (``BoundedSecretsSource`` below is the class
``config/models.py`` held). Its merged values are caught on their way into validation, so the
two are compared on exactly what the schema is given; its errors are turned into lines by
the function ``config/loader.py`` had. pydantic-settings is a test dependency for this alone.

Generated inputs: variable names in any case, nested ``__`` keys (known, unknown, ``liftrun_``
spelled, calendar indexes), JSON and plain values, malformed JSON; files whose top-level keys
vary in case; secrets directories with files for any key. The two must agree on the values
(order included: it decides the order of error lines) or on the error's text.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, get_args
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, create_model, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from config.environment import SourceError, merged
from config.files import FileRefused, read_text_file
from config.loader import ConfigError, _source_error, load
from config.models import SECRET_FILE_CAP, Settings

WHERE = "liftrun.toml"


# --- the reference: liftrun's settings sources as they were ------------------------------------


class SecretFileRefused(Exception):
    def __init__(self, key: str, refused: FileRefused) -> None:
        super().__init__(f"{key}: secrets file {refused}")
        self.key = key


class BoundedSecretsSource(SecretsSettingsSource):
    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        found: tuple[Any, str, bool] = (None, field_name, False)
        for field_key, env_name, is_complex in self._extract_field_info(field, field_name):
            found = (None, field_key, is_complex)
            for directory in reversed(self.secrets_paths):
                path = self.find_case_path(directory, env_name, self.case_sensitive)
                if path is None:
                    continue
                try:
                    return read_text_file(path, SECRET_FILE_CAP).strip(), field_key, is_complex
                except FileRefused as exc:
                    raise SecretFileRefused(field_name, exc) from None
        return found


class Merged(Exception):
    """Not an error: the reference's merged values, caught on their way into validation."""

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__("merged")
        self.values = values


class ReferenceBase(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LIFTRUN_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        nested_model_default_partial_update=True,
        allow_inf_nan=False,
    )

    @model_validator(mode="before")
    @classmethod
    def _caught(cls, values: Any) -> Any:
        raise Merged(values)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        secrets = (
            file_secret_settings.secrets_dir
            if isinstance(file_secret_settings, SecretsSettingsSource)
            else None
        )
        bounded = BoundedSecretsSource(
            settings_cls,
            secrets_dir=secrets,
            case_sensitive=settings_cls.model_config.get("case_sensitive"),
            env_prefix=settings_cls.model_config.get("env_prefix"),
        )
        return env_settings, bounded, init_settings


Reference: type[ReferenceBase] = create_model(  # type: ignore[call-overload]
    "Reference",
    __base__=ReferenceBase,
    **{name: (field.annotation, field) for name, field in Settings.model_fields.items()},
)

_SOURCE_FIELD = re.compile(r'field "(\w+)" from source "(\w+)"')


def reference_message(exc: SettingsError) -> str:
    """config/loader.py's ``_settings_error`` as it was."""
    cause = exc.__cause__
    m = _SOURCE_FIELD.search(str(exc))
    field, source = (m.group(1), m.group(2)) if m else ("?", "?")
    if isinstance(cause, SecretFileRefused):
        return f"{WHERE}: {cause}"
    origin = f"LIFTRUN_{field.upper()}" if source == "EnvSettingsSource" else source
    if source == BoundedSecretsSource.__name__:
        origin = f"the secrets file for {field}"
    if isinstance(cause, json.JSONDecodeError):
        reason = f"not valid JSON ({cause.msg} at line {cause.lineno} column {cause.colno})"
    elif isinstance(cause, RecursionError):
        reason = "JSON nested too deeply"
    elif isinstance(cause, ValueError):
        first = str(cause).split(":", 1)[0].splitlines()[0] if str(cause) else "ValueError"
        reason = f"not a valid value ({first})"
    else:
        reason = f"cannot be read ({type(cause).__name__})"
    return f"{WHERE}: {field} from {origin}: {reason}"


def _shape(value: Any) -> Any:
    """Values with their order made visible (dicts compare equal in any order)."""
    if isinstance(value, dict):
        return [(key, _shape(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [_shape(item) for item in value]
    return value


def reference(data: dict[str, Any], environ: dict[str, str], secrets: Path | None) -> Any:
    with mock.patch.dict(os.environ, environ, clear=True):
        try:
            Reference(_secrets_dir=secrets, **data)
        except Merged as caught:
            return ("values", _shape(caught.values))
        except SettingsError as exc:
            return ("error", reference_message(exc))
        except RecursionError:
            return ("raised", "RecursionError")
    raise AssertionError("the reference validated without its values being caught")


def ours(data: dict[str, Any], environ: dict[str, str], secrets: Path | None) -> Any:
    try:
        return ("values", _shape(merged(Settings, data, environ, secrets, SECRET_FILE_CAP)))
    except SourceError as exc:
        return ("error", _source_error(exc, WHERE))
    except RecursionError:
        return ("raised", "RecursionError")


@contextmanager
def secrets_directory(files: dict[str, str] | None) -> Iterator[Path | None]:
    if files is None:
        yield None
        return
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for name, text in files.items():
            (directory / name).write_text(text, encoding="utf-8")
        yield directory


def same(data: dict[str, Any], environ: dict[str, str], files: dict[str, str] | None = None) -> Any:
    with secrets_directory(files) as secrets:
        theirs = reference(data, environ, secrets)
        mine = ours(data, environ, secrets)
    assert mine == theirs
    return mine


# --- generated inputs ---------------------------------------------------------------------------


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in get_args(annotation):
        yield from _models_in(arg)


TOP = [*Settings.model_fields, "unknown"]
SUB = [
    *sorted(
        {
            key
            for field in Settings.model_fields.values()
            for model in _models_in(field.annotation)
            for key in model.model_fields
        }
    ),
    *["liftrun_lift_days", "liftrun_sun", "0", "1", "nope", ""],
]
CASES: list[Callable[[str], str]] = [str.lower, str.upper, str.title, str.swapcase]

cased = st.sampled_from(CASES)
plain = st.sampled_from(
    [
        "2",
        "0",
        "",
        "America/New_York",
        "Asia/Tokyo",
        "07:00-08:00",
        "true",
        "null",
        "ics",
        "https://d/",
        "4.5",
        "[]",
        "{}",
    ]
)
malformed = st.sampled_from(["[{oops", "{", "[1,", '{"a": }', "1" * 5000, "nan"])
scalar = st.one_of(
    st.integers(-3, 30), st.sampled_from(["07:00-08:00", "x", "ics", "Europe/Paris"])
)


def _json_value(keys: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    leaf = st.one_of(scalar, st.lists(scalar, max_size=3), st.none())
    table = st.dictionaries(keys, leaf, max_size=4)
    return st.one_of(
        leaf, table, st.lists(table, max_size=2), st.dictionaries(keys, table, max_size=2)
    )


any_case_key = st.builds(lambda key, case: case(key), st.sampled_from(SUB), cased)
json_text = _json_value(any_case_key).map(json.dumps)
value = st.one_of(plain, json_text, malformed)


@st.composite
def variable_name(draw: st.DrawFn) -> str:
    parts = [draw(cased)(draw(st.sampled_from(TOP)))]
    parts += [draw(cased)(p) for p in draw(st.lists(st.sampled_from(SUB), max_size=3))]
    prefix = draw(cased)("liftrun_")
    return prefix + "__".join(parts)


environments = st.dictionaries(variable_name(), value, max_size=8)

SAMPLE: dict[str, Any] = {
    "timezone": "Europe/Berlin",
    "athlete": {"experience": "intermediate", "lift_days": 3},
    "availability": {"mon": ["06:00-08:00"], "sat": ["07:00-12:00"]},
    "calendars": [{"kind": "ics", "push_to": "feed.ics"}],
}


@st.composite
def files(draw: st.DrawFn) -> dict[str, Any]:
    data = dict(draw(st.sampled_from([SAMPLE, {}])))
    for _ in range(draw(st.integers(0, 4))):
        key = draw(cased)(draw(st.sampled_from(TOP)))
        data[key] = draw(st.one_of(scalar, _json_value(any_case_key)))
    return data


secret_name = st.builds(lambda key, case: case("liftrun_" + key), st.sampled_from(TOP), cased)
secrets_dirs = st.one_of(st.none(), st.dictionaries(secret_name, value, max_size=4))


# --- the comparison ------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files(), environments)
def test_the_environment_merges_as_pydantic_settings_did(
    data: dict[str, Any], environ: dict[str, str]
) -> None:
    same(data, environ)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files(), environments, secrets_dirs)
def test_the_secrets_directory_merges_as_pydantic_settings_did(
    data: dict[str, Any], environ: dict[str, str], secrets: dict[str, str] | None
) -> None:
    same(data, environ, secrets)


@pytest.mark.parametrize(
    ("data", "environ", "secrets"),
    [
        # top-level file keys in any case; the first of two spellings wins
        ({"TimeZone": "Asia/Tokyo"}, {}, None),
        ({"timezone": "A", "TimeZone": "B"}, {}, None),
        ({"TIMEZONE": "A", "timezone": "B"}, {}, None),
        # a section's JSON merged with its __ keys, which win; keys in any case
        (
            SAMPLE,
            {
                "LIFTRUN_ATHLETE": '{"Lift_Days": 2, "RUN_DAYS": 1}',
                "liftrun_athlete__lift_days": "4",
            },
            None,
        ),
        # a list under a __ key is JSON; malformed, it is the section's error
        (SAMPLE, {"LIFTRUN_AVAILABILITY__SUN": '["08:00-10:00"]'}, None),
        (SAMPLE, {"LIFTRUN_AVAILABILITY__SUN": "[oops"}, None),
        (SAMPLE, {"LIFTRUN_CALENDARS": "[{oops"}, None),
        (SAMPLE, {"LIFTRUN_CALENDARS__BUSY_FROM": "[oops"}, None),
        # a key inside a section may be spelled liftrun_<key>: read as that key's JSON, kept
        # under its own name for the model to refuse
        (SAMPLE, {"LIFTRUN_AVAILABILITY__LIFTRUN_SUN": "[oops"}, None),
        (SAMPLE, {"LIFTRUN_AVAILABILITY__LIFTRUN_SUN": '["08:00-10:00"]'}, None),
        (SAMPLE, {"LIFTRUN_CALENDARS": "1" * 5000}, None),
        (SAMPLE, {"LIFTRUN_CALENDARS": "[" * 50_000 + "]" * 50_000}, None),
        # a key under a value is ignored; a value over a table replaces it
        (SAMPLE, {"LIFTRUN_ATHLETE__RUN_DAYS": "2", "LIFTRUN_ATHLETE__RUN_DAYS__X": "3"}, None),
        (SAMPLE, {"LIFTRUN_ATHLETE__X__Y": "2", "LIFTRUN_ATHLETE__X": "3"}, None),
        # the secrets directory: top-level keys, JSON for a section, the environment wins
        (SAMPLE, {}, {"liftrun_timezone": " Asia/Tokyo\n", "LIFTRUN_SYNC": '{"Horizon_Days": 9}'}),
        (SAMPLE, {"LIFTRUN_TIMEZONE": "UTC"}, {"liftrun_timezone": "Asia/Tokyo"}),
        (SAMPLE, {}, {"liftrun_athlete": "{oops", "liftrun_athlete__lift_days": "2"}),
        (SAMPLE, {"LIFTRUN_ATHLETE__LIFT_DAYS": "2"}, {"liftrun_athlete": '["a"]'}),
        (SAMPLE, {"LIFTRUN_GOAL": "null"}, {"liftrun_athlete": "null"}),
    ],
)
def test_the_rules_the_brief_names(
    data: dict[str, Any], environ: dict[str, str], secrets: dict[str, str] | None
) -> None:
    same(data, environ, secrets)


def test_a_secrets_file_that_is_not_text_is_refused_alike(tmp_path: Path) -> None:
    (tmp_path / "liftrun_timezone").write_bytes(b"\xff\xfe")
    theirs = reference(SAMPLE, {}, tmp_path)
    mine = ours(SAMPLE, {}, tmp_path)
    assert mine == theirs
    assert mine == (
        "error",
        f"{WHERE}: timezone: secrets file {tmp_path}/liftrun_timezone: not UTF-8 text",
    )


def test_an_unlistable_secrets_directory_is_refused_alike(tmp_path: Path) -> None:
    tmp_path.chmod(0)
    try:
        if os.access(tmp_path, os.R_OK):
            pytest.skip("running as root: every directory can be listed")
        assert ours(SAMPLE, {}, tmp_path) == reference(SAMPLE, {}, tmp_path)
    finally:
        tmp_path.chmod(0o700)


def test_load_reads_the_environment_and_the_secrets_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "liftrun.toml"
    config.write_text(
        'TimeZone = "Asia/Tokyo"\n[availability]\nmon = ["06:00-08:00"]\n', encoding="utf-8"
    )
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "LIFTRUN_SYNC").write_text('{"horizon_days": 9}', encoding="utf-8")
    monkeypatch.setenv("liftrun_availability__SUN", '["08:00-10:00"]')
    loaded = load(str(config), environ={"LIFTRUN_SECRETS_DIR": str(secrets)})
    assert loaded.settings.timezone == "Asia/Tokyo"
    assert loaded.settings.sync.horizon_days == 9
    assert loaded.settings.availability.sun == ["08:00-10:00"]
    monkeypatch.setenv("LIFTRUN_SYNC", "{oops")
    with pytest.raises(ConfigError, match=r"sync from LIFTRUN_SYNC: not valid JSON \("):
        load(str(config), environ={"LIFTRUN_SECRETS_DIR": str(secrets)})


def test_no_command_imports_pydantic_settings() -> None:
    code = "import config.loader, sys; print('pydantic_settings' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
