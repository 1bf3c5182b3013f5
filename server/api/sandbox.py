"""Sandbox-only tools: the outbox of messages that were not sent, and answering a share as its payee."""

from typing import Any

from connexion.lifecycle import ConnexionResponse
from sqlmodel import col, select

from server import principal as caller
from server.api.responses import json_response
from server.api.splits import represent as represent_split
from server.db.engine import session_scope
from server.db.models.mail import OutboundMessage
from server.db.models.persons import Person
from server.db.models.splits import SplitShare
from server.problems import not_found
from server.services import invitations, sandbox_outbox, splits
from server.timefmt import rfc3339


def represent_message(message: OutboundMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "object": "outbox_message",
        "environment": message.environment,
        "channel": message.channel,
        "kind": message.kind,
        "to": message.recipient,
        "person_id": message.person_id,
        "subject": message.subject,
        "text": message.text_body,
        "html": message.html_body,
        "link": sandbox_outbox.invitation_link(message),
        "status": message.status,
        "created_at": rfc3339(message.created_at),
    }


def list_sandbox_outbox(
    limit: int = 20, cursor: str | None = None, person_id: str | None = None, kind: str | None = None
) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        page = sandbox_outbox.list_page(session, principal, limit=limit, cursor=cursor, person_id=person_id, kind=kind)
        return json_response(page.render(represent_message))


def answer_split_share(id: str, body: dict[str, Any]) -> ConnexionResponse:
    principal = caller.current()
    sandbox_outbox.require_sandbox(principal)
    with session_scope() as session:
        split = splits.get(session, principal, id)
        share = session.exec(
            select(SplitShare).where(
                col(SplitShare.split_id) == split.id,
                col(SplitShare.person_id) == body["person_id"],
                col(SplitShare.role) == body["role"],
            )
        ).first()
        person = session.get(Person, body["person_id"])
        if share is None or person is None:
            raise not_found("split share", f"{body['person_id']} ({body['role']}) of split {split.id}")
        invitations.answer(session, person, share, body["answer"] == "accepted", represent_split)
        shares = splits.shares_of(session, [split]).get(split.id, [])
        return json_response(represent_split(split, shares))
