"""Opaque cursors for newest-first lists.

Ids are time-ordered, so a page is "the next `limit` rows with an id below the last one seen". The cursor carries
that id and a fingerprint of the list and its filters; a cursor from another list or filter is refused (400
`invalid_cursor`) rather than silently giving a wrong page. Cursors are signed (HMAC-SHA-256 under a key derived
from OG_SECRET_KEY), so an edited cursor (another `after`) is refused the same way instead of moving the start.
"""

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from server import config
from server.encryption import signing_key
from server.principal import Principal
from server.problems import ApiProblem

T = TypeVar("T")


def _fingerprint(list_name: str, filters: Mapping[str, Any]) -> str:
    canonical = json.dumps(
        {"list": list_name, **{k: v for k, v in filters.items() if v is not None}},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _secret_key() -> str:
    try:
        return config.active().secret_key
    except RuntimeError:  # outside the app (CLI, workers): the process's database settings carry the same key
        from server.db.engine import settings  # noqa: PLC0415

        return settings().secret_key


def _mac(payload: str) -> str:
    key = signing_key(_secret_key(), "list-cursor")
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest()[:16])


def encode_cursor(last_id: str, list_name: str, filters: Mapping[str, Any]) -> str:
    raw = json.dumps({"after": last_id, "fp": _fingerprint(list_name, filters)}, separators=(",", ":"))
    payload = _b64(raw.encode())
    return payload + _mac(payload)  # the MAC is the last 22 characters (the spec's cursor alphabet has no separator)


_MAC_CHARS = 22


def decode_cursor(cursor: str, list_name: str, filters: Mapping[str, Any]) -> str:
    payload, mac = cursor[:-_MAC_CHARS], cursor[-_MAC_CHARS:]
    if len(cursor) <= _MAC_CHARS or not hmac.compare_digest(mac.encode(), _mac(payload).encode()):
        raise ApiProblem(400, "invalid_cursor", "The cursor is malformed or was altered; use next_cursor as given.")
    try:
        padded = payload + "=" * (-len(payload) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        after, fingerprint = data["after"], data["fp"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise ApiProblem(400, "invalid_cursor", "The cursor is malformed.") from exc
    if not isinstance(after, str) or fingerprint != _fingerprint(list_name, filters):
        raise ApiProblem(400, "invalid_cursor", "The cursor belongs to another list or to other filters.")
    return after


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    has_more: bool
    next_cursor: str | None

    def render(self, represent: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [represent(item) for item in self.items],
            "has_more": self.has_more,
            "next_cursor": self.next_cursor,
        }


def paginate(
    session: Session,
    model: Any,
    *,
    where: Sequence[ColumnElement[bool]],
    list_name: str,
    filters: Mapping[str, Any],
    limit: int,
    cursor: str | None,
) -> Page[Any]:
    """One newest-first page of `model` rows matching `where`."""
    statement = select(model).where(*where)
    if cursor:
        statement = statement.where(col(model.id) < decode_cursor(cursor, list_name, filters))
    rows = list(session.exec(statement.order_by(col(model.id).desc()).limit(limit + 1)).all())
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].id, list_name, filters) if has_more and rows else None
    return Page(rows, has_more, next_cursor)


def tenant_list(
    model: Any, principal: Principal, *, created_gte: datetime | None, created_lt: datetime | None
) -> tuple[list[ColumnElement[bool]], dict[str, Any]]:
    """Where every list of a tenant's rows starts: the caller's account and environment and the `created_*` range,
    as conditions for `paginate` and as the filters its cursors are bound to. Callers add their own filters to both.
    """
    where = [col(model.account_id) == principal.account_id, col(model.environment) == principal.environment]
    if created_gte is not None:
        where.append(col(model.created_at) >= created_gte)
    if created_lt is not None:
        where.append(col(model.created_at) < created_lt)
    return where, {"created_gte": created_gte, "created_lt": created_lt, "env": principal.environment}
