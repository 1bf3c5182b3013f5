"""Sandbox-only operations (tag Sandbox): the test clock, advancing a release's journey, triggers.

Every operation refuses production credentials with `403 sandbox_only` before doing anything."""

from datetime import datetime
from typing import Any

from connexion.lifecycle import ConnexionResponse

from server import principal as caller
from server.api.releases import represent as represent_release
from server.api.responses import json_response
from server.db.engine import session_scope
from server.principal import Principal
from server.problems import ApiProblem
from server.services import releases, sandbox_clock, sandbox_simulator, sandbox_triggers
from server.timefmt import rfc3339


def _sandbox_caller() -> Principal:
    principal = caller.current()
    if principal.environment != "sandbox":
        raise ApiProblem(
            403,
            "sandbox_only",
            "This operation exists only in the sandbox; use a sandbox credential (og_test_…).",
        )
    return principal


def _clock(state: sandbox_clock.ClockState) -> dict[str, Any]:
    return {
        "object": "sandbox_clock",
        "environment": "sandbox",
        "now": rfc3339(state.now),
        "offset_seconds": state.offset_seconds,
        "status": "ready",
    }


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
