"""The dashboard's webhooks pages over HTTP: endpoints, the signing secret, the delivery log, resend, recovery, the
event catalogue. (In a real browser with the accessibility scan: `test_dashboard_browser.py`.)"""

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from server.openapi.specification import raw_document
from tests.web.dashboard_helpers import sign_up, token
from tests.webhooks.receiver import running_receiver

SECRET = re.compile(r"data-secret>(whsec_[A-Za-z0-9+/=]+)<")


@pytest.fixture
def browser(client: TestClient) -> Iterator[TestClient]:
    client.cookies.clear()
    yield client
    client.cookies.clear()


def _signed_by(secret: str, headers: dict[str, str], body: bytes) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(part.split(",", 1)[1] == expected for part in headers["webhook-signature"].split())


def _endpoint_id(html: str) -> str:
    found = re.search(r'action="/dashboard/webhooks/(we_[a-z0-9]+)/secret"', html)
    assert found is not None
    return found.group(1)


def test_an_endpoint_from_creation_to_deletion(browser: TestClient) -> None:
    sign_up(browser)
    with running_receiver() as receiver:
        created = browser.post(
            "/dashboard/webhooks",
            data={
                "csrf_token": token(browser, "/dashboard/webhooks"),
                "url": receiver.url,
                "description": "Staging",
                "events": ["release.created", "release.submitted"],
            },
        )
        assert created.status_code == 200, created.text
        first = SECRET.search(created.text)
        assert first is not None
        endpoint_id = _endpoint_id(created.text)
        assert receiver.url in browser.get("/dashboard/webhooks").text

        revealed = browser.post(
            f"/dashboard/webhooks/{endpoint_id}/secret", data={"csrf_token": token(browser, "/dashboard/webhooks")}
        )
        assert SECRET.search(revealed.text).group(1) == first.group(1)  # type: ignore[union-attr]

        tested = browser.post(
            f"/dashboard/webhooks/{endpoint_id}/test", data={"csrf_token": token(browser, "/dashboard/webhooks")}
        )
        assert "Test event sent: succeeded (HTTP 200)" in tested.text
        (delivered,) = receiver.wait_for(1)
        assert json.loads(delivered.body)["type"] == "webhook.test"
        assert _signed_by(first.group(1), delivered.headers, delivered.body)
        assert "webhook.test" in tested.text  # in the delivery log, with the request body
        assert delivered.headers["webhook-id"] in tested.text

        rotated = browser.post(
            f"/dashboard/webhooks/{endpoint_id}/rotate-secret",
            data={"csrf_token": token(browser, "/dashboard/webhooks")},
        )
        second = SECRET.search(rotated.text)
        assert second is not None
        assert second.group(1) != first.group(1)
        assert "The previous secret still signs every delivery until" in rotated.text

        resent = browser.post(
            f"/dashboard/webhooks/{endpoint_id}/resend",
            data={"csrf_token": token(browser, "/dashboard/webhooks"), "event_id": delivered.headers["webhook-id"]},
        )
        assert "is scheduled to be sent again" in resent.text
        assert "(resend)" in resent.text

        recovered = browser.post(
            f"/dashboard/webhooks/{endpoint_id}/recover",
            data={"csrf_token": token(browser, "/dashboard/webhooks"), "hours": "24"},
        )
        assert "event(s) scheduled to be sent again" in recovered.text

    edited = browser.post(
        f"/dashboard/webhooks/{endpoint_id}",
        data={
            "csrf_token": token(browser, "/dashboard/webhooks"),
            "url": "https://hooks.example.com/og",
            "all_events": "1",
        },
    )
    assert edited.status_code == 200, edited.text
    assert "Saved." in edited.text
    disabled = browser.post(
        f"/dashboard/webhooks/{endpoint_id}/status",
        data={"csrf_token": token(browser, "/dashboard/webhooks"), "status": "disabled"},
    )
    assert "The endpoint is disabled." in disabled.text
    refused = browser.post(
        f"/dashboard/webhooks/{endpoint_id}/recover",
        data={"csrf_token": token(browser, "/dashboard/webhooks"), "hours": "1"},
    )
    assert refused.status_code == 409
    enabled = browser.post(
        f"/dashboard/webhooks/{endpoint_id}/status",
        data={"csrf_token": token(browser, "/dashboard/webhooks"), "status": "enabled"},
    )
    assert "The endpoint is enabled." in enabled.text
    assert "Delete this endpoint?" in browser.get(f"/dashboard/webhooks/{endpoint_id}/delete").text
    gone = browser.post(
        f"/dashboard/webhooks/{endpoint_id}/delete",
        data={"csrf_token": token(browser, "/dashboard/webhooks")},
        follow_redirects=False,
    )
    assert gone.headers["location"] == "/dashboard/webhooks"
    assert browser.get(f"/dashboard/webhooks/{endpoint_id}").status_code == 404


def test_a_private_address_is_refused_with_the_reason(browser: TestClient) -> None:
    sign_up(browser)
    answer = browser.post(
        "/dashboard/webhooks",
        data={"csrf_token": token(browser, "/dashboard/webhooks"), "url": "http://10.0.0.1/hook", "all_events": "1"},
    )
    assert answer.status_code == 422
    assert 'aria-invalid="true"' in answer.text
    assert "data-secret" not in answer.text


def test_the_event_catalogue_lists_every_event_of_the_spec_with_its_example(browser: TestClient) -> None:
    sign_up(browser)
    page = browser.get("/dashboard/webhooks/event-catalogue")
    for event_type in raw_document()["webhooks"]:
        assert f'id="{event_type}"' in page.text
    assert "evt_01jc3md0a1b2c3d4e5f6g7h8j9" in page.text  # release.created's example
    assert "<code>primary_artists</code>" in page.text  # a field of the Release schema


def test_another_accounts_endpoint_is_not_found(browser: TestClient) -> None:
    sign_up(browser)
    with running_receiver() as receiver:
        created = browser.post(
            "/dashboard/webhooks",
            data={"csrf_token": token(browser, "/dashboard/webhooks"), "url": receiver.url, "all_events": "1"},
        )
    endpoint_id = _endpoint_id(created.text)
    browser.cookies.clear()
    sign_up(browser)
    assert browser.get(f"/dashboard/webhooks/{endpoint_id}").status_code == 404
    stolen = browser.post(
        f"/dashboard/webhooks/{endpoint_id}/secret", data={"csrf_token": token(browser, "/dashboard/webhooks")}
    )
    assert stolen.status_code == 404
