"""The outbound mail service: Mailgun's and whapi.cloud's wire formats against local stand-ins, retries of
transient errors, permanent failures closing the invitation, the outbox without a provider, the endpoint.disabled
notice."""

import base64
import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
from sqlalchemy import update
from sqlmodel import col, select
from starlette.testclient import TestClient

from server.config import Settings
from server.db.engine import session_scope
from server.db.models.accounts import Account
from server.db.models.mail import OutboundMessage
from server.db.models.webhooks import WebhookEndpoint
from server.db.types import utcnow
from server.mail import dispatch
from server.mail.providers import Mailgun, SendError, Whapi
from server.webhooks.clock import ManualClock
from server.webhooks.worker import mail_failure_handlers
from tests.conftest import Tenant, TenantFactory
from tests.server.payouts_helpers import settings_with
from tests.server.releases_helpers import ok
from tests.webhooks.conftest import drain
from tests.webhooks.receiver import Received, Reply, running_receiver

MAILGUN_KEY = "key-stand-in-0123456789abcdef"


def _mailgun_ok(_request: Received) -> Reply:
    return Reply(200, json.dumps({"id": "<20261205.1@mg.og-records.com>", "message": "Queued. Thank you."}).encode())


def _form(request: Received) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(request.body.decode(), keep_blank_values=True).items()}


def _messages(person_id: str) -> list[OutboundMessage]:
    with session_scope() as session:
        statement = select(OutboundMessage).where(col(OutboundMessage.person_id) == person_id)
        return list(session.exec(statement.order_by(col(OutboundMessage.id))).all())


def _production(make_tenant: TenantFactory) -> Tenant:
    return make_tenant(environment="production", production_access=True)


def _invite(client: TestClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"name": "Mara Lindqvist", "email": "mara@example.com", "invite": True, **fields}
    return dict(ok(client.post("/api/v1/persons", json=body, headers=tenant.headers), 201))


def _send_due() -> int:
    total = 0
    while count := dispatch.dispatch_due(
        dispatch.Providers.from_settings(_active()), on_failure=mail_failure_handlers()
    ):
        total += count
    return total


def _active() -> Settings:
    from server import config

    return config.active()


def test_an_invitation_goes_out_through_mailguns_http_api(client: TestClient, make_tenant: TenantFactory) -> None:
    tenant = _production(make_tenant)
    with running_receiver(_mailgun_ok) as mailgun:
        base = mailgun.url.removesuffix("/hooks")
        with settings_with(
            client, mailgun_api_key=MAILGUN_KEY, mailgun_domain="mg.og-records.com", mailgun_api_url=base
        ):
            person = _invite(client, tenant, language="de")
            [queued] = _messages(person["id"])
            assert queued.status == "queued"
            assert _send_due() >= 1
        [request] = mailgun.requests
    assert request.path == "/v3/mg.og-records.com/messages"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"api:{MAILGUN_KEY}".encode()).decode()
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = _form(request)
    assert form["from"] == "OG Records <no-reply@og-records.com>"
    assert form["to"] == "mara@example.com"
    assert form["subject"] == "Test Label lädt Sie ein, Tantiemenanteile zu erhalten"  # the person's language
    assert "/invitations/" in form["text"]
    assert '<a href="http://testserver/invitations/' in form["html"]
    assert form["o:tag"] == "invitation"
    assert form["v:person_id"] == person["id"]
    [sent] = _messages(person["id"])
    assert (sent.status, sent.provider_message_id, sent.attempts) == ("sent", "<20261205.1@mg.og-records.com>", 1)


def test_transient_mailgun_errors_are_retried_then_succeed(client: TestClient, make_tenant: TenantFactory) -> None:
    tenant = _production(make_tenant)
    answers = iter([Reply(503, b'{"message": "Service unavailable"}'), Reply(429, b"{}")])

    def reply(request: Received) -> Reply:
        return next(answers, None) or _mailgun_ok(request)

    with running_receiver(reply) as mailgun:
        base = mailgun.url.removesuffix("/hooks")
        with settings_with(client, mailgun_api_key=MAILGUN_KEY, mailgun_domain="mg.example.com", mailgun_api_url=base):
            person = _invite(client, tenant)
            _send_due()
            [waiting] = _messages(person["id"])
            assert waiting.status == "queued"
            assert waiting.last_error == "Mailgun answered 503: Service unavailable"
            assert waiting.next_attempt_at is not None
            assert waiting.next_attempt_at - utcnow() > timedelta(seconds=50)  # not before its retry delay
            for _ in range(2):  # make the retry due now, twice: 429, then success
                with session_scope() as session:
                    session.execute(
                        update(OutboundMessage)
                        .where(col(OutboundMessage.id) == waiting.id)
                        .values(next_attempt_at=utcnow())
                    )
                _send_due()
        assert len(mailgun.requests) == 3
    [sent] = _messages(person["id"])
    assert (sent.status, sent.attempts) == ("sent", 3)
    assert ok(client.get(f"/api/v1/persons/{person['id']}", headers=tenant.headers))["invitation_status"] == "pending"


def test_a_permanent_mailgun_refusal_fails_the_invitation_and_says_why(
    client: TestClient, make_tenant: TenantFactory
) -> None:
    tenant = _production(make_tenant)
    refusal = Reply(400, b'{"message": "to parameter is not a valid address. please check documentation"}')
    with running_receiver(lambda _r: refusal) as mailgun:
        base = mailgun.url.removesuffix("/hooks")
        with settings_with(client, mailgun_api_key=MAILGUN_KEY, mailgun_domain="mg.example.com", mailgun_api_url=base):
            person = _invite(client, tenant)
            _send_due()
        assert len(mailgun.requests) == 1  # never retried
    [failed] = _messages(person["id"])
    assert failed.status == "failed"
    shown = ok(client.get(f"/api/v1/persons/{person['id']}", headers=tenant.headers))
    assert shown["invitation_status"] == "failed"
    assert shown["invitation_failure_reason"] == (
        "Email to mara@example.com failed: Mailgun answered 400: to parameter is not a valid address. "
        "please check documentation"
    )
    events = ok(client.get("/api/v1/events", params={"type": "person.invitation_failed"}, headers=tenant.headers))
    assert [event["data"]["object"]["id"] for event in events["data"]] == [person["id"]]


def test_without_a_provider_production_mail_waits_in_the_local_outbox(
    client: TestClient, make_tenant: TenantFactory
) -> None:
    person = _invite(client, _production(make_tenant))
    [message] = _messages(person["id"])
    assert message.status == "local"
    assert message.next_attempt_at is None  # the worker never picks it up


def test_whatsapp_goes_out_through_whapi_when_the_account_enabled_it(
    client: TestClient, make_tenant: TenantFactory
) -> None:
    tenant = _production(make_tenant)
    with session_scope() as session:
        account = session.get(Account, tenant.account_id)
        assert account is not None
        account.whatsapp_notifications = True
        session.add(account)

    def whapi_ok(_request: Received) -> Reply:
        return Reply(200, json.dumps({"sent": True, "message": {"id": "PsqXn5SAD5v7HRA-wHqB9A"}}).encode())

    with running_receiver(whapi_ok) as whapi:
        base = whapi.url.removesuffix("/hooks")
        with settings_with(client, whapi_api_token="channel-token-123", whapi_api_url=base):
            person = _invite(client, tenant, phone="+4915112345678")
            channels = {message.channel: message.status for message in _messages(person["id"])}
            assert channels == {"email": "local", "whatsapp": "queued"}
            _send_due()
        [request] = whapi.requests
    assert request.path == "/messages/text"
    assert request.headers["authorization"] == "Bearer channel-token-123"
    body = json.loads(request.body)
    assert body["to"] == "4915112345678"
    assert "/invitations/" in body["body"]
    sent = [m for m in _messages(person["id"]) if m.channel == "whatsapp"]
    assert (sent[0].status, sent[0].provider_message_id) == ("sent", "PsqXn5SAD5v7HRA-wHqB9A")


def test_a_person_without_whatsapp_consent_gets_email_only(client: TestClient, tenant: Tenant) -> None:
    person = _invite(client, tenant, phone="+4915112345678")
    assert [message.channel for message in _messages(person["id"])] == ["email"]


def test_provider_errors_are_classified() -> None:
    with running_receiver(lambda _r: Reply(401, b"Forbidden")) as stand_in:
        base = stand_in.url.removesuffix("/hooks")
        mailgun = Mailgun(api_key="wrong", domain="mg.example.com", sender="x <x@example.com>", base_url=base)
        with pytest.raises(SendError) as refused:
            mailgun.send(dispatch.Email(to="a@example.com", subject="s", text="t", html=None, tag="t"))
        assert refused.value.permanent
        whapi = Whapi(token="t", base_url="http://127.0.0.1:9")  # nothing listens: a transient error
        with pytest.raises(SendError) as unreachable:
            whapi.send_text("+4915112345678", "hello")
        assert not unreachable.value.permanent


def test_a_disabled_endpoint_is_emailed_to_the_account_owner(
    client: TestClient, tenant: Tenant, settings: Settings
) -> None:
    with running_receiver(lambda _r: Reply(410, b"gone")) as receiver:
        endpoint = ok(
            client.post(
                "/api/v1/webhook-endpoints",
                json={"url": receiver.url, "enabled_events": ["person.created"]},
                headers=tenant.headers,
            ),
            201,
        )
        ok(client.post("/api/v1/persons", json={"name": "A", "email": "a@example.com"}, headers=tenant.headers), 201)
        drain(settings, clock=ManualClock(utcnow()))
    with session_scope() as session:
        stored = session.get(WebhookEndpoint, endpoint["id"])
        assert stored is not None
        assert stored.status == "disabled"
    [notice] = ok(client.get("/api/v1/sandbox/outbox", params={"kind": "endpoint_disabled"}, headers=tenant.headers))[
        "data"
    ]
    assert notice["to"].startswith("owner-")
    assert notice["subject"] == f"Webhook endpoint disabled: {receiver.url}"
    assert "410 Gone" in notice["text"]
    assert notice["link"] is None
