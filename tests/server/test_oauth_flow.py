"""The OAuth 2.0 authorization server, driven end to end by a real OAuth client library (Authlib's httpx client)
against a running server: sign-in and consent, PKCE, code exchange, refresh rotation with reuse detection,
revocation, introspection, metadata."""

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from tests.conftest import LiveServer, free_port, server_env, start_server, stop_server

REDIRECT = "http://127.0.0.1/callback"


@dataclass
class Setup:
    server: LiveServer
    client_id: str
    client_secret: str
    public_client_id: str
    other_client_id: str
    other_client_secret: str
    email: str
    password: str


def _cli(env: dict[str, str], *args: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", *args, "--json"], env=env, capture_output=True, text=True, check=True
    )
    return dict(json.loads(result.stdout))


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    port = free_port()
    env = server_env(
        tmp_path_factory.mktemp("oauth"), OG_BASE_URL=f"http://127.0.0.1:{port}", OG_VALIDATE_RESPONSES="1"
    )
    developer = _cli(env, "accounts", "create", "--name", "App Developer")["account"]["id"]  # type: ignore[index]
    owner = _cli(
        env,
        "accounts",
        "create",
        "--name",
        "Mara Lindqvist",
        "--email",
        "mara@example.com",
        "--password",
        "correct horse battery staple",
    )
    confidential = _cli(
        env,
        "oauth-clients",
        "create",
        "--account",
        str(developer),
        "--name",
        "CRM Sync",
        "--redirect-uri",
        REDIRECT,
        "--scopes",
        "persons:read,persons:write,releases:read",
    )
    public = _cli(
        env,
        "oauth-clients",
        "create",
        "--account",
        str(developer),
        "--name",
        "Mobile",
        "--public",
        "--redirect-uri",
        REDIRECT,
    )
    other = _cli(
        env,
        "oauth-clients",
        "create",
        "--account",
        str(developer),
        "--name",
        "Other",
        "--redirect-uri",
        "https://other.example.com/cb",
    )
    server = start_server(env, ["serve", "--no-seed"], port=port)
    log = ""
    try:
        yield Setup(
            server=server,
            client_id=confidential["oauth_client"]["client_id"],  # type: ignore[index]
            client_secret=confidential["oauth_client"]["client_secret"],  # type: ignore[index]
            public_client_id=public["oauth_client"]["client_id"],  # type: ignore[index]
            other_client_id=other["oauth_client"]["client_id"],  # type: ignore[index]
            other_client_secret=other["oauth_client"]["client_secret"],  # type: ignore[index]
            email=owner["user"]["email"],  # type: ignore[index]
            password=owner["user"]["password"],  # type: ignore[index]
        )
    finally:
        for client in CLIENTS:
            client.close()
        log = stop_server(server)
    # Every secret this module saw must be absent from everything the server logged.
    leaked = [secret for secret in ISSUED if secret in log]
    assert leaked == [], "secrets in the server log"


ISSUED: list[str] = []
CLIENTS: list[OAuth2Client] = []  # closed when the module is done (they hold connections)


def _oauth_client(setup: Setup, *, public: bool = False, redirect: str = REDIRECT) -> OAuth2Client:
    client = _new_oauth_client(setup, public=public, redirect=redirect)
    CLIENTS.append(client)
    return client


def _new_oauth_client(setup: Setup, *, public: bool, redirect: str) -> OAuth2Client:
    if public:
        return OAuth2Client(
            setup.public_client_id,
            None,
            redirect_uri=redirect,
            scope="persons:read",
            code_challenge_method="S256",
            token_endpoint_auth_method="none",
        )
    return OAuth2Client(
        setup.client_id,
        setup.client_secret,
        redirect_uri=redirect,
        scope="persons:read persons:write",
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )


def _consent(
    setup: Setup, authorization_url: str, *, decision: str = "approve", password: str | None = None
) -> httpx.Response:
    """What the user's browser does: load the page, sign in, decide."""
    with httpx.Client(base_url=setup.server.base_url) as browser:
        page = browser.get(authorization_url)
        assert page.status_code == 200, page.text
        fields = {
            unescape(k): unescape(v)
            for k, v in re.findall(r"<input type=hidden name='([^']*)' value='([^']*)'>", page.text)
        }
        fields.update({"email": setup.email, "password": password or setup.password, "decision": decision})
        return browser.post("/oauth/authorize", data=fields)


def _authorize(setup: Setup, client: OAuth2Client) -> tuple[str, str]:
    """Run the browser part; returns (redirect location, code verifier)."""
    verifier = generate_token(64)
    url, _state = client.create_authorization_url(setup.server.base_url + "/oauth/authorize", code_verifier=verifier)
    response = _consent(setup, url)
    assert response.status_code == 302, response.text
    return response.headers["location"], verifier


def _tokens(setup: Setup, client: OAuth2Client | None = None) -> tuple[OAuth2Client, dict[str, str]]:
    client = client or _oauth_client(setup)
    location, verifier = _authorize(setup, client)
    token = client.fetch_token(
        setup.server.base_url + "/oauth/token", authorization_response=location, code_verifier=verifier
    )
    ISSUED.extend([token["access_token"], token["refresh_token"], setup.password, setup.client_secret])
    return client, dict(token)


def _api(setup: Setup, access_token: str, method: str = "GET", **kwargs: object) -> httpx.Response:
    return httpx.request(
        method, setup.server.base_url + "/api/v1/persons", headers={"Authorization": f"Bearer {access_token}"}, **kwargs
    )  # type: ignore[arg-type]


def test_the_full_flow_gives_a_token_that_acts_on_the_users_account(setup: Setup) -> None:
    _client, token = _tokens(setup)
    assert token["token_type"] == "Bearer"
    assert token["access_token"].startswith("ogat_")
    assert token["refresh_token"].startswith("ogrt_")
    assert int(token["expires_in"]) == 3600
    assert set(token["scope"].split()) == {"persons:read", "persons:write"}
    created = _api(setup, token["access_token"], "POST", json={"name": "Via OAuth", "email": "o@example.com"})
    assert created.status_code == 201, created.text
    listed = _api(setup, token["access_token"]).json()["data"]
    assert created.json()["id"] in [p["id"] for p in listed]
    # The token carries only the consented scopes.
    releases = httpx.get(
        setup.server.base_url + "/api/v1/api-keys", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert releases.status_code == 403
    assert releases.json()["missing_scopes"] == ["keys:read"]


def test_a_public_client_uses_pkce_alone(setup: Setup) -> None:
    _client, token = _tokens(setup, _oauth_client(setup, public=True))
    assert _api(setup, token["access_token"]).status_code == 200


def test_a_loopback_redirect_matches_on_any_port(setup: Setup) -> None:
    client = _oauth_client(setup, redirect="http://127.0.0.1:53123/callback")
    location, _verifier = _authorize(setup, client)
    assert location.startswith("http://127.0.0.1:53123/callback?code=")


def test_refresh_rotates_and_reuse_revokes_the_family(setup: Setup) -> None:
    client, first = _tokens(setup)
    token_url = setup.server.base_url + "/oauth/token"
    second = client.refresh_token(token_url, refresh_token=first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    third = client.refresh_token(token_url, refresh_token=second["refresh_token"])
    assert _api(setup, third["access_token"]).status_code == 200
    # `first` was rotated long ago in this family's life (its successor was used): presenting it is theft.
    with pytest.raises(Exception, match="invalid_grant"):
        client.refresh_token(token_url, refresh_token=first["refresh_token"])
    refused = _api(setup, third["access_token"])
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_token"
    with pytest.raises(Exception, match="invalid_grant"):
        client.refresh_token(token_url, refresh_token=third["refresh_token"])


def test_a_lost_refresh_response_can_be_retried_within_the_grace(setup: Setup) -> None:
    client, first = _tokens(setup)
    token_url = setup.server.base_url + "/oauth/token"
    lost = client.refresh_token(token_url, refresh_token=first["refresh_token"])
    retried = client.refresh_token(token_url, refresh_token=first["refresh_token"])
    assert _api(setup, retried["access_token"]).status_code == 200
    assert _api(setup, lost["access_token"]).status_code == 401  # the lost pair is revoked, not left dangling


def test_a_replayed_code_is_refused_and_revokes_its_tokens(setup: Setup) -> None:
    client = _oauth_client(setup)
    location, verifier = _authorize(setup, client)
    token_url = setup.server.base_url + "/oauth/token"
    token = client.fetch_token(token_url, authorization_response=location, code_verifier=verifier)
    assert _api(setup, token["access_token"]).status_code == 200
    with pytest.raises(Exception, match="invalid_grant"):
        _oauth_client(setup).fetch_token(token_url, authorization_response=location, code_verifier=verifier)
    assert _api(setup, token["access_token"]).status_code == 401


def test_a_wrong_code_verifier_is_refused(setup: Setup) -> None:
    client = _oauth_client(setup)
    location, _verifier = _authorize(setup, client)
    with pytest.raises(Exception, match="invalid_grant"):
        client.fetch_token(
            setup.server.base_url + "/oauth/token", authorization_response=location, code_verifier=generate_token(64)
        )


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"scope": "persons:read payouts:write"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ],
)
def test_bad_authorization_requests_are_refused_at_authorize(
    setup: Setup, change: dict[str, str | None], error: str
) -> None:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": setup.client_id,
        "redirect_uri": REDIRECT,
        "scope": "persons:read",
        "state": "xyz",
        "code_challenge": create_s256_code_challenge(generate_token(64)),
        "code_challenge_method": "S256",
    }
    params.update(change)
    response = httpx.get(setup.server.base_url + "/oauth/authorize", params={k: v for k, v in params.items() if v})
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["error"] == [error]
    assert query["state"] == ["xyz"]


@pytest.mark.parametrize("redirect", ["https://evil.example.com/cb", "http://127.0.0.1/other"])
def test_an_unregistered_redirect_is_never_followed(setup: Setup, redirect: str) -> None:
    client = _oauth_client(setup, redirect=redirect)
    url, _ = client.create_authorization_url(
        setup.server.base_url + "/oauth/authorize", code_verifier=generate_token(64)
    )
    response = httpx.get(url)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "redirect URI is not registered" in response.text


def test_deny_and_wrong_password(setup: Setup) -> None:
    client = _oauth_client(setup)
    url, _ = client.create_authorization_url(
        setup.server.base_url + "/oauth/authorize", code_verifier=generate_token(64)
    )
    denied = _consent(setup, url, decision="deny")
    assert parse_qs(urlsplit(denied.headers["location"]).query)["error"] == ["access_denied"]
    wrong = _consent(setup, url, password="not the password")
    assert wrong.status_code == 200
    assert "Email or password is wrong." in wrong.text


def test_a_consent_post_without_the_pages_csrf_cookie_is_refused(setup: Setup) -> None:
    response = httpx.post(
        setup.server.base_url + "/oauth/authorize",
        data={
            "client_id": setup.client_id,
            "redirect_uri": REDIRECT,
            "csrf_token": "forged",
            "email": setup.email,
            "password": setup.password,
            "decision": "approve",
        },
    )
    assert response.status_code == 400


def test_revocation_and_introspection(setup: Setup) -> None:
    _client, token = _tokens(setup)
    introspect = setup.server.base_url + "/oauth/introspect"
    auth = (setup.client_id, setup.client_secret)
    answer = httpx.post(introspect, data={"token": token["access_token"]}, auth=auth)
    active = answer.json()
    assert answer.status_code == 200, answer.text
    assert active["active"] is True
    assert active["client_id"] == setup.client_id
    assert set(active["scope"].split()) == {"persons:read", "persons:write"}
    # Another client learns nothing about this client's tokens.
    foreign = httpx.post(
        introspect, data={"token": token["access_token"]}, auth=(setup.other_client_id, setup.other_client_secret)
    ).json()
    assert foreign == {"active": False}
    assert httpx.post(introspect, data={"token": token["access_token"]}).status_code == 401
    revoked = httpx.post(setup.server.base_url + "/oauth/revoke", data={"token": token["refresh_token"]}, auth=auth)
    assert revoked.status_code == 200
    assert _api(setup, token["access_token"]).status_code == 401
    assert httpx.post(introspect, data={"token": token["access_token"]}, auth=auth).json() == {"active": False}
    # Revoking an unknown token is not an error (RFC 7009 §2.2).
    assert httpx.post(setup.server.base_url + "/oauth/revoke", data={"token": "nope"}, auth=auth).status_code == 200


def test_metadata_describes_the_server(setup: Setup) -> None:
    metadata = httpx.get(setup.server.base_url + "/.well-known/oauth-authorization-server").json()
    assert metadata["issuer"] == setup.server.base_url
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["token_endpoint"] == setup.server.base_url + "/oauth/token"
    assert "persons:read" in metadata["scopes_supported"]
