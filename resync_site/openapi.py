"""Make the OpenAPI document say every answer the API really gives, with the one error body."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

UNSAFE = {"post", "put", "patch", "delete"}
DESCRIPTIONS = {
    400: "The request could not be read (malformed JSON, or the scheduler refused it)",
    401: "Not authenticated: log in or send a valid API token",
    403: "The caller lacks a permission (named in detail)",
    404: "The object in the path does not exist",
    409: "The request conflicts with the current state (e.g. system_busy, job_state)",
    413: "The request body is larger than the limit (payload_too_large)",
    422: "A field is invalid (errors name each field as the client sent it)",
    429: "Too many requests (rate_limited); Retry-After says when to try again",
    502: "The scheduler answered with an error",
    503: "A dependency is unavailable (database, audit trail, scheduler); retry shortly",
    504: "The scheduler did not answer in time",
}


class FieldError(BaseModel):
    field: str = Field(description="the field as the client sent it (e.g. data_final)")
    message: str


class Error(BaseModel):
    """The one error body of every answer that is not a success."""

    detail: str = Field(description="what went wrong, in words an operator understands")
    code: str = Field(description="a stable machine-readable code (forbidden, not_found, rate_limited, ...)")
    errors: list[FieldError] | None = Field(None, description="validation errors, one per field (422)")
    correlation_id: str | None = Field(None, description="the request's X-Request-ID, to find it in the logs")


def _codes(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    params = operation.get("parameters", [])
    body = "requestBody" in operation
    codes: set[int] = set()
    if operation.get("security"):  # an operation without security requirements is public
        codes |= {401, 403, 429, 503}
    if params or body:
        codes.add(422)
    if body:
        codes |= {400, 413}
    if any(p.get("in") == "path" for p in params):
        codes.add(404)
    if method in UNSAFE:
        codes.add(409)
    if path.startswith("/api/tws/"):
        codes |= {400, 502, 503, 504}
    return codes


def declare_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare, on every operation, each error status it can answer, all with the ``Error`` body."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error_schema = Error.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_schema.pop("$defs", {}))
    components["Error"] = error_schema
    reference = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code in sorted(_codes(path, method, operation)):
                responses[code] = {"description": DESCRIPTIONS[code], **reference}
    return schema
