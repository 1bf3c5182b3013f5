"""Sandbox-only tools (tag Sandbox): the outbox of messages that were not sent, answering a share as its payee, the
test clock, advancing a release's journey, and triggers. Every operation refuses production credentials with
`403 sandbox_only` before doing anything."""

from datetime import datetime
from typing import Any

from connexion.lifecycle import ConnexionResponse
from sqlmodel import col, select

from server import principal as caller
from server.api.responses import json_response
from server.db.engine import session_scope
from server.db.models.persons import Person
from server.db.models.splits import SplitShare
from server.openapi.fast_reads import read_only
from server.principal import Principal
from server.problems import ApiProblem, not_found
from server.representations.outbox_messages import represent as represent_message
from server.representations.releases import represent as represent_release
from server.representations.splits import represent as represent_split
from server.services import (
    invitations,
    releases,
    sandbox_clock,
    sandbox_outbox,
    sandbox_simulator,
    sandbox_triggers,
    splits,
)
from server.timefmt import rfc3339


@read_only
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
        invitations.answer(session, person, share, body["answer"] == "accepted")
        shares = splits.shares_of(session, [split]).get(split.id, [])
        return json_response(represent_split(split, shares))


def _sandbox_caller() -> Principal:
    principal = caller.current()
    sandbox_outbox.require_sandbox(principal)
    return principal


def _clock(state: sandbox_clock.ClockState) -> dict[str, Any]:
    return {
        "object": "sandbox_clock",
        "environment": "sandbox",
        "now": rfc3339(state.now),
        "offset_seconds": state.offset_seconds,
        "status": "advancing" if state.advancing else "ready",
    }


@read_only
def get_sandbox_clock() -> ConnexionResponse:
    principal = _sandbox_caller()
    return json_response(_clock(sandbox_clock.state(principal.account_id)))


def advance_sandbox_clock(body: dict[str, Any]) -> ConnexionResponse:
    principal = _sandbox_caller()
    to = datetime.fromisoformat(str(body["to"]).replace("Z", "+00:00"))
    if to.tzinfo is None:
        raise ApiProblem(422, "validation_failed", "`to` needs a time zone offset (RFC 3339).")
    return json_response(_clock(sandbox_clock.advance(principal.account_id, to)))


def advance_sandbox_release(id: str, body: dict[str, Any]) -> ConnexionResponse:
    principal = _sandbox_caller()
    with session_scope() as session:
        release = releases.get(session, principal, id, for_update=True)
        sandbox_simulator.advance(session, release, body["to"])
        document = represent_release(session, release)
    return json_response(document)


def trigger_sandbox_event(body: dict[str, Any]) -> ConnexionResponse:
    principal = _sandbox_caller()
    with session_scope() as session:
        outcome = sandbox_triggers.trigger(session, principal, body)
    return json_response(
        {
            "object": "sandbox_trigger",
            "environment": "sandbox",
            "event": body["event"],
            "event_ids": outcome.event_ids,
            "resource": outcome.resource,
        }
    )
