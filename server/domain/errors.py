"""Domain errors: what services raise when a request cannot be carried out, without speaking HTTP.

A `DomainError` names a stable `code` from the spec's `x-error-codes` catalogue; the edge (`server.errors`) renders
it as problem+json with the status the catalogue gives that code (one status per code: the catalogue is keyed by
code). `status` is also readable here, from the same catalogue (installed at start-up), for callers that show the
error in a page of their own (the dashboard).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from server import state as app_state

# code -> HTTP status, from the spec's `x-error-codes` (installed with the catalogue by `server.problems`): the
# process default; an app's own are in its state (server/state.py).
_statuses: dict[str, int] = {}


def install_statuses(statuses: dict[str, int]) -> None:
    _statuses.clear()
    _statuses.update(statuses)


def status_of(code: str) -> int:
    """The status the catalogue gives `code`; a code missing from the catalogue is a server error."""
    current = app_state.current()
    return (_statuses if current is None else current.statuses).get(code, 500)


@dataclass(frozen=True)
class FieldError:
    """One failing field or rule: `pointer` is a JSON pointer into the body or `query:name` for a parameter."""

    code: str
    pointer: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "pointer": self.pointer, "detail": self.detail}


class DomainError(Exception):
    """A refused request: `code` (catalogued), a human `detail`, failing `errors`, and `extra` members of the
    problem document (`current_state`, `pointer`, …). `headers` carries advice such as Retry-After."""

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        title: str | None = None,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.title = title
        self.errors = list(errors)
        self.headers = headers
        self.extra = extra
        self.status = status_of(code)

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {self.detail!r})"


def not_found(kind: str, identifier: str) -> DomainError:
    return DomainError("not_found", f"No {kind} with id {identifier} exists.")


def invalid_state(kind: str, current_state: str, detail: str) -> DomainError:
    return DomainError("invalid_state", detail, title="Invalid state", current_state=current_state)


def validation_failed(errors: Sequence[FieldError]) -> DomainError:
    count = len(errors)
    noun = "field" if count == 1 else "fields"
    return DomainError("validation_failed", f"The request has {count} invalid {noun}.", errors=errors)
