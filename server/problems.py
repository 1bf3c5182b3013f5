"""RFC 9457 problem details: the one exception type handlers and services raise, and its rendering.

Every error the API answers with is an `ApiProblem` by the time it is rendered: framework errors (routing,
validation, security) are translated in `server.errors`. `code` must be listed in the spec's `x-error-codes`
catalogue; a test checks that.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from connexion.exceptions import ProblemException

from server import state as app_state
from server.domain import errors as domain_errors
from server.domain.errors import DomainError, FieldError

__all__ = ["ApiProblem", "DomainError", "FieldError", "from_domain", "invalid_state", "not_found", "validation_failed"]

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


# code -> {status, title, description}: the spec's `x-error-codes`. The process default, installed by the app
# factory; each app reads its own from its state (server/state.py).
_catalogue: dict[str, dict[str, Any]] = {}


def statuses(catalogue: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    return {code: int(entry["status"]) for code, entry in catalogue.items()}


def install_catalogue(catalogue: dict[str, dict[str, Any]]) -> None:
    _catalogue.clear()
    _catalogue.update(catalogue)
    domain_errors.install_statuses(statuses(catalogue))


def _current_catalogue() -> Mapping[str, Mapping[str, Any]]:
    current = app_state.current()
    return _catalogue if current is None else current.catalogue


class ApiProblem(ProblemException, DomainError):  # type: ignore[misc]  # noqa: N818 - its name since issue 1
    """An error answer. Subclassing connexion's ProblemException lets its security layer rank 401 vs 403.

    The edge's own errors; services raise `DomainError` (which this also is, so `except DomainError` catches both
    while callers move over), rendered through `from_domain`."""

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
        title = title or _current_catalogue().get(code, {}).get("title") or _TITLES.get(status, "Error")
        ProblemException.__init__(self, status=status, title=title, detail=detail, headers=headers)
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


def from_domain(error: DomainError) -> ApiProblem:
    """The answer for a service's refusal: the status the spec's `x-error-codes` gives its code."""
    if isinstance(error, ApiProblem):
        return error
    catalogue = _current_catalogue()
    status = int(catalogue[error.code]["status"]) if error.code in catalogue else 500
    return ApiProblem(
        status,
        error.code,
        error.detail,
        title=error.title,
        errors=error.errors,
        headers=error.headers,
        **error.extra,
    )


def not_found(kind: str, identifier: str) -> ApiProblem:
    return ApiProblem(404, "not_found", f"No {kind} with id {identifier} exists.")


def invalid_state(kind: str, current_state: str, detail: str) -> ApiProblem:
    return ApiProblem(409, "invalid_state", detail, title="Invalid state", current_state=current_state)


def validation_failed(errors: Sequence[FieldError]) -> ApiProblem:
    count = len(errors)
    noun = "field" if count == 1 else "fields"
    return ApiProblem(422, "validation_failed", f"The request has {count} invalid {noun}.", errors=errors)
