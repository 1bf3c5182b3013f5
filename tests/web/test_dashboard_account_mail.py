"""The dashboard's account emails over HTTP: password reset, email verification, the production-access email."""

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import col, select
from starlette.testclient import TestClient

from server import clock
from server.config import Settings
from server.db.engine import session_scope
from server.db.models.accounts import User
from server.db.models.dashboard import UserToken
from server.db.models.mail import OutboundMessage
from server.ratelimit.limiter import RateLimiter
from server.ratelimit.stores import MemoryStore
from server.services import production_access
from server.web.dashboard import throttle
from tests.conftest import server_env
from tests.web.dashboard_helpers import PASSWORD, sign_up, token

NEW_PASSWORD = "a much longer new passphrase"


@pytest.fixture
def browser(client: TestClient) -> Iterator[TestClient]:
    client.cookies.clear()
    yield client
    client.cookies.clear()


def mails_to(email: str, kind: str) -> list[OutboundMessage]:
    with session_scope() as session:
        statement = select(OutboundMessage).where(
            col(OutboundMessage.recipient) == email.lower(), col(OutboundMessage.kind) == kind
        )
        return list(session.exec(statement.order_by(col(OutboundMessage.id))).all())


def link_in(message: OutboundMessage, path: str) -> str:
    found = re.search(rf"https?://[^\s]+({re.escape(path)}[A-Za-z0-9_-]+)", message.text_body)
    assert found is not None, message.text_body
    return found.group(1)


def ask_for_reset(client: TestClient, email: str) -> int:
    return client.post(
        "/forgot-password", data={"csrf_token": token(client, "/forgot-password"), "email": email}
    ).status_code


def log_in(client: TestClient, email: str, password: str) -> int:
    return client.post(
        "/login",
        data={"csrf_token": token(client, "/login"), "email": email, "password": password},
        follow_redirects=False,
    ).status_code


def test_a_forgotten_password_is_reset_through_the_emailed_link_which_ends_every_other_session(
    client: TestClient,
) -> None:
    email = sign_up(client)
    other_browser = client.cookies.get("og_session") or ""
    client.cookies.clear()
    assert 'href="/forgot-password"' in client.get("/login").text
    answer = client.post("/forgot-password", data={"csrf_token": token(client, "/forgot-password"), "email": email})
    assert answer.status_code == 200
    assert "we just emailed it a link" in answer.text
    [mail] = mails_to(email, "password_reset")
    assert mail.environment == "production"  # the platform's own mail is sent, never captured like the sandbox's
    path = link_in(mail, "/reset-password/")
    raw = path.rsplit("/", 1)[1]
    with session_scope() as session:
        assert raw not in {row.id_hash for row in session.exec(select(UserToken)).all()}  # only a hash is kept

    form = client.get(path)
    assert form.status_code == 200
    assert form.headers["referrer-policy"] == "no-referrer"
    assert "unsafe-inline" not in form.headers["content-security-policy"]
    short = client.post(path, data={"csrf_token": token(client, path), "password": "short"})
    assert short.status_code == 422
    assert "at least 10 characters" in short.text
    done = client.post(path, data={"csrf_token": token(client, path), "password": NEW_PASSWORD}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == "/dashboard"
    assert client.get("/dashboard", follow_redirects=False).status_code == 200  # this browser is signed in

    # The browser signed in before the reset is signed out; the old password no longer works, the new one does.
    client.cookies.clear()
    client.cookies.set("og_session", other_browser)
    assert client.get("/dashboard", follow_redirects=False).status_code == 303
    client.cookies.clear()
    assert log_in(client, email, PASSWORD) == 401
    assert log_in(client, email, NEW_PASSWORD) == 303

    # Single use: the link is spent.
    client.cookies.clear()
    assert client.get(path).status_code == 410
    spent = client.post(path, data={"csrf_token": token(client, "/login"), "password": "yet another passphrase"})
    assert spent.status_code == 410
    assert log_in(client, email, NEW_PASSWORD) == 303


def test_the_reset_link_expires_after_an_hour_and_a_newer_link_voids_the_older(browser: TestClient) -> None:
    email = sign_up(browser)
    browser.cookies.clear()
    ask_for_reset(browser, email)
    ask_for_reset(browser, email)
    first, second = (link_in(mail, "/reset-password/") for mail in mails_to(email, "password_reset"))
    assert browser.get(first).status_code == 410
    with clock.shifted(timedelta(minutes=59)):
        assert browser.get(second).status_code == 200
    with clock.shifted(timedelta(minutes=61)):
        assert browser.get(second).status_code == 410
        late = browser.post(second, data={"csrf_token": token(browser, "/login"), "password": NEW_PASSWORD})
        assert late.status_code == 410
    assert log_in(browser, email, PASSWORD) == 303


def test_asking_for_a_reset_tells_nothing_about_who_has_an_account(browser: TestClient) -> None:
    email = sign_up(browser)
    browser.cookies.clear()
    known = browser.post("/forgot-password", data={"csrf_token": token(browser, "/forgot-password"), "email": email})
    stranger = "nobody-here@example.com"
    unknown = browser.post(
        "/forgot-password", data={"csrf_token": token(browser, "/forgot-password"), "email": stranger}
    )
    assert known.status_code == unknown.status_code == 200
    assert _same_but_tokens(known.text.replace(email, "X"), unknown.text.replace(stranger, "X"))
    assert mails_to(stranger, "password_reset") == []


def _same_but_tokens(first: str, second: str) -> bool:
    strip = re.compile(r'(csrf_token" value="|csrf-token" content=")[^"]+')
    return strip.sub("", first) == strip.sub("", second)


def test_asking_for_resets_is_throttled_like_sign_in(browser: TestClient) -> None:
    email = sign_up(browser)
    browser.cookies.clear()
    throttle.use(RateLimiter(MemoryStore()))
    try:
        answers = [ask_for_reset(browser, email) for _ in range(throttle.PER_ACCOUNT.burst + 1)]
        assert answers[:-1] == [200] * throttle.PER_ACCOUNT.burst
        assert answers[-1] == 429
        assert len(mails_to(email, "password_reset")) == throttle.PER_ACCOUNT.burst
    finally:
        throttle.use(None)


def test_the_access_log_never_shows_a_reset_link() -> None:
    from server.middleware import _redacted

    assert _redacted("/reset-password/abc123") == "/reset-password/[redacted]"
    assert _redacted("/verify-email/abc123") == "/verify-email/[redacted]"


def test_sign_up_emails_a_verification_link_and_the_dashboard_asks_until_it_is_opened(browser: TestClient) -> None:
    email = sign_up(browser)
    [mail] = mails_to(email, "verify_email")
    path = link_in(mail, "/verify-email/")
    home = browser.get("/dashboard")
    assert "Please confirm your email address" in home.text
    assert "Send the link again" in home.text
    assert browser.get("/dashboard/api-keys").status_code == 200  # nothing waits for the verification

    confirmed = browser.get(path)
    assert confirmed.status_code == 200
    assert f"{email} is confirmed" in confirmed.text
    assert "Please confirm your email address" not in browser.get("/dashboard").text
    assert browser.get(path).status_code == 410  # single use


def test_the_resend_button_sends_a_new_link_that_voids_the_older_one(browser: TestClient) -> None:
    email = sign_up(browser)
    resent = browser.post("/dashboard/verify-email", data={"csrf_token": token(browser, "/dashboard")})
    assert resent.status_code == 200
    assert f"We sent a new confirmation link to {email}" in resent.text
    first, second = (link_in(mail, "/verify-email/") for mail in mails_to(email, "verify_email"))
    assert browser.get(first).status_code == 410
    with clock.shifted(timedelta(days=8)):
        assert browser.get(second).status_code == 410  # a week, then it expires
    assert browser.get(second).status_code == 200
    assert browser.post("/dashboard/verify-email", data={"csrf_token": "forged"}).status_code == 403


def test_a_german_browser_gets_the_german_email(browser: TestClient) -> None:
    browser.headers["Accept-Language"] = "de-DE,de;q=0.9,en;q=0.5"
    try:
        email = sign_up(browser)
    finally:
        del browser.headers["Accept-Language"]
    [mail] = mails_to(email, "verify_email")
    assert mail.subject == "Bestätigen Sie Ihre E-Mail-Adresse für OG Records"


def test_granting_production_emails_the_person_who_asked_once(browser: TestClient, settings: Settings) -> None:
    email = sign_up(browser)
    browser.post(
        "/dashboard/production-access",
        data={
            "csrf_token": token(browser, "/dashboard/production-access"),
            "use_case": "Royalty statements for our artists' own app.",
            "expected_volume": "12 releases a month",
        },
    )
    assert mails_to(email, "production_access_granted") == []
    with session_scope() as session:
        account_id = session.exec(select(User).where(col(User.email) == email)).one().account_id
    subprocess.run(
        [sys.executable, "-m", "server.cli", "accounts", "grant-production", account_id],
        env=server_env(settings.data_dir, settings.database_url),
        capture_output=True,
        timeout=120,
        check=True,
    )
    [mail] = mails_to(email, "production_access_granted")
    assert mail.subject == "Production access granted for Night Owl Records"
    assert "/dashboard" in mail.text_body
    assert mail.status in {"local", "queued"}  # the platform's mail: sent (or kept for the operator), not captured
    with session_scope() as session:
        production_access.grant(session, account_id)  # granting again is not news
    assert len(mails_to(email, "production_access_granted")) == 1


def test_granting_production_without_a_request_emails_no_one(browser: TestClient) -> None:
    email = sign_up(browser)
    with session_scope() as session:
        user = session.exec(select(User).where(col(User.email) == email)).one()
        production_access.grant(session, user.account_id)
    assert mails_to(email, "production_access_granted") == []
