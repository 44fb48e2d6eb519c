"""The values a configuration takes from outside its file: ``LIFTRUN_*`` environment variables
and the secrets directory (one ``liftrun_<key>`` file per key, as containers mount secrets),
merged over the file's values: environment, then secrets directory, then file.

These are pydantic-settings' rules as liftrun configured it until issue 14 (prefix
``LIFTRUN_``, ``__`` between nested keys, names in any case, sections updated key by key),
written out because importing pydantic-settings cost ~60 ms of every command that reads a
config: it brought asyncio, ssl, subprocess, argparse, dotenv and its own command-line parser.
``tests/config/test_environment.py`` holds this module to pydantic-settings on generated
environments, files and secrets directories. The rules:

- A variable matches a key whatever the case of either: ``LIFTRUN_<KEY>`` sets a top-level key,
  ``LIFTRUN_<KEY>__<SUB>__...`` a key inside it.
- A top-level key that holds a structure (a section, ``calendars``) reads its variable as JSON;
  when that is a JSON object, the key's ``__`` variables are merged into it. A ``__`` variable
  whose key holds a list or a table (``availability__sun``) is JSON too, every other value text
  for the model to convert. Keys inside a section are matched to the schema's in any case.
- The secrets directory sets top-level keys only, a file each, read through
  :func:`config.files.read_text_file` (a FIFO or a huge file is refused unread) and stripped;
  a structured key's file is JSON. A structured key set to JSON ``null`` is left unset.
- The file's top-level keys match the schema's in any case (``TimeZone``); the first wins.
- Sources merge table by table; any other value replaces the one beneath it.

The schema has no ``dict``-typed keys and no aliases, so pydantic-settings' rules for those
are not repeated here.
"""

from __future__ import annotations

import json
import types
from collections import deque
from collections.abc import Mapping, Sequence, Set
from dataclasses import is_dataclass
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from config.files import FileRefused, read_text_file

PREFIX = "liftrun_"  # compared with lower-cased names
DELIMITER = "__"
_STRUCTURES = (BaseModel, Mapping, Sequence, Set, tuple, deque)


class SourceError(Exception):
    """A variable or secrets file whose value cannot be taken: the top-level key it sets, where
    it came from, and why (``cause``: a JSON error's position, a refused file, an OSError);
    messages name the kind and position of the fault, never the value."""

    def __init__(self, key: str, origin: str, cause: BaseException) -> None:
        super().__init__(f"{key} from {origin}")
        self.key = key
        self.origin = origin
        self.cause = cause


def merged(
    model: type[BaseModel],
    file_values: Mapping[str, Any],
    environ: Mapping[str, str],
    secrets_dir: Path | None,
    cap: int,
) -> dict[str, Any]:
    """The values to validate ``model`` with: ``environ`` over ``secrets_dir`` over the file.
    Raises :class:`SourceError`; JSON nested past Python's recursion limit raises that
    RecursionError."""
    env = environment_values(model, environ)
    secrets = {} if secrets_dir is None else secrets_values(model, secrets_dir, cap)
    values = deep_update(file_keys(model, file_values), deep_update(secrets, env))
    # pydantic-settings' order of keys, as validation saw it: a key the file spells as the
    # schema does moves after the others
    for name in model.model_fields:
        if name in file_values and name in values:
            values[name] = values.pop(name)
    return values


def deep_update(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """``update`` over ``base``, table by table; neither is changed."""
    out = dict(base)
    for key, value in update.items():
        below = out.get(key)
        if isinstance(below, dict) and isinstance(value, dict):
            out[key] = deep_update(below, value)
        else:
            out[key] = value
    return out


def file_keys(model: type[BaseModel], values: Mapping[str, Any]) -> dict[str, Any]:
    """The file's values with each top-level key spelled as the schema does (the first of
    ``TimeZone`` and ``timezone`` wins, the other is dropped); unknown keys are kept for the
    model to refuse."""
    out: dict[str, Any] = {}
    taken: set[str] = set()
    for name in model.model_fields:
        matches = [key for key in values if key.lower() == name.lower()]
        if matches:
            out[name] = values[matches[0]]
            taken.update(matches)
    out.update((key, value) for key, value in values.items() if key not in taken)
    return out


def environment_values(model: type[BaseModel], environ: Mapping[str, str]) -> dict[str, Any]:
    """What ``LIFTRUN_*`` variables set, by top-level key. Of two names differing only in case,
    the later in ``environ`` counts."""
    variables = {name.lower(): value for name, value in environ.items()}
    values: dict[str, Any] = {}
    for key, field in model.model_fields.items():
        try:
            value = _variable_value(key, field, variables)
        except ValueError as exc:
            raise SourceError(key, f"LIFTRUN_{key.upper()}", exc) from exc
        if value is not None:
            values[key] = _schema_keys(field, value) if isinstance(value, dict) else value
    return values


def _variable_value(key: str, field: FieldInfo, variables: Mapping[str, str]) -> Any:
    raw = variables.get(f"{PREFIX}{key}".lower())
    structured, lenient = _structure(field)
    if not structured:
        return raw
    if raw is None:
        return _nested_variables(key, field, variables) or None
    value: Any = raw
    try:
        value = json.loads(raw)
    except ValueError:
        if not lenient:
            raise
    if isinstance(value, dict):
        return deep_update(value, _nested_variables(key, field, variables))
    return value


def _nested_variables(key: str, field: FieldInfo, variables: Mapping[str, str]) -> dict[str, Any]:
    """``LIFTRUN_<KEY>__A__B=v`` as ``{"a": {"b": v}}``, in the order of ``variables``; a
    variable under a key an earlier one set to a value (not a table) is ignored."""
    prefix = f"{PREFIX}{key}{DELIMITER}".lower()
    result: dict[str, Any] = {}
    for name, text in variables.items():
        if not name.startswith(prefix):
            continue
        *path, last = name[len(prefix) :].split(DELIMITER)
        target: FieldInfo | None = field
        node: Any = result
        for part in path:
            target = _subfield(target, part)
            if isinstance(node, dict):
                node = node.setdefault(part, {})
        target = _subfield(target, last)
        value: Any = text
        if target is not None and text:
            structured, lenient = _structure(target)
            if structured:
                try:
                    value = json.loads(text)
                except ValueError:
                    if not lenient:
                        raise
        if isinstance(node, dict):
            node[last] = value
    return result


def _subfield(field: FieldInfo | None, name: str) -> FieldInfo | None:
    """The schema's key ``name`` inside ``field`` (any case; also as ``liftrun_<name>``),
    looked for through lists, optionals and every member of a union (the first calendar kind
    with such a key), or None."""
    return None if field is None else _field_in(field.annotation, name.lower())


def _field_in(annotation: Any, name: str) -> FieldInfo | None:
    for arg in get_args(annotation):
        found = _field_in(arg.annotation if isinstance(arg, FieldInfo) else arg, name)
        if found is not None:
            return found
    if _is_model(annotation):
        fields: dict[str, FieldInfo] = annotation.model_fields
        for key, sub in fields.items():
            if name in (key.lower(), f"{PREFIX}{key}".lower()):
                return sub
    return None


def _structure(field: FieldInfo) -> tuple[bool, bool]:
    """Whether a key's text is read as JSON, and whether text that is not JSON is then kept
    as it is (a union of a structure and a plain type)."""
    if _is_structure(field.annotation):
        return True, False
    if _is_union(field.annotation) and _union_has_structure(field.annotation):
        return True, True
    return False, False


def _is_structure(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _is_structure(get_args(annotation)[0])
    return (
        _structure_class(annotation)
        or _structure_class(origin)
        or hasattr(origin, "__pydantic_core_schema__")
        or hasattr(origin, "__get_pydantic_core_schema__")
    )


def _structure_class(annotation: Any) -> bool:
    if not isinstance(annotation, type) or issubclass(annotation, str | bytes):
        return False
    return issubclass(annotation, _STRUCTURES) or is_dataclass(annotation)


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def _union_has_structure(annotation: Any) -> bool:
    for arg in get_args(annotation):
        if _is_structure(arg):
            return True
        inner = arg
        while get_origin(inner) is Annotated:
            inner = get_args(inner)[0]
        if _is_union(inner) and _union_has_structure(inner):
            return True
    return False


def _is_model(annotation: Any) -> bool:
    return (
        isinstance(annotation, type)
        and issubclass(annotation, BaseModel)
        and annotation is not BaseModel
    )


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model a key holds, through ``Optional`` and ``Annotated``; None for anything else."""
    if _is_union(annotation):
        args = get_args(annotation)
        if len(args) == 2 and type(None) in args:
            annotation = next(arg for arg in args if arg is not type(None))
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation if _is_model(annotation) else None


def _schema_keys(field: FieldInfo, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` (a section from a variable or a secrets file) with each key spelled as the
    schema does, in nested sections too; of two spellings of one key the later wins, and
    unknown keys are kept for the model to refuse."""
    model = _model_of(field.annotation)
    if model is None:
        return dict(values)
    out: dict[str, Any] = {}
    for name, value in values.items():
        match = next(
            ((key, sub) for key, sub in model.model_fields.items() if key.lower() == name.lower()),
            None,
        )
        if match is None:
            out[name] = value
            continue
        key, sub = match
        nested = _model_of(sub.annotation) is not None and isinstance(value, dict)
        out[key] = _schema_keys(sub, value) if nested else value
    return out


def secrets_values(model: type[BaseModel], directory: Path, cap: int) -> dict[str, Any]:
    """What the secrets directory sets: ``liftrun_<key>`` (any case; the first in the
    directory's order) for each top-level key."""
    values: dict[str, Any] = {}
    entries: list[Path] | None = None
    for key, field in model.model_fields.items():
        origin = f"the secrets file for {key}"
        try:
            if entries is None:
                entries = list(directory.iterdir())
            name = f"{PREFIX}{key}".lower()
            path = next((entry for entry in entries if entry.name.lower() == name), None)
            if path is None:
                continue
            text = read_text_file(path, cap).strip()
        except (FileRefused, OSError) as exc:
            raise SourceError(key, origin, exc) from exc
        value: Any = text
        if _structure(field)[0]:
            try:
                value = json.loads(text)
            except ValueError as exc:
                raise SourceError(key, origin, exc) from exc
        if value is not None:  # a structured key's file holding ``null`` sets nothing
            values[key] = _schema_keys(field, value) if isinstance(value, dict) else value
    return values
