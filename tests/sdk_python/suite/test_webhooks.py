"""The verifier agrees with the official `standardwebhooks` library: same accepts, same rejects."""

import base64
import json
import time
from collections.abc import Callable

import pytest
import standardwebhooks
from og_records import OGRecords, WebhookVerificationError
from og_records.models import EventEnvelope
from og_records.webhooks import Webhooks, sign

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
OTHER = "whsec_" + base64.b64encode(b"another secret of thirty-two by!").decode()
BODY = json.dumps(
    {
        "id": "evt_" + "b" * 26,
        "object": "event",
        "type": "person.created",
        "created": "2026-01-01T00:00:00Z",
        "environment": "sandbox",
        "data": {"object": {"id": "per_" + "c" * 26, "object": "person"}},
    }
)


def _headers(body: str = BODY, *, secret: str = SECRET, msg_id: str = "msg_1", at: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if at is None else at
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(body, secret=secret, msg_id=msg_id, timestamp=timestamp),
    }


def _reference(body: str, headers: dict[str, str], secret: str) -> bool:
    try:
        standardwebhooks.Webhook(secret).verify(body, headers)
    except Exception:  # the library raises several types (its own, ValueError, binascii.Error): all mean "reject"
        return False
    return True


def _ours(body: str, headers: dict[str, str], secret: str) -> bool:
    try:
        Webhooks().verify(body, headers, secret=secret)
    except WebhookVerificationError:
        return False
    return True


def _official_signature(body: str, msg_id: str, at: int, secret: str = SECRET) -> str:
    from datetime import UTC, datetime

    return str(standardwebhooks.Webhook(secret).sign(msg_id, datetime.fromtimestamp(at, UTC), body))


NOW = int(time.time())
CASES: dict[str, Callable[[], tuple[str, dict[str, str], str]]] = {
    "valid": lambda: (BODY, _headers(), SECRET),
    "signed by the official library": lambda: (
        BODY,
        {"webhook-id": "m", "webhook-timestamp": str(NOW), "webhook-signature": _official_signature(BODY, "m", NOW)},
        SECRET,
    ),
    "secret without prefix": lambda: (BODY, _headers(), SECRET.removeprefix("whsec_")),
    "header names in any case": lambda: (BODY, {k.upper(): v for k, v in _headers().items()}, SECRET),
    "tampered body": lambda: (BODY.replace("person.created", "person.deleted"), _headers(), SECRET),
    "wrong secret": lambda: (BODY, _headers(), OTHER),
    "signed with another secret": lambda: (BODY, _headers(secret=OTHER), SECRET),
    "other message id": lambda: (BODY, {**_headers(), "webhook-id": "msg_2"}, SECRET),
    "299 s old": lambda: (BODY, _headers(at=int(time.time()) - 299), SECRET),
    "301 s old": lambda: (BODY, _headers(at=int(time.time()) - 301), SECRET),
    "an hour old": lambda: (BODY, _headers(at=int(time.time()) - 3600), SECRET),
    "299 s ahead": lambda: (BODY, _headers(at=int(time.time()) + 299), SECRET),
    "10 min ahead": lambda: (BODY, _headers(at=int(time.time()) + 600), SECRET),
    "rotation: new and old signatures": lambda: (
        BODY,
        {
            **_headers(),
            "webhook-signature": f"{_headers(secret=OTHER)['webhook-signature']} {_headers()['webhook-signature']}",
        },
        SECRET,
    ),
    "rotation: only the other secret's": lambda: (
        BODY,
        {**_headers(), "webhook-signature": f"{_headers(secret=OTHER)['webhook-signature']} v1,AAAA"},
        SECRET,
    ),
    "v2 scheme only": lambda: (
        BODY,
        {**_headers(), "webhook-signature": _headers()["webhook-signature"].replace("v1,", "v2,")},
        SECRET,
    ),
    "missing id": lambda: (BODY, {k: v for k, v in _headers().items() if k != "webhook-id"}, SECRET),
    "missing timestamp": lambda: (BODY, {k: v for k, v in _headers().items() if k != "webhook-timestamp"}, SECRET),
    "missing signature": lambda: (BODY, {k: v for k, v in _headers().items() if k != "webhook-signature"}, SECRET),
    "timestamp not a number": lambda: (BODY, {**_headers(), "webhook-timestamp": "yesterday"}, SECRET),
    "empty signature": lambda: (BODY, {**_headers(), "webhook-signature": "v1,"}, SECRET),
}


@pytest.mark.parametrize("case", list(CASES))
def test_agrees_with_the_official_library(case: str) -> None:
    body, headers, secret = CASES[case]()
    assert _ours(body, headers, secret) == _reference(body, headers, secret)


def test_the_matrix_has_both_outcomes() -> None:
    outcomes = {case: _reference(*CASES[case]()) for case in CASES}
    assert outcomes["valid"]
    assert outcomes["rotation: new and old signatures"]
    assert not outcomes["tampered body"]
    assert not outcomes["301 s old"]
    assert not outcomes["10 min ahead"]


def test_unwrap_returns_a_typed_event_using_the_clients_secret() -> None:
    with OGRecords(api_key="og_test_abc", base_url="https://api.test", webhook_secret=SECRET) as client:
        event = client.webhooks.unwrap(BODY.encode(), _headers())
    assert isinstance(event, EventEnvelope)
    assert event.type == "person.created"
    assert event.data.object["id"].startswith("per_")  # type: ignore[index]


def test_unwrap_refuses_bad_deliveries_and_needs_a_secret() -> None:
    with OGRecords(api_key="og_test_abc", base_url="https://api.test") as client:
        with pytest.raises(WebhookVerificationError, match="secret"):
            client.webhooks.unwrap(BODY, _headers())
        with pytest.raises(WebhookVerificationError):
            client.webhooks.unwrap(BODY + " ", _headers(), secret=SECRET)
        not_an_event = '{"hello": "world"}'
        with pytest.raises(WebhookVerificationError, match="event"):
            client.webhooks.unwrap(not_an_event, _headers(not_an_event), secret=SECRET)
