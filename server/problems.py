"""RFC 9457 problem details: the one exception type handlers and services raise, and its rendering.

Every error the API answers with is an `ApiProblem` by the time it is rendered: framework errors (routing,
validation, security) are translated in `server.errors`. `code` must be listed in the spec's `x-error-codes`
catalogue; a test checks that.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from connexion.exceptions import ProblemException

ERROR_DOCS_BASE = "https://developer.og-records.com/errors/"

_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
    500: "Internal server error",
    501: "Not implemented",
    503: "Service unavailable",
}


# code -> {status, title, description}: the spec's `x-error-codes`, installed by the app at start-up.
_catalogue: dict[str, dict[str, Any]] = {}


def install_catalogue(catalogue: dict[str, dict[str, Any]]) -> None:
    _catalogue.clear()
    _catalogue.update(catalogue)


@dataclass(frozen=True)
class FieldError:
    """One failing field or rule: `pointer` is a JSON pointer into the body or `query:name` for a parameter."""

    code: str
    pointer: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "pointer": self.pointer, "detail": self.detail}


class ApiProblem(ProblemException):  # type: ignore[misc]
    """An error answer. Subclassing connexion's ProblemException lets its security layer rank 401 vs 403."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        title: str | None = None,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        title = title or _catalogue.get(code, {}).get("title") or _TITLES.get(status, "Error")
        super().__init__(status=status, title=title, detail=detail, headers=headers)
        self.code = code
        self.errors = list(errors)
        self.extra = extra

    def body(self, *, request_id: str, instance: str | None) -> dict[str, Any]:
        document: dict[str, Any] = {
            "type": ERROR_DOCS_BASE + self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            "request_id": request_id,
        }
        if instance:
            document["instance"] = instance
        if self.errors:
            document["errors"] = [error.as_dict() for error in self.errors]
        document.update(self.extra)
        return document

    def __repr__(self) -> str:
        return f"ApiProblem({self.status}, {self.code!r}, {self.detail!r})"


def not_found(kind: str, identifier: str) -> ApiProblem:
    return ApiProblem(404, "not_found", f"No {kind} with id {identifier} exists.")


def invalid_state(kind: str, current_state: str, detail: str) -> ApiProblem:
    return ApiProblem(409, "invalid_state", detail, title="Invalid state", current_state=current_state)


def validation_failed(errors: Sequence[FieldError]) -> ApiProblem:
    count = len(errors)
    noun = "field" if count == 1 else "fields"
    return ApiProblem(422, "validation_failed", f"The request has {count} invalid {noun}.", errors=errors)
