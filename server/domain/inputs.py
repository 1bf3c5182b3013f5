"""What the typed operation inputs (`PersonCreate`, `ReleaseDetailsUpdate`, …, one module per resource) share: the
marker of a field a partial update did not send, and the conversions from a validated request body.

An input is a frozen dataclass with the request body's properties as fields (tests/server/test_spec_inputs.py checks
them against the spec's request-body schema). The handler builds it from the body the spec already validated
(`from_body`), seeds and tests build it directly, and the service takes it, never a dict. In an update (PATCH),
every field defaults to `ABSENT`: "not sent, keep the value", which is not `None` ("clear it").
"""

from collections.abc import Callable, Mapping
from dataclasses import fields
from enum import Enum
from typing import Any, Final, TypeVar

T = TypeVar("T")


class Absent(Enum):
    """The type of `ABSENT`: a field a partial update did not send (mypy narrows `x is not ABSENT`)."""

    ABSENT = "absent"

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = Absent.ABSENT


def sent(body: Mapping[str, Any], name: str, convert: Callable[[Any], T]) -> T | Absent:
    """`convert(body[name])` when the body has the property (even `null`), else `ABSENT`."""
    return convert(body[name]) if name in body else ABSENT


def optional(convert: Callable[[Any], T]) -> Callable[[Any], T | None]:
    """`convert` for a nullable property: `null` stays `None`."""
    return lambda value: None if value is None else convert(value)


def metadata(value: Any) -> dict[str, str]:
    """The client's key-value pairs (`Metadata`), a copy."""
    return dict(value or {})


def fields_sent(value: Any) -> frozenset[str]:
    """The names of the fields an update sent (those not `ABSENT`)."""
    return frozenset(field.name for field in fields(value) if getattr(value, field.name) is not ABSENT)
