"""The dashboard's Sandbox page over HTTP: the test clock, “Advance to” per release, triggers and the outbox."""

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlmodel import col, select
from starlette.testclient import TestClient

from server import clock
from server.db.engine import session_scope
from server.db.models.accounts import Account, User
from server.db.models.dashboard import WebSession
from server.db.models.releases import Release
from server.services import mock_data
from tests.web.dashboard_helpers import sign_up, token


@pytest.fixture
def browser(client: TestClient) -> Iterator[TestClient]:
    client.cookies.clear()
    yield client
    client.cookies.clear()


def signed_up_with_mock_data(client: TestClient) -> str:
    """A dashboard account with the sandbox's sample catalogue (the test settings turn it off for new accounts)."""
    email = sign_up(client)
    with session_scope() as session:
        user = session.exec(select(User).where(col(User.email) == email)).one()
        account = session.get(Account, user.account_id)
        assert account is not None
        mock_data.populate(session, account)
        return account.id


def sandbox_now(html: str) -> datetime:
    found = re.search(r'<time datetime="([^"]+)" data-sandbox-now>', html)
    assert found is not None
    return datetime.fromisoformat(found.group(1))


def test_the_sandbox_clock_shows_now_and_moves_forward_only(browser: TestClient) -> None:
    sign_up(browser)
    page = browser.get("/dashboard/sandbox")
    assert page.status_code == 200
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    before = sandbox_now(page.text)
    assert abs(before - clock.real_now()) < timedelta(minutes=5)  # a new account's sandbox clock is real time
    target = (before + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    moved = browser.post(
        "/dashboard/sandbox/clock", data={"csrf_token": token(browser, "/dashboard/sandbox"), "to": target}
    )
    assert moved.status_code == 200
    assert "The sandbox clock now reads" in moved.text
    assert sandbox_now(moved.text) - before > timedelta(days=2, hours=23)
    back = browser.post(
        "/dashboard/sandbox/clock",
        data={"csrf_token": token(browser, "/dashboard/sandbox"), "to": before.strftime("%Y-%m-%dT%H:%M")},
    )
    assert back.status_code == 422
    assert "move it forward" in back.text
    assert browser.post("/dashboard/sandbox/clock", data={"csrf_token": "forged", "to": target}).status_code == 403


def test_trigger_a_submission_then_advance_the_release_to_live(browser: TestClient) -> None:
    account_id = signed_up_with_mock_data(browser)
    page = browser.get("/dashboard/sandbox")
    assert '<option value="release.submitted">' in page.text
    triggered = browser.post(
        "/dashboard/sandbox/trigger",
        data={"csrf_token": token(browser, "/dashboard/sandbox"), "event": "release.submitted", "resource_id": ""},
    )
    assert triggered.status_code == 200, triggered.text
    assert "Triggered release.submitted" in triggered.text
    with session_scope() as session:
        submitted = session.exec(
            select(Release).where(col(Release.account_id) == account_id, col(Release.status) == "submitted")
        ).first()
        assert submitted is not None
    assert f"/dashboard/sandbox/releases/{submitted.id}/advance" in triggered.text
    advanced = browser.post(
        f"/dashboard/sandbox/releases/{submitted.id}/advance",
        data={"csrf_token": token(browser, "/dashboard/sandbox"), "to": "live"},
    )
    assert advanced.status_code == 200, advanced.text
    assert "went through" in advanced.text
    with session_scope() as session:
        assert session.get(Release, submitted.id).status == "live"  # type: ignore[union-attr]
    again = browser.post(
        f"/dashboard/sandbox/releases/{submitted.id}/advance",
        data={"csrf_token": token(browser, "/dashboard/sandbox"), "to": "in_review"},
    )
    assert again.status_code == 409


def test_the_outbox_lists_captured_invitations_with_their_links(browser: TestClient) -> None:
    signed_up_with_mock_data(browser)
    page = browser.get("/dashboard/sandbox")
    assert "Outbox" in page.text
    assert re.search(r'<a href="https?://[^"]+/invitations/[^"]+">Open the invitation</a>', page.text), page.text


def test_the_sandbox_tools_refuse_production(browser: TestClient) -> None:
    email = sign_up(browser)
    with session_scope() as session:
        user = session.exec(select(User).where(col(User.email) == email)).one()
        for web_session in session.exec(select(WebSession).where(col(WebSession.user_id) == user.id)).all():
            web_session.environment = "production"
            session.add(web_session)
    page = browser.get("/dashboard/sandbox")
    assert "exist only in the sandbox" in page.text
    refused = browser.post(
        "/dashboard/sandbox/trigger",
        data={"csrf_token": token(browser, "/dashboard/sandbox"), "event": "release.submitted"},
    )
    assert refused.status_code == 403
