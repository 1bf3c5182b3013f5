"""The OAuth helper against a local stand-in authorization server speaking RFC 6749 JSON (with PKCE and rotation)."""

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from og_records import BadRequestError, OAuthClient, OGRecords, Token

REDIRECT = "https://app.example/callback"


class StandIn:
    """Authorization server + API: issues codes bound to a PKCE challenge, rotates refresh tokens (a reused one is
    refused), and serves GET /api/v1/persons only to the current access token."""

    def __init__(self, client_id: str = "cli_test") -> None:
        self.client_id = client_id
        self.codes: dict[str, str] = {}  # code -> code_challenge
        self.refresh_tokens: dict[str, bool] = {}  # token -> still valid
        self.access_token = ""
        self.token_requests = 0

    def authorize(self, url: str) -> str:
        query = parse_qs(urlsplit(url).query)
        assert query["code_challenge_method"] == ["S256"]
        assert query["redirect_uri"] == [REDIRECT]
        code = secrets.token_urlsafe(8)
        self.codes[code] = query["code_challenge"][0]
        return code

    def _issue(self) -> httpx.Response:
        self.access_token = "oga_" + secrets.token_urlsafe(8)
        refresh = "ogr_" + secrets.token_urlsafe(8)
        self.refresh_tokens[refresh] = True
        body = {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": refresh,
            "scope": "persons:read",
        }
        return httpx.Response(200, json=body, headers={"Cache-Control": "no-store"})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            self.token_requests += 1
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            if form.get("client_id") != self.client_id:
                return httpx.Response(401, json={"error": "invalid_client"})
            if form["grant_type"] == "authorization_code":
                challenge = self.codes.pop(form["code"], None)
                digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
                if challenge is None or base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != challenge:
                    return httpx.Response(400, json={"error": "invalid_grant", "error_description": "bad code"})
                return self._issue()
            if form["grant_type"] == "refresh_token":
                if not self.refresh_tokens.get(form["refresh_token"]):
                    return httpx.Response(400, json={"error": "invalid_grant", "error_description": "reused"})
                self.refresh_tokens[form["refresh_token"]] = False
                return self._issue()
        if request.url.path == "/api/v1/persons":
            if request.headers.get("authorization") != f"Bearer {self.access_token}":
                return httpx.Response(401, json={"status": 401, "code": "invalid_token", "detail": "expired"})
            return httpx.Response(200, json={"object": "list", "data": [], "has_more": False, "next_cursor": None})
        return httpx.Response(404, json={"status": 404, "code": "not_found", "detail": str(request.url)})


@pytest.fixture
def stand_in() -> StandIn:
    return StandIn()


def _oauth(stand_in: StandIn, saved: list[Token]) -> OAuthClient:
    return OAuthClient(
        "cli_test",
        redirect_uri=REDIRECT,
        base_url="https://auth.test",
        on_token=saved.append,
        http_client=httpx.Client(transport=httpx.MockTransport(stand_in)),
    )


def test_authorization_url_uses_pkce_s256_and_a_state(stand_in: StandIn) -> None:
    start = _oauth(stand_in, []).authorization_url(["releases:read", "persons:read"])
    query = parse_qs(urlsplit(start.url).query)
    assert start.url.startswith("https://auth.test/oauth/authorize?")
    assert query["response_type"] == ["code"]
    assert query["scope"] == ["releases:read persons:read"]
    assert query["state"] == [start.state]
    assert len(start.state) >= 16
    assert 43 <= len(start.code_verifier) <= 128
    expected = base64.urlsafe_b64encode(hashlib.sha256(start.code_verifier.encode()).digest()).rstrip(b"=").decode()
    assert query["code_challenge"] == [expected]


def test_exchange_then_refresh_rotates_and_persists(stand_in: StandIn) -> None:
    saved: list[Token] = []
    oauth = _oauth(stand_in, saved)
    start = oauth.authorization_url(["persons:read"])
    token = oauth.exchange_code(stand_in.authorize(start.url), code_verifier=start.code_verifier)
    assert token.access_token.startswith("oga_")
    assert not token.expired()
    fresh = oauth.refresh(token.refresh_token)
    assert fresh.refresh_token != token.refresh_token
    assert saved == [token, fresh]
    with pytest.raises(BadRequestError) as reused:
        oauth.refresh(token.refresh_token)
    assert reused.value.code == "invalid_grant"


def test_a_wrong_verifier_is_refused(stand_in: StandIn) -> None:
    oauth = _oauth(stand_in, [])
    start = oauth.authorization_url(["persons:read"])
    with pytest.raises(BadRequestError):
        oauth.exchange_code(stand_in.authorize(start.url), code_verifier="x" * 43)


def test_the_client_refreshes_on_401_and_when_expired(stand_in: StandIn) -> None:
    saved: list[Token] = []
    oauth = _oauth(stand_in, saved)
    start = oauth.authorization_url(["persons:read"])
    token = oauth.exchange_code(stand_in.authorize(start.url), code_verifier=start.code_verifier)
    auth = oauth.auth(token)
    http = httpx.Client(transport=httpx.MockTransport(stand_in))
    with OGRecords(auth=auth, base_url="https://auth.test", http_client=http) as client:
        assert client.environment is None
        assert client.persons.list().data == []
        assert stand_in.token_requests == 1  # a valid token is just used
        stand_in.access_token = "oga_revoked"  # the server no longer accepts it: 401, refresh, retry
        assert client.persons.list().data == []
        assert auth.token is saved[-1]
        assert len(saved) == 2
        auth.token = Token(saved[-1].access_token, saved[-1].refresh_token, expires_at=0, scope="persons:read")
        assert client.persons.list().data == []  # expired locally: refreshed before sending
        assert len(saved) == 3
        assert stand_in.token_requests == 3
    http.close()
    oauth.close()
