"""The OAuth apps page over HTTP: register an application, a person authorises it (the real consent page and token
endpoint), the developer sees them among the authorised users and revokes their grant; secret rotation."""

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from starlette.testclient import TestClient

from server.db.engine import session_scope
from server.db.models.oauth import OAuthClient
from server.services import accounts, oauth_clients
from tests.web.dashboard_helpers import PASSWORD, sign_up, token

REDIRECT = "http://127.0.0.1/callback"


@pytest.fixture
def browser(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    # The test settings' base URL is http://testserver, and Authlib refuses OAuth over plain HTTP off loopback.
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    client.cookies.clear()
    yield client
    client.cookies.clear()


def _register(browser: TestClient, *, public: bool = False) -> tuple[str, str | None]:
    answer = browser.post(
        "/dashboard/oauth-apps",
        data={
            "csrf_token": token(browser, "/dashboard/oauth-apps"),
            "name": "CRM Sync",
            "redirect_uris": REDIRECT + "\n",
            "client_type": "public" if public else "confidential",
            "scopes": ["persons:read"],
        },
    )
    assert answer.status_code == 200, answer.text
    client_id = re.search(r"data-client-id>(cli_[a-z0-9]+)<", answer.text)
    secret = re.search(r"data-secret>(ogcs_[A-Za-z0-9_-]+)<", answer.text)
    assert client_id is not None
    return client_id.group(1), secret.group(1) if secret else None


def _access_token(browser: TestClient, client_id: str, client_secret: str, email: str) -> str:
    """What the person's browser and the application's server do: consent, then the code exchange (PKCE S256)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "scope": "persons:read",
            "state": "s1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    page = browser.get(f"/oauth/authorize?{query}")
    assert page.status_code == 200, page.text
    fields = {
        unescape(k): unescape(v)
        for k, v in re.findall(r"<input type=hidden name='([^']*)' value='([^']*)'>", page.text)
    }
    fields.update({"email": email, "password": PASSWORD, "decision": "approve"})
    consent = browser.post("/oauth/authorize", data=fields, follow_redirects=False)
    assert consent.status_code == 302, consent.text
    code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
    tokens = browser.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier},
        auth=(client_id, client_secret),
    )
    assert tokens.status_code == 200, tokens.text
    return str(tokens.json()["access_token"])


def test_register_authorise_see_and_revoke_a_user(browser: TestClient) -> None:
    developer = sign_up(browser)
    client_id, client_secret = _register(browser)
    assert client_secret is not None
    assert "Nobody has authorised this application yet." in browser.get(f"/dashboard/oauth-apps/{client_id}").text

    owner = f"owner-{secrets.token_hex(4)}@example.com"
    with session_scope() as session:
        accounts.create_account(session, name="Mara Lindqvist", email=owner, password=PASSWORD)
    browser.cookies.clear()
    access = _access_token(browser, client_id, client_secret, owner)
    assert browser.get("/api/v1/persons", headers={"Authorization": f"Bearer {access}"}).status_code == 200

    browser.cookies.clear()
    browser.post("/login", data={"csrf_token": token(browser, "/login"), "email": developer, "password": PASSWORD})
    app_page = browser.get(f"/dashboard/oauth-apps/{client_id}")
    assert owner in app_page.text
    revoke_link = re.search(rf'href="(/dashboard/oauth-apps/{client_id}/users/usr_[a-z0-9]+/revoke)"', app_page.text)
    assert revoke_link is not None
    assert "Revoke the access of" in browser.get(revoke_link.group(1)).text
    browser.post(revoke_link.group(1), data={"csrf_token": token(browser, "/dashboard/oauth-apps")})
    assert browser.get("/api/v1/persons", headers={"Authorization": f"Bearer {access}"}).status_code == 401
    assert owner not in browser.get(f"/dashboard/oauth-apps/{client_id}").text


def test_rotating_the_client_secret_replaces_it(browser: TestClient) -> None:
    sign_up(browser)
    client_id, first = _register(browser)
    rotated = browser.post(
        f"/dashboard/oauth-apps/{client_id}/rotate-secret", data={"csrf_token": token(browser, "/dashboard/oauth-apps")}
    )
    second = re.search(r"data-secret>(ogcs_[A-Za-z0-9_-]+)<", rotated.text)
    assert second is not None
    assert second.group(1) != first
    assert "The previous secret no longer works." in rotated.text
    with session_scope() as session:
        stored = session.get(OAuthClient, client_id)
        assert stored is not None
        assert not oauth_clients.check_secret(stored, first or "")
        assert oauth_clients.check_secret(stored, second.group(1))


def test_a_public_client_has_no_secret_and_bad_redirects_are_refused(browser: TestClient) -> None:
    sign_up(browser)
    client_id, secret = _register(browser, public=True)
    assert secret is None
    assert "Rotate secret" not in browser.get(f"/dashboard/oauth-apps/{client_id}").text
    bad = browser.post(
        "/dashboard/oauth-apps",
        data={
            "csrf_token": token(browser, "/dashboard/oauth-apps"),
            "name": "Bad",
            "redirect_uris": "http://example.com/cb",
            "client_type": "confidential",
            "scopes": ["persons:read"],
        },
    )
    assert bad.status_code == 422
    assert "Redirect URIs must be https" in bad.text
