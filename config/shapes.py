"""Typed shapes: a payload described once, as frozen dataclasses.

A shape is a tree of dataclasses whose fields are ``bool``, ``int``, ``float``, ``str``,
``datetime``, ``date``, ``UUID``, ``Any`` (free JSON), other shapes, ``list[...]``,
``dict[str, ...]`` and ``X | None``. From that one description:

- ``to_data(shape)`` gives the JSON-ready data the API sends (datetimes and dates in ISO 8601,
  UUIDs as strings, fields in declaration order);
- ``from_data(cls, data)`` reads such data back into the typed shape (e.g. a cached JSON body);
- ``config.api.shapes.serializer_for(cls)`` derives the DRF serializer that documents it in
  the OpenAPI schema.

Field metadata (``described(...)``): ``help`` (the schema's description), ``url`` (a URL
string), ``choices`` (the allowed values of a string).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime
from functools import cache
from typing import Any
from uuid import UUID

NoneType = type(None)


def described(help: str = "", *, url: bool = False, choices: typing.Sequence[Any] | None = None) -> Any:
    """A dataclass field with schema metadata (no default)."""
    return dataclasses.field(metadata={"help": help, "url": url, "choices": choices})


@cache
def shape_hints(cls: type) -> dict[str, Any]:
    """The resolved type of each field of the dataclass ``cls``, in declaration order."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def optional_inner(hint: Any) -> tuple[Any, bool]:
    """``(X, True)`` for ``X | None``; ``(hint, False)`` otherwise. A union of several
    non-None types comes back as ``Any`` (free JSON)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not NoneType]
        nullable = len(args) < len(typing.get_args(hint))
        return (args[0] if len(args) == 1 else Any), nullable
    return hint, False


def to_data(value: Any) -> Any:
    """``value`` (a shape, or anything inside one) as JSON-ready data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [to_data(item) for item in value]
    if isinstance(value, dict):
        return {key: to_data(item) for key, item in value.items()}
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def from_data(hint: Any, data: Any) -> Any:
    """JSON data read back into the type ``hint`` (a shape class, or a field's type)."""
    hint, _ = optional_inner(hint)
    if data is None:
        return None
    origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        return [from_data(item, value) for value in data]
    if origin is dict:
        _, item = typing.get_args(hint) or (str, Any)
        return {key: from_data(item, value) for key, value in data.items()}
    if dataclasses.is_dataclass(hint):
        return hint(**{name: from_data(field_hint, data.get(name)) for name, field_hint in shape_hints(hint).items()})
    if hint is datetime:
        return datetime.fromisoformat(data)
    if hint is date:
        return date.fromisoformat(data)
    if hint is UUID:
        return UUID(str(data))
    return data
