"""No secret the platform hands out or receives reaches a log line (issue 23 #4): API keys, rotated keys, account
passwords, webhook signing secrets, IBANs, credentials and query strings in URLs, inbound webhook secrets.

Every log record of the flows below is captured at INFO (the production default) with the production formatter,
tracebacks included, and searched for each secret.
"""

import logging
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from server.config import Settings
from server.db.engine import session_scope
from server.logs import JsonFormatter
from server.services import accounts, payouts
from tests.conftest import DSP_SYNC_SECRET, Tenant
from tests.webhooks.conftest import drain
from tests.webhooks.receiver import running_receiver


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured() -> Iterator[_Capture]:
    root = logging.getLogger()
    handler, level = _Capture(), root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_no_secret_reaches_the_logs(client: TestClient, tenant: Tenant, settings: Settings, captured: _Capture) -> None:
    secrets: dict[str, str] = {"api key": tenant.secret, "dsp sync secret": DSP_SYNC_SECRET}

    created = client.post("/api/v1/api-keys", json={"name": "ci", "scopes": ["releases:read"]}, headers=tenant.headers)
    assert created.status_code == 201, created.text
    secrets["created api key"] = created.json()["secret"]
    rotated = client.post(f"/api/v1/api-keys/{created.json()['id']}/rotate", json={}, headers=tenant.headers)
    assert rotated.status_code in (200, 201), rotated.text
    secrets["rotated api key"] = rotated.json()["secret"]

    with session_scope() as session:
        _account, _user, password = accounts.create_account(
            session, name="Log Test Records", email="logs@example.com", password=None
        )
        payouts.set_payout_details(session, tenant.account_id, account_holder="Log Test", iban="DE89370400440532013000")
    secrets["password"] = password
    secrets["iban"] = "DE89370400440532013000"

    refused = client.post(
        "/api/v1/webhook-endpoints",
        json={"url": "https://hook-user:UrlPassw0rd-9f2c@example.com/hook", "enabled_events": ["person.created"]},
        headers=tenant.headers,
    )
    assert refused.status_code == 422
    secrets["url password"] = "UrlPassw0rd-9f2c"

    with running_receiver() as receiver:
        url = receiver.url + "?token=QueryT0ken-5e1a77&sig=abc"
        endpoint = client.post(
            "/api/v1/webhook-endpoints", json={"url": url, "enabled_events": ["person.created"]}, headers=tenant.headers
        )
        assert endpoint.status_code == 201, endpoint.text
        secrets["signing secret"] = endpoint.json()["secret"]
        secrets["url query string"] = "QueryT0ken-5e1a77"
        person = client.post(
            "/api/v1/persons", json={"name": "Logged", "email": "l@example.com"}, headers=tenant.headers
        )
        assert person.status_code == 201
        assert drain(settings) >= 1
        assert receiver.requests, "the webhook was not delivered"

    bad = client.post(
        "/webhooks/dsp-sync",
        content=b"{}",
        headers={
            "content-type": "application/json",
            "webhook-id": "msg_1",
            "webhook-timestamp": "1",
            "webhook-signature": "v1,bm9wZQ==",
        },
    )
    assert bad.status_code in (400, 422)

    text = "\n".join(captured.lines)
    assert captured.lines, "nothing was logged: the capture is broken"
    leaked = sorted(name for name, secret in secrets.items() if secret in text)
    assert leaked == []
