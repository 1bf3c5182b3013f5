"""OAuth 2.0 through the SDK against the live authorization server: the helper builds the PKCE authorization URL,
the test plays the user's browser through the `client.oauth` namespace (consent page, sign-in and approval), the
helper exchanges the code, the connected client calls the API and refreshes with rotation, then revocation,
introspection and the server's metadata."""

import os
import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from html import unescape
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest
from og_records import AuthenticationError, BadRequestError, OAuthClient, OGRecords, Token
from og_records.models import OAuthConsent, OAuthRevokeRequest, OAuthTokenRequest, PersonCreate

NewHttp = Callable[[], httpx.Client]
SCOPES = ["persons:read", "persons:write"]
_HIDDEN = re.compile(r"<input type=hidden name='([^']*)' value='([^']*)'>")


def _env(name: str) -> str:
    return os.environ[f"OG_SDK_TEST_{name}"]


def _oauth(base_url: str, recording_http: NewHttp, saved: list[Token]) -> OAuthClient:
    return OAuthClient(
        _env("OAUTH_CLIENT_ID"),
        client_secret=_env("OAUTH_CLIENT_SECRET"),
        redirect_uri=_env("OAUTH_REDIRECT_URI"),
        base_url=base_url,
        on_token=saved.append,  # where an app persists the current refresh token
        http_client=recording_http(),
    )


def _browser(base_url: str, api_key: str, recording_http: NewHttp) -> OGRecords:
    """The user's browser: its own cookie jar (for the consent page's CSRF cookie). The OAuth pages take no API key:
    the SDK sends none to them."""
    return OGRecords(api_key=api_key, base_url=base_url, http_client=recording_http(), max_retries=0)


def _consent(browser: OGRecords, authorization_url: str, *, decision: str = "approve") -> httpx.Response:
    """Opens the authorization URL, signs in as the account's owner and decides."""
    page = browser.oauth.authorize(**dict(parse_qsl(urlsplit(authorization_url).query)))
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    fields = {unescape(name): unescape(value) for name, value in _HIDDEN.findall(page.text)}
    assert fields["csrf_token"]
    form = {**fields, "email": _env("USER_EMAIL"), "password": _env("USER_PASSWORD"), "decision": decision}
    return browser.oauth.submit_consent(body=OAuthConsent.from_dict(form))


def _callback(response: httpx.Response) -> dict[str, str]:
    """The redirect back to the app, checked to go to the registered redirect URI; its query parameters."""
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == _env("OAUTH_REDIRECT_URI")
    return {name: values[0] for name, values in parse_qs(location.query).items()}


def _authorized(base_url: str, api_key: str, recording_http: NewHttp, oauth: OAuthClient) -> Token:
    start = oauth.authorization_url(SCOPES)
    callback = _callback(_consent(_browser(base_url, api_key, recording_http), start.url))
    assert callback["state"] == start.state
    return oauth.exchange_code(callback["code"], code_verifier=start.code_verifier)


def test_the_flow_connects_a_client_that_refreshes_with_rotation(
    client: OGRecords, base_url: str, api_key: str, recording_http: NewHttp
) -> None:
    saved: list[Token] = []
    oauth = _oauth(base_url, recording_http, saved)
    token = _authorized(base_url, api_key, recording_http, oauth)
    assert token.access_token.startswith("ogat_")
    assert token.refresh_token.startswith("ogrt_")
    assert set(token.scope.split()) == set(SCOPES)
    assert not token.expired()
    assert saved == [token]

    auth = oauth.auth(token)
    with OGRecords(auth=auth, base_url=base_url, http_client=recording_http()) as connected:
        assert connected.environment is None  # the grant decides, not a key prefix
        unique = uuid.uuid4().hex[:10]
        person = connected.persons.create(
            body=PersonCreate(name=f"Via OAuth {unique}", email=f"o-{unique}@example.com")
        )
        # The token acts on the account of the user who approved: the account the suite's API key belongs to.
        assert client.persons.get(person.id).name == f"Via OAuth {unique}"

        auth.token = replace(token, expires_at=0)  # as if an hour had passed: refreshed before the next request
        assert connected.persons.get(person.id).id == person.id
        assert len(saved) == 2
        rotated = saved[-1]
        assert auth.token is rotated
        assert rotated.refresh_token != token.refresh_token, "refresh tokens rotate: the new one was persisted"
        assert rotated.access_token != token.access_token

    # The persisted refresh token is the one that works next.
    later = oauth.refresh(rotated.refresh_token)
    assert saved[-1] is later
    assert later.refresh_token not in {token.refresh_token, rotated.refresh_token}


def test_revocation_ends_the_grant_and_introspection_says_so(
    base_url: str, api_key: str, recording_http: NewHttp
) -> None:
    oauth = _oauth(base_url, recording_http, [])
    token = _authorized(base_url, api_key, recording_http, oauth)
    active = oauth.introspect(token.access_token)
    assert active.active is True
    assert active.client_id == _env("OAUTH_CLIENT_ID")
    assert set(str(active.scope).split()) == set(SCOPES)
    assert active.token_type == "Bearer"
    assert active.environment == "sandbox"

    oauth.revoke(token.refresh_token)  # sign-out: revoking the refresh token ends the whole grant
    assert oauth.introspect(token.access_token).active is False
    assert oauth.introspect(token.refresh_token).active is False
    # The connected client's request is refused; its refresh is too: the app must ask the user again.
    with (
        OGRecords(auth=oauth.auth(token), base_url=base_url, http_client=recording_http()) as connected,
        pytest.raises(BadRequestError) as refused,
    ):
        connected.persons.list(limit=1)
    assert refused.value.code == "invalid_grant"


def test_the_namespace_methods_answer_as_rfc_6749_says(
    client: OGRecords, base_url: str, api_key: str, recording_http: NewHttp
) -> None:
    metadata = client.oauth.metadata()
    assert metadata.issuer == base_url
    assert metadata.authorization_endpoint == f"{base_url}/oauth/authorize"
    assert metadata.token_endpoint == f"{base_url}/oauth/token"
    assert metadata.code_challenge_methods_supported == ["S256"]
    assert "persons:read" in list(metadata.scopes_supported or [])

    oauth = _oauth(base_url, recording_http, [])
    start = oauth.authorization_url(SCOPES)
    browser = _browser(base_url, api_key, recording_http)
    # A denied consent goes back to the app with access_denied and the state.
    denied = _callback(_consent(browser, start.url, decision="deny"))
    assert (denied["error"], denied["state"]) == ("access_denied", start.state)
    # Without PKCE S256 the authorization endpoint refuses at once, by redirect (no page).
    query = dict(parse_qsl(urlsplit(start.url).query))
    plain = _callback(browser.oauth.authorize(**{**query, "code_challenge_method": "plain"}))
    assert (plain["error"], plain["state"]) == ("invalid_request", start.state)

    # The token endpoint's errors are the SDK's typed errors, with the RFC 6749 error as the code.
    secret = _env("OAUTH_CLIENT_SECRET")
    with pytest.raises(BadRequestError) as bad_code:
        client.oauth.token(
            body=OAuthTokenRequest(
                grant_type="authorization_code",
                code="not-a-code",
                redirect_uri=_env("OAUTH_REDIRECT_URI"),
                code_verifier="v" * 43,
                client_id=_env("OAUTH_CLIENT_ID"),
                client_secret=secret,
            )
        )
    assert bad_code.value.code == "invalid_grant"
    with pytest.raises(AuthenticationError) as bad_client:
        client.oauth.token(
            body=OAuthTokenRequest(
                grant_type="refresh_token",
                refresh_token="ogrt_unknown",
                client_id=_env("OAUTH_CLIENT_ID"),
                client_secret=secret + "x",
            )
        )
    assert bad_client.value.code == "invalid_client"

    # The token endpoint as is: a refresh through the namespace rotates like the helper's.
    token = _authorized(base_url, api_key, recording_http, oauth)
    fresh = client.oauth.token(
        body=OAuthTokenRequest(
            grant_type="refresh_token",
            refresh_token=token.refresh_token,
            client_id=_env("OAUTH_CLIENT_ID"),
            client_secret=secret,
        )
    )
    assert fresh.token_type == "Bearer"
    assert fresh.refresh_token != token.refresh_token
    # Revocation through the namespace; revoking an unknown token is no error (RFC 7009 §2.2).
    for revoked in (fresh.refresh_token, "ogrt_unknown"):
        answer = client.oauth.revoke(
            body=OAuthRevokeRequest(token=revoked, client_id=_env("OAUTH_CLIENT_ID"), client_secret=secret)
        )
        assert answer.status_code == 200
    assert oauth.introspect(fresh.access_token).active is False
