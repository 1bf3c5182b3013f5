"""The dashboard over HTTP (no browser): sign-up, sign-in, sessions, CSRF, throttling, API keys, the request log.

The same flows in a real Chromium, with the accessibility scan, are in `test_dashboard_browser.py`.
"""

import hashlib
import json
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server import clock
from server.config import Settings
from server.db.engine import session_scope
from server.db.models.dashboard import ProductionAccessRequest, RequestLogEntry, WebSession
from server.principal import Principal
from server.ratelimit.limiter import RateLimiter
from server.ratelimit.stores import MemoryStore
from server.services import production_access, request_log
from server.state import use
from server.web import csrf
from server.web.dashboard import throttle
from tests.conftest import Tenant, server_env
from tests.web.dashboard_helpers import PASSWORD, secret_of, sign_up, token


@pytest.fixture
def browser(client: TestClient) -> Iterator[TestClient]:
    """A client with its own cookie jar, like a browser (the shared client may carry another test's cookies)."""
    client.cookies.clear()
    yield client
    client.cookies.clear()


def _flush(client: TestClient) -> None:
    """Write the request log entries the app under test holds (each app has its own writer)."""
    with use(client.app.state):  # type: ignore[attr-defined]
        request_log.flush()


def test_root_sends_a_stranger_to_sign_in_and_a_signed_in_person_to_the_dashboard(browser: TestClient) -> None:
    assert browser.get("/", follow_redirects=False).headers["location"] == "/login"
    assert browser.get("/dashboard", follow_redirects=False).headers["location"] == "/login"
    sign_up(browser)
    assert browser.get("/", follow_redirects=False).headers["location"] == "/dashboard"


def test_sign_up_creates_the_account_signs_in_and_sets_a_safe_session_cookie(browser: TestClient) -> None:
    page = browser.get("/signup")
    for label in ("Name", "Email", "Password"):
        assert f">{label}</label>" in page.text
    assert "Create account" in page.text
    answer = browser.post(
        "/signup",
        data={
            "csrf_token": token(browser, "/signup"),
            "name": "Night Owl Records",
            "email": f"Owl-{secrets.token_hex(4)}@Example.com",
            "password": PASSWORD,
            "kind": "label",
        },
        follow_redirects=False,
    )
    cookie = next(value for value in answer.headers.get_list("set-cookie") if value.startswith("og_session="))
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    raw = cookie.split(";")[0].split("=", 1)[1]
    with session_scope() as session:
        stored = list(session.exec(select(WebSession)).all())
    assert raw not in {row.id_hash for row in stored}  # only a hash of the id is kept
    home = browser.get("/dashboard")
    assert home.status_code == 200
    assert "Night Owl Records" in home.text
    assert home.headers["cache-control"] == "no-store"
    assert "unsafe-inline" not in home.headers["content-security-policy"]


def test_sign_up_refuses_a_short_password_and_a_taken_email_without_creating_anything(browser: TestClient) -> None:
    email = sign_up(browser)
    browser.cookies.clear()
    short = browser.post(
        "/signup",
        data={"csrf_token": token(browser, "/signup"), "name": "A", "email": "a@example.com", "password": "short"},
    )
    assert short.status_code == 422
    assert "at least 10 characters" in short.text
    long = browser.post(
        "/signup",
        data={"csrf_token": token(browser, "/signup"), "name": "A", "email": "a@example.com", "password": "p" * 300},
    )
    assert long.status_code == 422
    assert "at most 256 characters" in long.text
    taken = browser.post(
        "/signup",
        data={
            "csrf_token": token(browser, "/signup"),
            "name": "B",
            "email": email,
            "password": PASSWORD,
            "kind": "artist",
        },
    )
    assert taken.status_code == 409
    assert "exists already" in taken.text
    assert browser.get("/dashboard", follow_redirects=False).status_code == 303


def test_every_form_needs_the_csrf_token_and_a_same_origin_post(browser: TestClient) -> None:
    token(browser, "/signup")  # the cookie is set
    data = {"name": "X", "email": "x@example.com", "password": PASSWORD, "kind": "artist"}
    assert browser.post("/signup", data={**data, "csrf_token": "x" * 43}).status_code == 403
    cookie = browser.cookies.get(csrf.COOKIE)
    assert cookie
    foreign = browser.post("/signup", data={**data, "csrf_token": cookie}, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403


def test_log_in_and_log_out(browser: TestClient) -> None:
    email = sign_up(browser)
    logout = browser.post("/logout", data={"csrf_token": token(browser, "/dashboard")}, follow_redirects=False)
    assert logout.headers["location"] == "/login"
    assert browser.get("/dashboard", follow_redirects=False).status_code == 303
    wrong = browser.post("/login", data={"csrf_token": token(browser, "/login"), "email": email, "password": "nope"})
    unknown = browser.post(
        "/login", data={"csrf_token": token(browser, "/login"), "email": "who@example.com", "password": "nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert "The email or password is not right." in wrong.text
    assert "The email or password is not right." in unknown.text
    ok = browser.post(
        "/login",
        data={"csrf_token": token(browser, "/login"), "email": email.upper(), "password": PASSWORD},
        follow_redirects=False,
    )
    assert ok.headers["location"] == "/dashboard"
    assert browser.get("/dashboard").status_code == 200


def test_a_signed_out_session_id_no_longer_works_even_if_replayed(browser: TestClient) -> None:
    sign_up(browser)
    raw = browser.cookies.get("og_session")
    browser.post("/logout", data={"csrf_token": token(browser, "/dashboard")})
    browser.cookies.set("og_session", raw or "")
    assert browser.get("/dashboard", follow_redirects=False).status_code == 303


def test_an_idle_session_expires(browser: TestClient) -> None:
    sign_up(browser)
    with clock.shifted(timedelta(hours=11)):
        assert browser.get("/dashboard", follow_redirects=False).status_code == 200  # and it counts as activity
    with clock.shifted(timedelta(hours=22)):
        assert browser.get("/dashboard", follow_redirects=False).status_code == 200
    with clock.shifted(timedelta(hours=35)):
        assert browser.get("/dashboard", follow_redirects=False).status_code == 303


def test_sessions_end_after_seven_days_even_when_used_and_are_purged_at_a_later_sign_in(browser: TestClient) -> None:
    sign_up(browser)
    raw = browser.cookies.get("og_session") or ""
    for hours in range(10, 24 * 7, 10):
        with clock.shifted(timedelta(hours=hours)):
            assert browser.get("/dashboard", follow_redirects=False).status_code == 200
    with clock.shifted(timedelta(days=7, minutes=1)):
        assert browser.get("/dashboard", follow_redirects=False).status_code == 303
    browser.cookies.clear()
    browser.cookies.set("og_session", raw)
    with clock.shifted(timedelta(days=8)):
        sign_up(browser)  # another person signs in: the stale row goes
    with session_scope() as session:
        assert session.get(WebSession, hashlib.sha256(raw.encode()).hexdigest()) is None


def test_sign_in_is_throttled_per_account(browser: TestClient) -> None:
    email = sign_up(browser)
    browser.cookies.clear()
    throttle.use(RateLimiter(MemoryStore()))  # the published budgets, not the test settings' multiplier
    try:
        answers = [
            browser.post(
                "/login", data={"csrf_token": token(browser, "/login"), "email": email, "password": "wrong"}
            ).status_code
            for _ in range(throttle.PER_ACCOUNT.burst + 1)
        ]
        assert answers[:-1] == [401] * throttle.PER_ACCOUNT.burst
        assert answers[-1] == 429
        # Even the right password waits: the budget protects the account, not the guess.
        right = browser.post(
            "/login", data={"csrf_token": token(browser, "/login"), "email": email, "password": PASSWORD}
        )
        assert right.status_code == 429
        assert int(right.headers["retry-after"]) >= 1
    finally:
        throttle.use(None)


def test_api_keys_create_rotate_revoke_and_the_request_log(browser: TestClient) -> None:
    sign_up(browser)
    created = browser.post(
        "/dashboard/api-keys",
        data={
            "csrf_token": token(browser, "/dashboard/api-keys"),
            "name": "CI deploys",
            "scopes": ["releases:read", "persons:read"],
        },
    )
    assert created.status_code == 200
    first = secret_of(created.text)
    assert first.startswith("og_test_")
    # Shown once: the list page never shows it again.
    assert first not in browser.get("/dashboard/api-keys").text
    assert browser.get("/api/v1/releases", headers={"Authorization": f"Bearer {first}"}).status_code == 200
    assert browser.get("/api/v1/splits", headers={"Authorization": f"Bearer {first}"}).status_code == 403

    key_id = re.search(r"/dashboard/api-keys/(key_[a-z0-9]+)/rotate", created.text)
    assert key_id is not None
    confirm = browser.get(f"/dashboard/api-keys/{key_id.group(1)}/rotate")
    assert "keeps working for 7 days" in confirm.text
    rotated = browser.post(
        f"/dashboard/api-keys/{key_id.group(1)}/rotate", data={"csrf_token": token(browser, "/dashboard/api-keys")}
    )
    second = secret_of(rotated.text)
    assert second != first
    grace_end = (clock.now() + timedelta(days=7)).strftime("%Y-%m-%d")
    assert f"data-grace-end>{grace_end}<" in rotated.text
    for secret in (first, second):
        assert browser.get("/api/v1/releases", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    with clock.shifted(timedelta(days=7, minutes=1)):
        assert browser.get("/api/v1/releases", headers={"Authorization": f"Bearer {first}"}).status_code == 401

    revoked = browser.post(
        f"/dashboard/api-keys/{key_id.group(1)}/revoke", data={"csrf_token": token(browser, "/dashboard/api-keys")}
    )
    assert "“CI deploys” was revoked" in revoked.text
    for secret in (first, second):
        assert browser.get("/api/v1/releases", headers={"Authorization": f"Bearer {secret}"}).status_code == 401

    _flush(browser)
    log = browser.get("/dashboard/logs")
    assert log.text.count("/api/v1/releases") >= 3
    assert "insufficient_scope" in log.text
    assert log.text.count("<code>api_key_revoked</code>") == 2  # refused calls of a known key are the owner's too
    assert "CI deploys <code>key_" in log.text  # the credential by name
    errors = browser.get("/dashboard/logs", params={"status": "4xx"})
    assert "/api/v1/splits" in errors.text
    assert "status-2xx" not in errors.text
    assert "status-4xx" in errors.text
    forbidden = browser.get("/dashboard/logs", params={"status": "403", "path": "/splits"})
    entry = re.search(r'href="(/dashboard/logs/\d+)"', forbidden.text)
    assert entry is not None
    detail = browser.get(entry.group(1))
    assert "Problem document" in detail.text
    assert "insufficient_scope" in detail.text
    request_id = re.search(r'data-request-id="([^"]+)"', forbidden.text)
    assert request_id is not None
    by_id = browser.get("/dashboard/logs", params={"request_id": request_id.group(1)})
    assert by_id.text.count("data-request-id=") == 1


def test_the_request_log_keeps_seven_days_and_shows_only_the_own_account(browser: TestClient, tenant: Tenant) -> None:
    browser.get("/api/v1/releases", headers=tenant.headers)
    _flush(browser)

    def kept() -> int:
        with session_scope() as session:
            rows = session.exec(select(RequestLogEntry).where(RequestLogEntry.account_id == tenant.account_id))
            return len(rows.all())

    assert kept() == 1
    sign_up(browser)
    assert "data-request-id=" not in browser.get("/dashboard/logs").text  # another account's requests
    request_log.purge()
    assert kept() == 1  # younger than 7 days
    with clock.shifted(timedelta(days=7, seconds=1)):
        request_log.purge()
    assert kept() == 0


def test_entries_past_the_retention_are_not_shown_even_before_the_purge_ran(
    browser: TestClient, tenant: Tenant
) -> None:
    browser.get("/api/v1/persons", headers=tenant.headers)
    _flush(browser)
    principal = Principal(tenant.account_id, "sandbox", frozenset(), tenant.key_id, "api_key")
    with session_scope() as session:
        assert [entry.path for entry in request_log.entries(session, principal, request_log.Search())] == [
            "/api/v1/persons"
        ]
        with clock.shifted(timedelta(days=7, seconds=1)):
            assert list(request_log.entries(session, principal, request_log.Search())) == []


def test_a_key_page_of_another_account_is_not_found(browser: TestClient, tenant: Tenant) -> None:
    sign_up(browser)
    assert browser.get(f"/dashboard/api-keys/{tenant.key_id}/revoke").status_code == 404


def test_production_needs_access_and_the_request_reaches_the_operator(browser: TestClient) -> None:
    sign_up(browser)
    switch = browser.post(
        "/dashboard/environment",
        data={"csrf_token": token(browser, "/dashboard"), "environment": "production", "back": "/dashboard"},
        follow_redirects=False,
    )
    assert switch.headers["location"] == "/dashboard/production-access"
    sent = browser.post(
        "/dashboard/production-access",
        data={
            "csrf_token": token(browser, "/dashboard/production-access"),
            "use_case": "Delivering our label's catalogue from our own release tool.",
            "expected_volume": "40 releases a month",
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert "is with our team" in browser.get("/dashboard/production-access").text
    with session_scope() as session:
        waiting = production_access.open_requests(session)
        assert any(req.expected_volume == "40 releases a month" for req, _account, _user in waiting)
        assert session.exec(select(ProductionAccessRequest)).first() is not None


def test_the_operator_lists_the_request_and_grants_production(browser: TestClient, settings: Settings) -> None:
    sign_up(browser)
    browser.post(
        "/dashboard/production-access",
        data={
            "csrf_token": token(browser, "/dashboard/production-access"),
            "use_case": "Royalty statements for our artists' own app.",
            "expected_volume": "3 million API calls a month",
        },
    )
    env = server_env(settings.data_dir, settings.database_url)
    listed = subprocess.run(
        [sys.executable, "-m", "server.cli", "accounts", "requests", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    mine = [item for item in json.loads(listed.stdout)["requests"] if item["expected_volume"].startswith("3 million")]
    assert len(mine) == 1
    account_id = mine[0]["account"]["id"]
    subprocess.run(
        [sys.executable, "-m", "server.cli", "accounts", "grant-production", account_id],
        env=env,
        capture_output=True,
        timeout=120,
        check=True,
    )
    again = subprocess.run(
        [sys.executable, "-m", "server.cli", "accounts", "requests", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert account_id not in again.stdout
    switched = browser.post(
        "/dashboard/environment",
        data={"csrf_token": token(browser, "/dashboard"), "environment": "production", "back": "/dashboard/api-keys"},
        follow_redirects=False,
    )
    assert switched.headers["location"] == "/dashboard/api-keys"
    created = browser.post(
        "/dashboard/api-keys",
        data={"csrf_token": token(browser, "/dashboard/api-keys"), "name": "live", "scopes": ["releases:read"]},
    )
    assert secret_of(created.text).startswith("og_live_")
