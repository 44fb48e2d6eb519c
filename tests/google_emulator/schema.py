"""Request-body validation against the discovery document the client library itself ships.

Google rejects JSON with field names its schema does not know and values of the wrong JSON type;
an emulator that silently accepted them would let a typo in the adapter (``extendedProperty``,
a number where a string belongs) pass tests and fail in production.  Using the packaged discovery
document keeps the emulator's idea of the schema identical to the client's.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from tests.google_emulator.errors import ApiError, Json


@cache
def discovery() -> Json:
    text = (
        resources.files("googleapiclient")
        .joinpath("discovery_cache/documents/calendar.v3.json")
        .read_text(encoding="utf-8")
    )
    loaded: Json = json.loads(text)
    return loaded


def _unknown(name: str) -> ApiError:
    return ApiError(
        400,
        "invalid",
        f"Invalid JSON payload received. Unknown name \"{name}\" at 'resource': Cannot find field.",
    )


def _wrong_type(path: str, value: Any) -> ApiError:
    return ApiError(
        400,
        "invalid",
        f"Invalid value at 'resource.{path}' ({type(value).__name__}), {json.dumps(value)[:60]}",
    )


def _check(value: Any, spec: Json, path: str) -> None:
    if value is None:
        return  # JSON null clears a field; Google accepts it everywhere.
    if "$ref" in spec:
        spec = discovery()["schemas"][spec["$ref"]]
    kind = spec.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            raise _wrong_type(path, value)
        props: Json = spec.get("properties", {})
        extra = spec.get("additionalProperties")
        for key, item in value.items():
            if key in props:
                _check(item, props[key], f"{path}.{key}" if path else key)
            elif extra is not None:
                _check(item, extra, f"{path}[{key}]")
            else:
                raise _unknown(f"{path}.{key}" if path else key)
    elif kind == "array":
        if not isinstance(value, list):
            raise _wrong_type(path, value)
        for index, item in enumerate(value):
            _check(item, spec.get("items", {}), f"{path}[{index}]")
    elif kind == "string":
        # int64 values travel as strings but Google also accepts bare numbers for them.
        if not isinstance(value, str) and not (
            spec.get("format") in ("int64", "uint64") and isinstance(value, int)
        ):
            raise _wrong_type(path, value)
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise _wrong_type(path, value)
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise _wrong_type(path, value)
        if isinstance(value, str) and not value.lstrip("-").isdigit():
            raise _wrong_type(path, value)
    enum = spec.get("enum")
    if enum is not None and value not in enum:
        raise ApiError(400, "invalid", f"Invalid value for: {path}")


def validate(body: Any, schema_name: str) -> Json:
    """Return ``body`` as a dict after checking it against ``schemas[schema_name]``."""
    if not isinstance(body, dict):
        raise ApiError(400, "parseError", "Parse Error")
    _check(body, {"$ref": schema_name}, "")
    return body
