"""The API's JSON parser: malformed input is a 400, never a 500.

DRF's parser lets two things through that reach a 500 later: a deeply nested document makes
``json`` recurse until ``RecursionError`` (not a ``ParseError``), and ``\\u0000`` parses
into strings that PostgreSQL refuses to store (text and jsonb cannot hold NUL), as does a
lone surrogate escape (``\\ud800``: not text, it cannot be encoded). All are refused here,
at the edge, with the field-free ``parse_error`` the exception handler renders.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Our request bodies are a few levels deep; 32 is far beyond any legitimate one.
MAX_JSON_DEPTH = 32


def _check(value: Any, depth: int) -> None:
    if depth > MAX_JSON_DEPTH:
        raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
    if isinstance(value, str):
        if "\x00" in value:
            raise ParseError("JSON strings may not contain the NUL character (\\u0000).")
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:  # a lone UTF-16 surrogate escape (\ud800-\udfff)
                raise ParseError(
                    "JSON strings may not contain a lone surrogate (\\ud800-\\udfff): it is not text."
                ) from exc
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key, depth + 1)
            _check(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check(item, depth + 1)


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.") from exc
        try:
            _check(data, 0)
        except RecursionError as exc:  # pragma: no cover - depth is checked before Python's limit
            raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.") from exc
        return data
