"""API keys of the calling credential's environment."""

from typing import Any

from connexion.lifecycle import ConnexionResponse

from server import principal as caller
from server.api.params import timestamp
from server.api.responses import json_response
from server.db.engine import session_scope
from server.openapi.fast_reads import read_only
from server.representations.api_keys import represent
from server.services import api_keys


def _with_secret(issued: api_keys.IssuedKey) -> dict[str, Any]:
    return {**represent(issued.key), "secret": issued.secret}


def create_api_key(body: dict[str, Any]) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        issued = api_keys.create_and_announce(
            session,
            principal,
            name=body["name"],
            scopes=list(body["scopes"]),
            expires_at=timestamp(body.get("expires_at")),
        )
        return json_response(_with_secret(issued), 201)


@read_only
def list_api_keys(limit: int = 20, cursor: str | None = None, status: str | None = None) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        page = api_keys.list_page(session, principal, limit=limit, cursor=cursor, status=status)
        return json_response(page.render(represent))


@read_only
def get_api_key(id: str) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        return json_response(represent(api_keys.get(session, principal, id)))


def rotate_api_key(id: str, body: dict[str, Any] | None = None) -> ConnexionResponse:
    principal = caller.current()
    expires_in = int((body or {}).get("expires_in", api_keys.ROTATION_GRACE.total_seconds()))
    with session_scope() as session:
        issued = api_keys.rotate_and_announce(session, principal, id, expires_in=expires_in)
        return json_response(_with_secret(issued))


def revoke_api_key(id: str) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        key = api_keys.revoke_and_announce(session, principal, id)
        return json_response(represent(key))
