"""The inbound verifiers cross-checked against the senders' official libraries, and the pipeline they feed.

Stripe: a `Stripe-Signature` made by `stripe.WebhookSignature` (what Stripe's own test helpers and servers produce)
verifies here, and `stripe.Webhook.construct_event` accepts the headers our tests sign with. The DSP feed: a
`webhook-signature` made by `standardwebhooks.Webhook.sign` verifies here, and `Webhook.verify` accepts what our
signer (the tests' stand-in partner, and our outbound webhooks) produces. Each is refused, by us and by the library
alike, with a wrong secret, a tampered body or a stale timestamp; a repeated delivery is answered as a duplicate.
"""

import ast
import json
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import standardwebhooks
import stripe
from sqlmodel import Session, col, func, select
from starlette.testclient import TestClient

from server import clock
from server.db.engine import session_scope
from server.db.models.inbound import InboundWebhookReceipt
from server.services import inbound_webhooks as inbound
from server.services.inbound_webhooks import dsp
from server.services.inbound_webhooks import stripe as stripe_inbound
from server.services.inbound_webhooks.stripe import StripeProvider
from server.webhooks.signing import headers as our_signed_headers
from server.webhooks.signing_secrets import generate
from tests.conftest import DSP_SYNC_SECRET
from tests.server.money_helpers import line, report
from tests.server.payouts_helpers import settings_with
from tests.server.test_inbound_webhooks import _stripe_header as our_stripe_header

STRIPE_SECRET = "whsec_" + secrets.token_hex(16)
STRIPE_OLD_SECRET = "whsec_" + secrets.token_hex(16)


def _event(**extra: Any) -> bytes:
    """A Stripe event as Stripe sends it: the library refuses bodies that are not `object: event`."""
    event = {
        "id": f"evt_{secrets.token_hex(8)}",
        "object": "event",
        "type": "customer.subscription.updated",
        "created": int(clock.now().timestamp()),
        "livemode": False,
        "data": {"object": {"id": "sub_1QmX2aK9sL4pT7vW", "object": "subscription", "status": "active"}},
        **extra,
    }
    return json.dumps(event).encode()


def _stripe_official(raw: bytes, secret: str, at: datetime | None = None) -> str:
    moment = at or clock.now()
    return stripe.WebhookSignature.generate_signature_header(raw.decode(), secret, timestamp=int(moment.timestamp()))


def _refused_by_us(raw: bytes, header: str, secrets_: Sequence[str] = (STRIPE_SECRET,)) -> bool:
    try:
        stripe_inbound.verify_signature(raw, header, secrets_)
    except inbound.SignatureError:
        return True
    return False


def _refused_by_stripe(raw: bytes, header: str, secret: str = STRIPE_SECRET) -> bool:
    try:
        stripe.Webhook.construct_event(raw, header, secret)
    except stripe.SignatureVerificationError:
        return True
    return False


# --- Stripe -------------------------------------------------------------------------------------------------------


def test_a_signature_made_by_stripes_library_verifies_here() -> None:
    raw = _event()
    header = _stripe_official(raw, STRIPE_SECRET)
    assert header.startswith("t=")
    assert ",v1=" in header
    stripe_inbound.verify_signature(raw, header, [STRIPE_SECRET])
    # The same, computed the way the library's `_compute_signature` does, with a second v1 as during a secret roll.
    t = header.split(",")[0].removeprefix("t=")
    old = stripe.WebhookSignature._compute_signature(f"{t}.{raw.decode()}", STRIPE_OLD_SECRET)
    stripe_inbound.verify_signature(raw, f"{header},v1={old}", [STRIPE_OLD_SECRET])


def test_stripes_library_accepts_the_headers_our_tests_sign_with() -> None:
    raw = _event()
    header = our_stripe_header(raw, STRIPE_SECRET, at=int(clock.now().timestamp()))
    event = stripe.Webhook.construct_event(raw, header, STRIPE_SECRET)
    assert event.id == json.loads(raw)["id"]
    # A rolled header (one v1 per active secret) is accepted by either secret, by the library as by us.
    rolled = our_stripe_header(raw, STRIPE_OLD_SECRET, STRIPE_SECRET, at=int(clock.now().timestamp()))
    assert not _refused_by_stripe(raw, rolled, STRIPE_OLD_SECRET)
    assert not _refused_by_stripe(raw, rolled, STRIPE_SECRET)
    assert not _refused_by_us(raw, rolled)


@pytest.mark.parametrize("case", ["wrong secret", "tampered body", "stale", "future", "v0 only"])
def test_stripe_refusals_agree_with_the_library(case: str) -> None:
    raw = _event()
    sent = raw
    at = None
    secret = STRIPE_SECRET
    if case == "wrong secret":
        secret = "whsec_" + secrets.token_hex(16)
    elif case == "tampered body":
        sent = raw.replace(b'"active"', b'"paused"')
    elif case == "stale":
        at = clock.now() - timedelta(seconds=301)
    elif case == "future":
        # The library only refuses old timestamps; a signature from the future is refused here, so not compared.
        at = clock.now() + timedelta(seconds=301)
    header = _stripe_official(raw, secret, at)
    if case == "v0 only":
        header = header.replace("v1=", "v0=")
    assert _refused_by_us(sent, header), case
    if case != "future":
        assert _refused_by_stripe(sent, header), case


def _stripe_receipts(event_id: str) -> int:
    with session_scope() as session:
        return int(
            session.exec(
                select(func.count()).where(
                    col(InboundWebhookReceipt.provider) == "stripe", col(InboundWebhookReceipt.external_id) == event_id
                )
            ).one()
        )


def test_a_stripe_delivery_signed_by_the_library_is_applied_once(client: TestClient) -> None:
    raw = _event()
    event_id = json.loads(raw)["id"]
    with settings_with(client, stripe_webhook_secrets=(STRIPE_SECRET,)):
        headers = {"Content-Type": "application/json", "Stripe-Signature": _stripe_official(raw, STRIPE_SECRET)}
        first = client.post("/webhooks/stripe", content=raw, headers=headers)
        again = client.post("/webhooks/stripe", content=raw, headers=headers)
    assert first.json() == {"received": True, "duplicate": False}
    assert again.json() == {"received": True, "duplicate": True}
    assert _stripe_receipts(event_id) == 1
    # The pipeline on its own (no HTTP): the same delivery is a duplicate there too.
    outcome = inbound.receive(StripeProvider([STRIPE_SECRET]), {"stripe-signature": headers["Stripe-Signature"]}, raw)
    assert outcome.duplicate
    assert outcome.after_answer is None


# --- The DSP feed (Standard Webhooks) -------------------------------------------------------------------------------


def _library_signed(secret: str, message_id: str, at: datetime, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": standardwebhooks.Webhook(secret).sign(message_id, at, body.decode()),
    }


def _refused_by_our_dsp_verifier(headers: Mapping[str, str], body: bytes, secrets_: Sequence[str]) -> bool:
    try:
        dsp.verify_signature(
            secrets_,
            message_id=headers["webhook-id"],
            timestamp=headers["webhook-timestamp"],
            signature_header=headers["webhook-signature"],
            body=body,
            now=clock.now(),
        )
    except dsp._VerificationError:
        return True
    return False


def _refused_by_library(headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    try:
        standardwebhooks.Webhook(secret).verify(body, dict(headers))
    except standardwebhooks.WebhookVerificationError:
        return True
    return False


def _report() -> bytes:
    # A line for a recording nobody has: acknowledged and left unmatched, which is all these tests need.
    return json.dumps(report([line("QZZZZ" + str(secrets.randbelow(10**7)).zfill(7), "1.00")])).encode()


def test_a_message_signed_by_the_standard_webhooks_library_verifies_here() -> None:
    body = _report()
    headers = _library_signed(DSP_SYNC_SECRET, "msg_lib_1", clock.now(), body)
    assert not _refused_by_our_dsp_verifier(headers, body, [DSP_SYNC_SECRET])
    # A partner rolling its secret signs with both; the entry under our (one) secret is enough.
    other = generate()
    rolled = {
        **headers,
        "webhook-signature": _library_signed(other, "msg_lib_1", clock.now(), body)["webhook-signature"]
        + " "
        + headers["webhook-signature"],
    }
    assert not _refused_by_our_dsp_verifier(rolled, body, [DSP_SYNC_SECRET])
    assert not _refused_by_our_dsp_verifier(rolled, body, [generate(), other])


def test_the_library_accepts_what_our_signer_produces() -> None:
    body = _report()
    headers = our_signed_headers([DSP_SYNC_SECRET], "msg_ours_1", clock.now(), body)
    assert standardwebhooks.Webhook(DSP_SYNC_SECRET).verify(body, headers) == json.loads(body)
    assert not _refused_by_our_dsp_verifier(headers, body, [DSP_SYNC_SECRET])


@pytest.mark.parametrize("case", ["wrong secret", "tampered body", "stale", "future"])
def test_dsp_refusals_agree_with_the_library(case: str) -> None:
    body = _report()
    sent = body
    at = clock.now()
    secret = DSP_SYNC_SECRET
    if case == "wrong secret":
        secret = generate()
    elif case == "tampered body":
        sent = body.replace(b'"1.00"', b'"9.00"')
    elif case == "stale":
        at = clock.now() - timedelta(seconds=301)
    elif case == "future":
        at = clock.now() + timedelta(seconds=330)
    headers = _library_signed(secret, f"msg_{case.replace(' ', '_')}", at, body)
    assert _refused_by_our_dsp_verifier(headers, sent, [DSP_SYNC_SECRET]), case
    assert _refused_by_library(headers, sent, DSP_SYNC_SECRET), case


def test_the_tolerance_follows_our_clock_which_is_why_the_library_does_not_verify_here() -> None:
    """`Webhook.verify` compares with the wall clock; ours with `server.clock`, which tests move (dsp.py says why)."""
    body = _report()
    with clock.shifted(timedelta(days=75)):
        headers = _library_signed(DSP_SYNC_SECRET, "msg_later", clock.now(), body)
        assert not _refused_by_our_dsp_verifier(headers, body, [DSP_SYNC_SECRET])
        assert _refused_by_library(headers, body, DSP_SYNC_SECRET)


def test_a_dsp_delivery_signed_by_the_library_is_processed_once(client: TestClient) -> None:
    body = _report()
    message_id = f"msg_{secrets.token_hex(6)}"
    headers = {**_library_signed(DSP_SYNC_SECRET, message_id, clock.now(), body), "Content-Type": "application/json"}
    first = client.post("/webhooks/dsp-sync", content=body, headers=headers)
    again = client.post("/webhooks/dsp-sync", content=body, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json() == {"received": True, "duplicate": False}
    assert again.json() == {"received": True, "duplicate": True}
    with session_scope() as session:
        stored = session.exec(
            select(InboundWebhookReceipt).where(col(InboundWebhookReceipt.external_id) == message_id)
        ).all()
    assert [(r.provider, r.event_type, r.payload) for r in stored] == [
        ("distributor", "report.lines", json.loads(body))
    ]


# --- The pipeline ---------------------------------------------------------------------------------------------------


class _Flaky(inbound.InboundProvider[dict[str, Any]]):
    """Signed by nobody; its effect fails the first time, as a database hiccup would."""

    name = "whapi"  # any provider name the receipts column allows

    def __init__(self) -> None:
        self.calls = 0

    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> Sequence[dict[str, Any]]:
        return [inbound.parse_json(raw_body)]

    def dedupe_key(self, event: dict[str, Any]) -> str:
        return str(event["id"])

    def receipt(self, session: Session, event: dict[str, Any]) -> inbound.Receipt:
        return inbound.Receipt(event_type="test", environment=None, payload=event)

    def apply(self, session: Session, event: dict[str, Any]) -> None:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("the effect failed")


def test_an_event_whose_effect_fails_leaves_no_receipt_so_the_retry_applies_it(client: TestClient) -> None:
    provider = _Flaky()
    raw = json.dumps({"id": f"flaky-{secrets.token_hex(6)}"}).encode()
    with pytest.raises(RuntimeError):
        inbound.receive(provider, {}, raw)
    assert not inbound.receive(provider, {}, raw).duplicate  # not acknowledged before: the retry is not a duplicate
    assert inbound.receive(provider, {}, raw).duplicate
    assert provider.calls == 2


class _Raced(_Flaky):
    """A twin delivery of the same event records its receipt between our dedupe check and our insert."""

    def receipt(self, session: Session, event: dict[str, Any]) -> inbound.Receipt:
        with session_scope() as twin:
            inbound.record(
                twin, self.name, str(event["id"]), event_type="test", environment=None, payload={}, processed=True
            )
        return super().receipt(session, event)


def test_a_concurrent_twin_delivery_is_a_duplicate_and_applied_once(client: TestClient) -> None:
    provider = _Raced()
    raw = json.dumps({"id": f"raced-{secrets.token_hex(6)}"}).encode()
    assert inbound.receive(provider, {}, raw).duplicate
    assert provider.calls == 0  # the twin's delivery applies it, not this one


def test_a_malformed_body_is_refused_before_anything_is_stored() -> None:
    with pytest.raises(inbound.MalformedBodyError) as refused:
        inbound.parse_json(b"[1]")
    assert refused.value.code == "malformed_json"


def test_the_inbound_services_know_nothing_of_http_or_handlers() -> None:
    """The layering the pipeline was built for: the handler module imports the services, never the reverse."""
    package = Path(inbound.__file__).parent
    forbidden = ("server.api", "connexion", "starlette")
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(forbidden), f"{module.name} imports {name}"
