"""Every exception the SDK raises.

OGRecordsError
 ├── APIError                    anything that went wrong talking to the API
 │    ├── APIStatusError         the API answered with an error status (a problem document)
 │    │    ├── BadRequestError           400, 413, 415 and other 4xx without a family below
 │    │    ├── AuthenticationError       401
 │    │    ├── PermissionDeniedError     403
 │    │    ├── NotFoundError             404
 │    │    ├── ConflictError             409
 │    │    ├── UnprocessableEntityError  422 (validation: see `errors`)
 │    │    ├── RateLimitError            429
 │    │    └── InternalServerError       5xx
 │    ├── APIConnectionError     no answer: DNS, refused connection, reset
 │    │    └── APITimeoutError   no answer in time
 │    └── APIResponseValidationError  an answer the SDK cannot read as the spec says
 └── WebhookVerificationError    a webhook whose signature, timestamp or body is not acceptable

The class per status is codegen/surface.yaml's (the TypeScript SDK throws the same names). `ValidationError` and
`ServerError` are the 0.1 names of `UnprocessableEntityError` and `InternalServerError`; they still work.
"""

import json
from dataclasses import dataclass
from typing import Any

import httpx

from og_records._generated.surface import ERROR_NAMES, FALLBACK_CLIENT_ERROR, FALLBACK_SERVER_ERROR

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "FieldError",
    "InternalServerError",
    "NotFoundError",
    "OGRecordsError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "UnprocessableEntityError",
    "ValidationError",
    "WebhookVerificationError",
]


class OGRecordsError(Exception):
    """Base class of every exception raised by og_records."""


class APIError(OGRecordsError):
    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request


@dataclass(frozen=True)
class FieldError:
    """One failing field of a validation error: `pointer` is a JSON pointer into the body, or a parameter name."""

    code: str
    pointer: str
    detail: str


class APIStatusError(APIError):
    """The API answered an error status with a problem document (RFC 9457)."""

    def __init__(self, response: httpx.Response, problem: dict[str, Any]) -> None:
        self.response = response
        self.status: int = response.status_code
        self.problem = problem
        self.code: str | None = _str_or_none(problem.get("code"))
        self.detail: str | None = _str_or_none(problem.get("detail")) or _str_or_none(problem.get("title"))
        self.request_id: str | None = _str_or_none(problem.get("request_id")) or response.headers.get("x-request-id")
        self.errors: list[FieldError] = [
            FieldError(str(item.get("code", "")), str(item.get("pointer", "")), str(item.get("detail", "")))
            for item in problem.get("errors") or []
            if isinstance(item, dict)
        ]
        summary = f"{self.status} {self.code or 'error'}: {self.detail or response.reason_phrase}"
        if self.errors:
            summary += " (" + "; ".join(f"{e.pointer}: {e.detail}" for e in self.errors) + ")"
        if self.request_id:
            summary += f" [request {self.request_id}]"
        super().__init__(summary, request=response.request)


class BadRequestError(APIStatusError):
    pass


class AuthenticationError(APIStatusError):
    pass


class PermissionDeniedError(APIStatusError):
    pass


class NotFoundError(APIStatusError):
    pass


class ConflictError(APIStatusError):
    @property
    def current_state(self) -> str | None:
        """For `invalid_state`: the status the resource is in, which does not allow the request (e.g. `submitted`)."""
        return _str_or_none(self.problem.get("current_state"))


class UnprocessableEntityError(APIStatusError):
    """422 `validation_failed`: `errors` lists every failing field."""


class RateLimitError(APIStatusError):
    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked to wait (`Retry-After`), if it said."""
        from og_records._retry import retry_after_seconds  # noqa: PLC0415 (avoids an import cycle)

        return retry_after_seconds(self.response.headers)


class InternalServerError(APIStatusError):
    pass


# The 0.1 names (deprecated, same classes): `except ValidationError` keeps catching 422s.
ValidationError = UnprocessableEntityError
ServerError = InternalServerError


class APIConnectionError(APIError):
    def __init__(self, message: str = "Could not reach the OG Records API.", *, request: httpx.Request) -> None:
        super().__init__(message, request=request)


class APITimeoutError(APIConnectionError):
    def __init__(self, *, request: httpx.Request) -> None:
        super().__init__("The OG Records API did not answer in time.", request=request)


class APIResponseValidationError(APIError):
    def __init__(self, response: httpx.Response, message: str) -> None:
        super().__init__(message, request=response.request)
        self.response = response
        self.status = response.status_code


class WebhookVerificationError(OGRecordsError):
    """The webhook must not be trusted: missing headers, a stale timestamp or no matching signature."""


def _class_named(name: str) -> type[APIStatusError]:
    found = globals()[name]
    if not (isinstance(found, type) and issubclass(found, APIStatusError)):
        raise TypeError(f"codegen/surface.yaml names {name}, which is not an APIStatusError")
    return found


# From codegen/surface.yaml, so both SDKs raise the same class for a status.
_BY_STATUS: dict[int, type[APIStatusError]] = {status: _class_named(name) for status, name in ERROR_NAMES.items()}
_CLIENT_FALLBACK = _class_named(FALLBACK_CLIENT_ERROR)
_SERVER_FALLBACK = _class_named(FALLBACK_SERVER_ERROR)


def error_for(response: httpx.Response) -> APIStatusError:
    """The exception for an error response, carrying its problem document (or what could be read of it)."""
    response.read()
    try:
        body = json.loads(response.content) if response.content else {}
    except ValueError:
        body = {}
    problem: dict[str, Any] = body if isinstance(body, dict) else {}
    if "code" not in problem and isinstance(problem.get("error"), str):
        # OAuth endpoints answer RFC 6749 errors ({"error", "error_description"}), not problem documents.
        problem = {**problem, "code": problem["error"], "detail": problem.get("error_description")}
    status = response.status_code
    family = _BY_STATUS.get(status) or (_SERVER_FALLBACK if status >= 500 else _CLIENT_FALLBACK)
    return family(response, problem)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None
