"""The Sandbox page: the account's test clock (now, advance), its releases with “Advance to”, the trigger form and
the sandbox outbox (messages the sandbox captured instead of sending, with their invitation links).

Sandbox environment only (the services refuse production with `sandbox_only` as well). Every action calls the same
services as the Sandbox API (`server.api.sandbox`) and runs on the account's sandbox clock, so the events it emits
carry sandbox time.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from server import clock
from server.db.engine import session_scope
from server.db.models.mail import OutboundMessage
from server.db.models.releases import Release
from server.domain import account_clock
from server.domain.account_clock import SANDBOX
from server.domain.outbox import invitation_link
from server.problems import ApiProblem, DomainError
from server.services import releases, sandbox_clock, sandbox_outbox, sandbox_simulator, sandbox_triggers
from server.services.web_sessions import Viewer
from server.web.dashboard.common import checked_form, field, forbidden, page, signed_in

T = TypeVar("T")

# Which id the trigger form's optional “resource id” field names, per event (see sandbox_triggers).
RESOURCE_FIELD = {
    "payout.failed": "payout_id",
    "person.invitation_failed": "person_id",
    "endpoint.disabled": "endpoint_id",
    "release.submitted": "release_id",
    "release.status_changed": "release_id",
}


@dataclass(frozen=True)
class OutboxLine:
    message: OutboundMessage
    link: str | None


async def _on_sandbox_clock(viewer: Viewer, work: Callable[[Session], T]) -> T:
    """`work` in one transaction, reading "now" from the account's sandbox clock."""

    def unit() -> T:
        with session_scope() as session:
            offset = account_clock.offset_of(session, viewer.account.id, SANDBOX)
        with clock.for_account(offset), session_scope() as session:
            return work(session)

    return await run_in_threadpool(unit)


async def _render(
    request: Request, viewer: Viewer, *, status_code: int = 200, notice: str | None = None, error: str | None = None
) -> Response:
    if viewer.environment != "sandbox":
        return page(request, "dashboard/sandbox.html", status_code=status_code, title="Sandbox", viewer=viewer)
    principal = viewer.principal()
    state = await run_in_threadpool(sandbox_clock.state, viewer.account.id)

    def read(session: Session) -> tuple[list[Release], list[OutboxLine]]:
        found = releases.list_page(
            session, principal, limit=50, cursor=None, status=None, created_gte=None, created_lt=None
        ).items
        messages = sandbox_outbox.list_page(session, principal, limit=20, cursor=None, person_id=None, kind=None)
        return list(found), [OutboxLine(m, invitation_link(m)) for m in messages.items]

    release_list, outbox = await _on_sandbox_clock(viewer, read)
    return page(
        request,
        "dashboard/sandbox.html",
        status_code=status_code,
        title="Sandbox",
        viewer=viewer,
        now=state.now,
        default_to=state.now.strftime("%Y-%m-%dT%H:%M"),
        releases=release_list,
        targets=sandbox_simulator.ADVANCE_TARGETS,
        events=list(sandbox_triggers.TRIGGERS),
        outbox=outbox,
        notice=notice,
        error=error,
    )


@signed_in
async def overview(request: Request, viewer: Viewer) -> Response:
    return await _render(request, viewer)


async def _act(request: Request, viewer: Viewer, action: Callable[[Any], Any]) -> Response:
    """Check the form, refuse production, run `action(form)` and show the page with its notice or problem."""
    form = await checked_form(request)
    if form is None:
        return forbidden(request)
    if viewer.environment != "sandbox":
        return await _render(request, viewer, status_code=403)
    try:
        notice = await action(form)
    except DomainError as problem:
        detail = problem.errors[0].detail if problem.errors else problem.detail
        return await _render(request, viewer, status_code=problem.status, error=detail)
    return await _render(request, viewer, notice=notice)


@signed_in
async def advance_clock(request: Request, viewer: Viewer) -> Response:
    async def action(form: Any) -> str:
        try:
            # The form's datetime-local has no zone: the page shows and takes UTC.
            to = datetime.fromisoformat(field(form, "to")).replace(tzinfo=UTC)
        except ValueError:
            raise ApiProblem(422, "validation_failed", "Enter a date and time like 2027-01-31T12:00.") from None
        state = await run_in_threadpool(sandbox_clock.advance, viewer.account.id, to)
        return f"The sandbox clock now reads {state.now:%Y-%m-%d %H:%M} UTC."

    return await _act(request, viewer, action)


@signed_in
async def advance_release(request: Request, viewer: Viewer) -> Response:
    release_id = str(request.path_params["release_id"])

    async def action(form: Any) -> str:
        to = field(form, "to")
        if to not in sandbox_simulator.ADVANCE_TARGETS:
            raise ApiProblem(422, "validation_failed", "Choose a status to advance to.")

        def advance(session: Session) -> str:
            release = releases.get(session, viewer.principal(), release_id, for_update=True)
            passed = sandbox_simulator.advance(session, release, to)
            return f"“{release.title}” went through {', '.join(passed)}."

        return await _on_sandbox_clock(viewer, advance)

    return await _act(request, viewer, action)


@signed_in
async def trigger(request: Request, viewer: Viewer) -> Response:
    async def action(form: Any) -> str:
        event = field(form, "event")
        if event not in sandbox_triggers.TRIGGERS:
            raise ApiProblem(422, "validation_failed", "Choose an event to trigger.")
        body: dict[str, Any] = {"event": event}
        resource_id = field(form, "resource_id").strip()
        if resource_id and event in RESOURCE_FIELD:
            body[RESOURCE_FIELD[event]] = resource_id
        outcome = await _on_sandbox_clock(
            viewer, lambda session: sandbox_triggers.trigger(session, viewer.principal(), body)
        )
        count = len(outcome.event_ids)
        return f"Triggered {event}: {count} event{'s' if count != 1 else ''} ({', '.join(outcome.event_ids)})."

    return await _act(request, viewer, action)


ROUTES = {
    "/dashboard/sandbox": (["GET"], overview),
    "/dashboard/sandbox/clock": (["POST"], advance_clock),
    "/dashboard/sandbox/releases/{release_id}/advance": (["POST"], advance_release),
    "/dashboard/sandbox/trigger": (["POST"], trigger),
}
