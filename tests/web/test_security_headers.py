"""Every HTML page carries the security headers (issue 23): a Content-Security-Policy that forbids framing,
`X-Content-Type-Options: nosniff`, a Referrer-Policy and `X-Frame-Options`. The routes are gathered from the app
(the page modules' routes, the docs site's, and every operation of the spec that answers `text/html`), requested
signed in and out, with every method they accept; whatever answers HTML is checked, error pages included."""

import re
import secrets
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient

from server.db.engine import session_scope
from server.db.models.accounts import Account
from server.docs_site import routes as docs_routes
from server.openapi import specification
from server.services import oauth_clients
from server.web import routes as web_routes
from tests.conftest import Tenant
from tests.web.dashboard_helpers import sign_up

REDIRECT = "https://app.example.com/callback"


@pytest.fixture(autouse=True)
def _http_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    # The test app's base URL is http://testserver; authlib refuses plain HTTP except on loopback (a live server's
    # 127.0.0.1, as in tests/server/test_oauth_flow.py). Production runs behind HTTPS.
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")


def html_routes() -> Iterator[tuple[str, str]]:
    for path, methods in {**web_routes.ROUTES, **docs_routes.ROUTES}.items():
        for method in methods:
            yield method, path
    for path, item in specification.raw_document()["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            for response in operation.get("responses", {}).values():
                if "text/html" in response.get("content", {}):
                    yield method.upper(), path
                    break


def concrete(path: str) -> str:
    # A real guide; for the rest an identifier that does not exist (its not-found page is checked too).
    real = "authentication" if path.startswith("/docs") else "x1"
    return re.sub(r"\{[^}]+\}", real, path)


def assert_secure(path: str, response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    csp = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, (path, csp)
    assert "default-src" in csp, (path, csp)
    assert headers.get("x-content-type-options") == "nosniff", path
    assert headers.get("referrer-policy") in ("no-referrer", "strict-origin-when-cross-origin", "same-origin"), path
    assert headers.get("x-frame-options") == "DENY", path


@pytest.mark.parametrize("signed_in", [False, True], ids=["signed-out", "signed-in"])
def test_every_html_page_carries_the_security_headers(client: TestClient, signed_in: bool) -> None:
    if signed_in:
        sign_up(client)
    checked = set()
    for method, path in sorted(set(html_routes())):
        response = client.request(method, concrete(path), follow_redirects=False)
        assert response.status_code < 500, (method, path, response.status_code)
        if response.headers.get("content-type", "").startswith("text/html"):
            assert_secure(path, response)
            checked.add(path)
    # The pages a visitor reaches without an identifier all answered HTML (not only redirects and problems).
    expected = {"/docs", "/docs/guides", "/docs/guides/{slug}", "/signup", "/login", "/forgot-password"}
    if signed_in:
        expected |= {"/dashboard", "/dashboard/api-keys", "/dashboard/webhooks", "/dashboard/logs"}
    assert expected <= checked, expected - checked


def test_the_oauth_consent_page_and_its_error_page_carry_the_security_headers(
    client: TestClient, tenant: Tenant
) -> None:
    with session_scope() as session:
        account = session.get(Account, tenant.account_id)
        assert account is not None
        registered = oauth_clients.register(
            session,
            account=account,
            environment="sandbox",
            name="Header check",
            redirect_uris=[REDIRECT],
            public=True,
        )
        client_id = registered.client.id
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "persons:read",
        "state": secrets.token_hex(8),
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    consent = client.get("/oauth/authorize?" + urlencode(query))
    assert consent.status_code == 200, consent.text
    assert consent.headers["content-type"].startswith("text/html")
    assert_secure("/oauth/authorize", consent)
    csp = consent.headers["content-security-policy"]
    assert "unsafe-inline" not in csp  # the one inline stylesheet is allowed by its hash
    assert "form-action 'self' https://app.example.com" in csp  # the approval redirects there
    assert consent.headers["referrer-policy"] == "no-referrer"  # the URL carries the authorization request

    unknown = client.get("/oauth/authorize?" + urlencode({**query, "client_id": "cli_unknown"}))
    assert unknown.status_code == 400
    assert unknown.headers["content-type"].startswith("text/html")
    assert_secure("/oauth/authorize", unknown)
