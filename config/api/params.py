"""Strict query parameters: a value that is not what the schema says is a 400 naming it.

Lenient parsing (an unparsable or repeated ``months`` quietly read as its default) answers a
request the client did not make; the API refuses it instead, in the usual error body with a
field-level message (``{"error": {"details": {"months": ["..."]}}}``).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter

from config.errors import ValidationFailed


def _single(query_params: Any, name: str) -> str | None:
    values = query_params.getlist(name)
    if len(values) > 1:
        raise ValidationFailed(f"Give {name} once.", details={name: ["Repeated: give it once."]})
    return values[0] if values else None


def int_query_param(query_params: Any, name: str, *, default: int, minimum: int, maximum: int) -> int:
    """The integer ``name`` of the query string, ``default`` when absent; 400 when it is not an
    integer within ``minimum..maximum`` or given more than once."""
    raw = _single(query_params, name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        message = f"{name} must be an integer."
        raise ValidationFailed(message, details={name: ["A valid integer is required."]}) from None
    if not minimum <= value <= maximum:
        raise ValidationFailed(
            f"{name} must be between {minimum} and {maximum}.",
            details={name: [f"Ensure this value is between {minimum} and {maximum}."]},
        )
    return value


def bool_query_param(query_params: Any, name: str, *, default: bool = False) -> bool:
    """The boolean ``name`` of the query string (``true``/``false``, ``1``/``0``); 400 otherwise."""
    raw = _single(query_params, name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value not in ("true", "false", "1", "0"):
        raise ValidationFailed(f"{name} must be true or false.", details={name: ["Must be true or false."]})
    return value in ("true", "1")


def int_parameter(name: str, *, default: int, minimum: int, maximum: int, description: str) -> OpenApiParameter:
    """The OpenAPI description of an ``int_query_param`` (its bounds and default in the schema)."""
    return OpenApiParameter(
        name,
        {"type": "integer", "minimum": minimum, "maximum": maximum, "default": default},
        description=description,
    )
