"""Sandbox triggers: make the change behind a webhook event happen on a real sandbox resource, so the real event is
emitted (and delivered) by the same code that emits it in production. Not a fake payload.

`split.share_accepted` is not here yet: share acceptance is being built separately; its trigger comes with it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from server.db.models.events import Event
from server.db.models.payouts import Payout
from server.db.models.persons import Person
from server.db.models.releases import Release
from server.db.models.webhooks import WebhookEndpoint
from server.db.types import utcnow
from server.domain.errors import DomainError, invalid_state, not_found
from server.domain.payouts import PayoutRequest
from server.domain.releases import tracks_of
from server.principal import Principal
from server.representations.payouts import represent as represent_payout
from server.representations.persons import represent as represent_person
from server.representations.releases import represent as represent_release
from server.representations.webhook_endpoints import represent as represent_endpoint
from server.services import balance, events, payouts, persons, sandbox_sales, sandbox_simulator, submission
from server.webhooks import queue

# The amount a triggered payout requests: `.13` is the sandbox's failing amount (the transfer is cancelled).
FAILING_PAYOUT_AMOUNT = Decimal("10.13")
ENDPOINT_DISABLED_REASON = "failing"  # as after five days of failures (WebhookEndpoint.disabled_reason)


@dataclass
class Outcome:
    resource: dict[str, Any]
    event_ids: list[str] = field(default_factory=list)


def _owned(row: Any, principal: Principal) -> bool:
    return row is not None and row.account_id == principal.account_id and row.environment == principal.environment


def _payout(session: Session, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    if body.get("payout_id"):
        payout = session.get(Payout, body["payout_id"])
        if not _owned(payout, principal):
            raise not_found("payout", body["payout_id"])
        assert payout is not None
        if payout.status != "processing":
            raise invalid_state("payout", payout.status, "Only a processing payout can be returned by the bank.")
        payouts.apply_transfer_state(
            session,
            payout,
            "bounced_back",
            occurred_at=utcnow() + timedelta(milliseconds=1),
            previous_state="outgoing_payment_sent",
            reason="Sandbox trigger: the recipient's bank returned the payment.",
        )
        return dict(represent_payout(payout))
    account = balance.lock_account(session, principal.account_id)
    currency = account.default_currency if account is not None else "EUR"
    payout = payouts.reserve_and_announce(
        session, principal, PayoutRequest(currency=currency, amount=FAILING_PAYOUT_AMOUNT)
    )
    payouts.send_sandbox_inline(session, payout)
    return dict(represent_payout(payout))


def _invitation_failed(session: Session, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    if body.get("person_id"):
        person = session.get(Person, body["person_id"])
        if not _owned(person, principal):
            raise not_found("person", body["person_id"])
    else:
        person = session.exec(
            select(Person)
            .where(
                col(Person.account_id) == principal.account_id,
                col(Person.environment) == principal.environment,
                col(Person.invitation_status) == "pending",
            )
            .order_by(col(Person.created_at))
            .limit(1)
        ).first()
        if person is None:
            raise invalid_state("person", "none_pending", "No person has a pending invitation; invite one first.")
    assert person is not None
    if person.invitation_status != "pending":
        raise invalid_state("person", person.invitation_status, "Only a pending invitation can bounce.")
    persons.fail_invitation(session, person)
    document = represent_person(person)
    events.emit(session, principal, "person.invitation_failed", document)
    return dict(document)


def _endpoint_disabled(session: Session, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    if body.get("endpoint_id"):
        endpoint = session.get(WebhookEndpoint, body["endpoint_id"])
        if not _owned(endpoint, principal):
            raise not_found("webhook_endpoint", body["endpoint_id"])
    else:
        endpoint = session.exec(
            select(WebhookEndpoint)
            .where(
                col(WebhookEndpoint.account_id) == principal.account_id,
                col(WebhookEndpoint.environment) == principal.environment,
                col(WebhookEndpoint.status) == "enabled",
            )
            .order_by(col(WebhookEndpoint.created_at).desc())
            .limit(1)
        ).first()
        if endpoint is None:
            raise invalid_state("webhook_endpoint", "none_enabled", "No enabled webhook endpoint to disable.")
    assert endpoint is not None
    if endpoint.status != "enabled":
        raise invalid_state("webhook_endpoint", endpoint.status, "The endpoint is disabled already.")
    queue._disable(session, endpoint, ENDPOINT_DISABLED_REASON, utcnow())
    return dict(represent_endpoint(endpoint, now=utcnow()))


def _release(session: Session, principal: Principal, release_id: str | None, status: str) -> Release:
    if release_id:
        release = session.get(Release, release_id)
        if not _owned(release, principal):
            raise not_found("release", release_id)
        assert release is not None
        return release
    found = session.exec(
        select(Release)
        .where(
            col(Release.account_id) == principal.account_id,
            col(Release.environment) == principal.environment,
            col(Release.status) == status,
        )
        .order_by(col(Release.created_at))
    ).all()
    if status == "draft":  # the complete one: the submit checks pass
        found = [r for r in found if not submission.check(session, r, _tracks(session, r), today=utcnow().date())]
    if not found:
        raise invalid_state("release", f"none_{status}", f"No {status} release to act on; name one in release_id.")
    return found[0]


def _tracks(session: Session, release: Release) -> list[Any]:
    return tracks_of(session, release)


def _release_submitted(session: Session, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    release = _release(session, principal, body.get("release_id"), "draft")
    return submission.submit_and_announce(session, principal, release.id)


def _release_status_changed(session: Session, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    release = _release(session, principal, body.get("release_id"), "submitted")
    steps = sandbox_simulator.pending_steps(session, release.id)
    if not steps:
        sandbox_simulator.schedule(session, release.id)
        steps = sandbox_simulator.pending_steps(session, release.id)
    before = release.status
    for step in steps:  # the next step that moves the release itself
        sandbox_simulator.run_step(session, step)
        session.refresh(release)
        if release.status != before:
            break
    if release.status == before:
        raise invalid_state("release", release.status, "The release has no further step on its journey.")
    return dict(represent_release(session, release))


def _earnings_imported(session: Session, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    day = utcnow().date()
    if not sandbox_sales.day_reports(session, principal.account_id, day):
        raise invalid_state("release", "none_live", "No live release to report sales for; advance one to live.")
    lines = sandbox_sales.report_day(session, principal.account_id, day)
    return {"object": "earnings_import", "sale_day": day.isoformat(), "lines": lines}


TRIGGERS: dict[str, Callable[[Session, Principal, dict[str, Any]], dict[str, Any]]] = {
    "payout.requested": _payout,
    "payout.status_changed": _payout,
    "person.invitation_failed": _invitation_failed,
    "endpoint.disabled": _endpoint_disabled,
    "release.submitted": _release_submitted,
    "release.status_changed": _release_status_changed,
    "earnings.imported": _earnings_imported,
}


def trigger(session: Session, principal: Principal, body: dict[str, Any]) -> Outcome:
    """Make `body["event"]` happen; returns the resource and the ids of every event the change emitted."""
    if principal.environment != "sandbox":
        raise DomainError("sandbox_only", "Triggers exist only in the sandbox.")
    handler = TRIGGERS[body["event"]]
    session.flush()
    started = utcnow()
    resource = handler(session, principal, body)
    session.flush()
    emitted = session.exec(
        select(Event.id)
        .where(
            col(Event.account_id) == principal.account_id,
            col(Event.environment) == principal.environment,
            col(Event.created_at) >= started,
        )
        .order_by(col(Event.created_at), col(Event.id))
    ).all()
    return Outcome(resource, [str(event_id) for event_id in emitted])
