"""DRF serializers derived from typed shapes (``config.shapes``), for the OpenAPI schema.

``serializer_for(Report)`` builds ``ReportSerializer`` with a nested serializer per shape
(``OverviewSerializer``, ...), once per shape, so every schema component is named after its
dataclass and the documented shape cannot drift from the built one.
"""

from __future__ import annotations

import dataclasses
import typing
from datetime import date, datetime
from typing import Any
from uuid import UUID

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.shapes import optional_inner, shape_hints


@extend_schema_field({"type": "string", "format": "uri-reference"})
class MediaURLField(serializers.CharField):
    """A stored file's URL: absolute on a CDN or S3, a path (``/media/...``) with local files."""


_SCALARS: dict[Any, type[serializers.Field]] = {
    bool: serializers.BooleanField,
    int: serializers.IntegerField,
    float: serializers.FloatField,
    str: serializers.CharField,
    datetime: serializers.DateTimeField,
    date: serializers.DateField,
    UUID: serializers.UUIDField,
}
_built: dict[tuple[type, tuple[str, ...], str], type[serializers.Serializer]] = {}


def _field(hint: Any, *, meta: Any = None, nullable: bool = False, many: bool = False) -> serializers.Field:
    meta = meta or {}
    hint, optional = optional_inner(hint)
    kwargs: dict[str, Any] = {}
    if optional or nullable:
        kwargs["allow_null"] = True
    if meta.get("help"):
        kwargs["help_text"] = meta["help"]
    origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        if dataclasses.is_dataclass(item):
            return serializer_for(item)(many=True, **kwargs)
        return serializers.ListField(child=_field(item), **kwargs)
    if origin is dict:
        _, item = typing.get_args(hint) or (str, Any)
        return serializers.DictField(child=_field(item), **kwargs)
    if dataclasses.is_dataclass(hint):
        return serializer_for(hint)(**kwargs)
    if hint is str and meta.get("choices"):
        return serializers.ChoiceField(choices=list(meta["choices"]), **kwargs)
    if hint is str and meta.get("url"):
        return MediaURLField(**kwargs)
    if hint in _SCALARS:
        return _SCALARS[hint](**kwargs)
    return serializers.JSONField(**{"allow_null": True, **kwargs})  # Any: free JSON, null included


def serializer_for(cls: type, *, exclude: tuple[str, ...] = (), name: str = "") -> type[serializers.Serializer]:
    """The serializer describing the shape ``cls`` (without the fields in ``exclude``)."""
    key = (cls, tuple(exclude), name)
    if key not in _built:
        fields = {f.name: f for f in dataclasses.fields(cls)}
        attrs: dict[str, Any] = {
            field_name: _field(hint, meta=fields[field_name].metadata)
            for field_name, hint in shape_hints(cls).items()
            if field_name not in exclude
        }
        # A dataclass without a docstring gets its signature as one: not a description.
        doc = (cls.__doc__ or "").strip()
        attrs["__doc__"] = "" if doc.startswith(cls.__name__ + "(") else doc
        attrs["__module__"] = cls.__module__
        _built[key] = type(f"{name or cls.__name__}Serializer", (serializers.Serializer,), attrs)
    return _built[key]
