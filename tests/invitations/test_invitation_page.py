"""The invitation page and the operations around it: resend, expiry, forged and replaced links, CSRF, declining,
production's bank details, the sandbox-only operations."""

import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select
from starlette.testclient import TestClient

from server import encryption
from server.clock import shifted
from server.db.engine import session_scope
from server.db.models.mail import OutboundMessage
from server.db.models.persons import Person
from server.db.models.splits import SplitShare
from server.domain.errors import DomainError
from server.domain.outbox import invitation_link
from tests.conftest import Tenant, TenantFactory
from tests.invitations.helpers import csrf_field, invited_person, link_path, outbox, share_field, split_for
from tests.server.releases_helpers import ok


def _link(client: TestClient, tenant: Tenant, person: dict[str, Any]) -> str:
    return link_path(outbox(client, tenant, person_id=person["id"], kind="invitation")[0])


def _status(client: TestClient, tenant: Tenant, split: dict[str, Any], person: dict[str, Any]) -> str:
    fetched = ok(client.get(f"/api/v1/splits/{split['id']}", headers=tenant.headers))
    return next(s["acceptance_status"] for s in fetched["shares"] if s["person_id"] == person["id"])


def test_declining_a_share_is_recorded_and_announced(client: TestClient, tenant: Tenant) -> None:
    person = invited_person(client, tenant, language="de")
    split = split_for(client, tenant, person)
    path = _link(client, tenant, person)
    page = client.get(path)
    assert page.status_code == 200
    assert '<html lang="de">' in page.text
    assert "Annehmen" in page.text
    assert "Ablehnen" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    done = client.post(
        path, data={"csrf_token": csrf_field(page.text), "share": share_field(page.text), "answer": "decline"}
    )
    assert done.status_code == 200
    assert _status(client, tenant, split, person) == "declined"
    events = ok(client.get("/api/v1/events", params={"type": "split.share_declined"}, headers=tenant.headers))["data"]
    assert [(e["data"]["object"]["id"], e["data"]["share"]["acceptance_status"]) for e in events] == [
        (split["id"], "declined")
    ]


def test_a_post_without_the_csrf_token_changes_nothing(client: TestClient, tenant: Tenant) -> None:
    person = invited_person(client, tenant)
    split = split_for(client, tenant, person)
    path = _link(client, tenant, person)
    page = client.get(path)
    refused = client.post(path, data={"csrf_token": "x" * 43, "share": share_field(page.text), "answer": "accept"})
    assert refused.status_code == 403
    assert _status(client, tenant, split, person) == "pending"
    assert client.get(path).status_code == 200  # the link still works


def test_forged_replaced_and_expired_links_get_a_clear_page(client: TestClient, tenant: Tenant) -> None:
    person = invited_person(client, tenant)
    split_for(client, tenant, person)
    first = _link(client, tenant, person)
    nonce, _, signature = first.removeprefix("/invitations/").partition(".")
    forged = client.get(f"/invitations/{nonce}.{signature[::-1]}")
    assert forged.status_code == 404
    assert "This link is not valid" in forged.text

    resent = ok(client.post(f"/api/v1/persons/{person['id']}/invite", headers=tenant.headers))
    assert resent["invitation_status"] == "pending"
    assert resent["invitation_expires_at"] is not None
    messages = outbox(client, tenant, person_id=person["id"])
    assert len(messages) == 2
    second = link_path(messages[0])  # newest first
    assert second != first
    assert client.get(first).status_code == 404  # replaced by the resend
    assert client.get(second).status_code == 200
    with shifted(timedelta(days=14, minutes=1)):
        expired = client.get(second)
    assert expired.status_code == 410
    assert "This link has expired" in expired.text
    assert "Traceback" not in expired.text


def test_the_sandbox_trigger_answers_a_share_without_the_page(client: TestClient, tenant: Tenant) -> None:
    person = invited_person(client, tenant)
    split = split_for(client, tenant, person)
    body = {"person_id": person["id"], "role": "composer", "answer": "accepted"}
    answered = ok(client.post(f"/api/v1/sandbox/splits/{split['id']}/answer", json=body, headers=tenant.headers))
    assert next(s for s in answered["shares"] if s["person_id"] == person["id"])["acceptance_status"] == "accepted"
    again = client.post(f"/api/v1/sandbox/splits/{split['id']}/answer", json=body, headers=tenant.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_state"
    missing = client.post(
        f"/api/v1/sandbox/splits/{split['id']}/answer", json={**body, "role": "producer"}, headers=tenant.headers
    )
    assert missing.status_code == 404


def test_sandbox_operations_refuse_production_credentials(client: TestClient, make_tenant: TenantFactory) -> None:
    production = make_tenant(environment="production", production_access=True)
    listed = client.get("/api/v1/sandbox/outbox", headers=production.headers)
    assert listed.status_code == 403
    assert listed.json()["code"] == "sandbox_only"
    body = {"person_id": "per_01jc3m8a4s6t3v0q7k2x9bz5hd", "role": "composer", "answer": "accepted"}
    answered = client.post(
        "/api/v1/sandbox/splits/spl_01jc3m8a4s6t3v0q7k2x9bz5hd/answer", json=body, headers=production.headers
    )
    assert answered.status_code == 403
    assert answered.json()["code"] == "sandbox_only"


def test_the_outbox_is_the_tenants_own(client: TestClient, make_tenant: TenantFactory) -> None:
    owner, stranger = make_tenant(), make_tenant()
    person = invited_person(client, owner)
    assert outbox(client, stranger, person_id=person["id"]) == []
    assert client.post(f"/api/v1/persons/{person['id']}/invite", headers=stranger.headers).status_code == 404


def test_production_payees_give_a_valid_iban_before_accepting(client: TestClient, make_tenant: TenantFactory) -> None:
    tenant = make_tenant(environment="production", production_access=True)
    person = invited_person(client, tenant)
    split = split_for(client, tenant, person)
    with session_scope() as session:  # production mail waits in the local outbox: read the link from there
        message = session.exec(select(OutboundMessage).where(col(OutboundMessage.person_id) == person["id"])).one()
        path = link_path({"link": invitation_link(message), "text": message.text_body})
    page = client.get(path)
    assert "IBAN" in page.text
    fields = {"csrf_token": csrf_field(page.text), "share": share_field(page.text), "answer": "accept"}
    wrong = client.post(path, data={**fields, "account_holder": "Mara Lindqvist", "iban": "DE89370400440532013001"})
    assert wrong.status_code == 422
    assert "This is not a valid IBAN." in wrong.text
    assert _status(client, tenant, split, person) == "pending"
    right = client.post(
        path, data={**fields, "account_holder": "Mara Lindqvist", "iban": "DE89 3704 0044 0532 0130 00"}
    )
    assert right.status_code == 200
    assert _status(client, tenant, split, person) == "accepted"
    with session_scope() as session:
        stored = session.get(Person, person["id"])
        assert stored is not None
        assert stored.payout_account_holder == "Mara Lindqvist"
        assert stored.payout_iban_encrypted is not None
        assert "DE89" not in stored.payout_iban_encrypted
        assert (
            encryption.decrypt(stored.payout_iban_encrypted, "test-secret-key", purpose="person-payout-iban")
            == "DE89370400440532013000"
        )
        assert session.exec(select(SplitShare).where(col(SplitShare.person_id) == person["id"])).one().accepted_at


def test_a_person_whose_email_bounced_and_has_no_phone_cannot_be_invited(client: TestClient, tenant: Tenant) -> None:
    person = invited_person(client, tenant)
    with session_scope() as session:
        stored = session.get(Person, person["id"])
        assert stored is not None
        stored.email_undeliverable = True
        session.add(stored)
    refused = client.post(f"/api/v1/persons/{person['id']}/invite", headers=tenant.headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "invalid_state"


def test_the_access_log_never_holds_an_invitation_token(
    client: TestClient, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    person = invited_person(client, tenant)
    path = _link(client, tenant, person)
    token = path.removeprefix("/invitations/")
    with caplog.at_level(logging.INFO):
        assert client.get(path).status_code == 200
    logged = [record for record in caplog.records if getattr(record, "path", "").startswith("/invitations/")]
    assert logged
    assert all(token not in record.getMessage() and token not in record.path for record in logged)  # type: ignore[attr-defined]


def test_two_answers_racing_change_the_share_and_emit_the_event_once(client: TestClient, tenant: Tenant) -> None:
    from server.services import invitations

    person = invited_person(client, tenant)
    split = split_for(client, tenant, person)
    with session_scope() as stale:  # read while the share is still pending…
        share = stale.exec(select(SplitShare).where(col(SplitShare.person_id) == person["id"])).one()
        payee = stale.get(Person, person["id"])
        assert payee is not None
        body = {"person_id": person["id"], "role": "composer", "answer": "declined"}
        ok(client.post(f"/api/v1/sandbox/splits/{split['id']}/answer", json=body, headers=tenant.headers))
        # …and answered after the other answer committed: refused, nothing written twice.
        with pytest.raises(DomainError) as refused:
            invitations.answer(stale, payee, share, True)
        assert refused.value.status == 409
    assert _status(client, tenant, split, person) == "declined"
    accepted = ok(client.get("/api/v1/events", params={"type": "split.share_accepted"}, headers=tenant.headers))
    declined = ok(client.get("/api/v1/events", params={"type": "split.share_declined"}, headers=tenant.headers))
    assert (len(accepted["data"]), len(declined["data"])) == (0, 1)
