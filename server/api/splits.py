"""Royalty splits: create (a new version), list, read, and a release's active splits."""

from typing import Any

from connexion.lifecycle import ConnexionResponse
from sqlmodel import Session

from server import principal as caller
from server.api.responses import json_response
from server.db.engine import session_scope
from server.db.models.splits import Split
from server.domain.splits import SplitCreate
from server.openapi.fast_reads import read_only
from server.pagination import Page
from server.representations.splits import represent
from server.services import splits


def _render_page(session: Session, page: Page[Split]) -> dict[str, Any]:
    shares = splits.shares_of(session, page.items)
    return page.render(lambda split: represent(split, shares.get(split.id, [])))


def create_split(body: dict[str, Any]) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        document = splits.create_and_announce(session, principal, SplitCreate.from_body(body))
    return json_response(document, 201)


@read_only
def list_splits(
    limit: int = 20,
    cursor: str | None = None,
    release_id: str | None = None,
    track_id: str | None = None,
    status: str | None = None,
) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        page = splits.list_page(
            session, principal, limit=limit, cursor=cursor, release_id=release_id, track_id=track_id, status=status
        )
        return json_response(_render_page(session, page))


@read_only
def get_split(id: str) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        split = splits.get(session, principal, id)
        return json_response(represent(split, splits.shares_of(session, [split]).get(split.id, [])))


@read_only
def list_release_splits(
    releaseId: str,  # noqa: N803 - connexion passes path parameters under their spec names
    limit: int = 20,
    cursor: str | None = None,
) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        page = splits.list_release_page(session, principal, releaseId, limit=limit, cursor=cursor)
        return json_response(_render_page(session, page))
