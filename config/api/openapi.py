"""OpenAPI post-processing: every operation documents the errors it can really answer.

Views document their own outcomes and the domain errors they raise (402, 403, 404, 409) with
``extend_schema``; this hook adds, in the one error shape (``Error``), what the project's
layers answer for every operation of a kind, so clients and the schema fuzzer
(``tests/reliability/test_schema_fuzz.py``) see the whole contract:

- 400 ``invalid`` / ``parse_error`` / ``invalid_input`` where there is input (query, path or body);
- 401 where authentication is required (no, bad or expired token);
- 404 where the path names an object (unknown, or someone else's: never 403 for those) and
  for a page past the last one of a paginated list;
- 405 for a method the path does not have, 406 for an ``Accept`` it cannot produce;
- 413 ``request_too_large`` where a body is accepted;
- 429 ``throttled`` with ``Retry-After`` (every API operation is throttled);
- 503 ``database_unavailable`` with ``Retry-After`` (the database cannot be reached).
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object", "additionalProperties": True},
            },
            "required": ["code", "message", "details"],
        }
    },
    "required": ["error"],
}
_REF = {"$ref": "#/components/schemas/Error"}
_DESCRIPTIONS = {
    "400": "Invalid input: `error.details` names the fields (also malformed JSON, NUL characters).",
    "401": "Not authenticated: no token, or a bad or expired one.",
    "404": "No such object, or not yours.",
    "405": "Method not allowed on this path.",
    "406": "The `Accept` header asks for a format this operation cannot produce.",
    "413": "`request_too_large`: the body is over the upload limit.",
    "415": "Unsupported request body media type.",
    "429": "`throttled`: too many requests; retry after `Retry-After` seconds.",
    "503": "`database_unavailable`: a dependency is down; retry after `Retry-After` seconds.",
}
_METHODS = ("get", "put", "post", "patch", "delete")


def _error(code: str) -> dict[str, Any]:
    return {"description": _DESCRIPTIONS[code], "content": {"application/json": {"schema": _REF}}}


def _requires_auth(operation: dict[str, Any], default_security: list | None) -> bool:
    security = operation.get("security", default_security)
    return bool(security) and {} not in security


def errors_postprocess(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            wanted = ["405", "406", "429", "503"]
            has_input = bool(operation.get("parameters")) or "requestBody" in operation or "{" in path
            if has_input:
                wanted.append("400")
            if "requestBody" in operation:
                wanted += ["413", "415"]
            if _requires_auth(operation, result.get("security")):
                wanted.append("401")
            params = {p.get("name") for p in operation.get("parameters", []) if p.get("in") == "query"}
            if "{" in path or "page" in params:
                wanted.append("404")  # (a page past the last one is 404 too)
            for code in wanted:
                responses.setdefault(code, _error(code))
            # A stream (text/event-stream) answers errors as one `error` event to clients that ask
            # for the stream (`Accept` or `?format=sse`), JSON otherwise.
            streams = any("text/event-stream" in r.get("content", {}) for r in responses.values())
            for code, response in responses.items():
                # errors documented by a view with a description only: the one error shape
                if code[0] in "45" and "content" not in response:
                    response["content"] = {"application/json": {"schema": _REF}}
                if code[0] in "45" and streams:
                    response["content"] = {**response["content"], "text/event-stream": {"schema": {}}}
    return result
