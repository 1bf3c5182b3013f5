"""OAuth 2.0 for apps acting on other accounts: authorization code with PKCE (S256) and rotating refresh tokens.

    oauth = OAuthClient(client_id="cli_…", redirect_uri="https://app.example/callback", on_token=save)
    start = oauth.authorization_url(["releases:read"])      # send the user to start.url; keep start.state/verifier
    token = oauth.exchange_code(code, code_verifier=start.code_verifier)
    client = OGRecords(auth=oauth.auth(token))                 # refreshes itself; every new token goes to `save`

Refresh tokens rotate: each works once, and the new one arrives with every refresh. `on_token` is called with
every token the helper obtains, so you can persist the current refresh token before it is needed again.

    oauth.revoke(token.refresh_token)                          # sign-out: ends the whole grant
    oauth.introspect(access_token).active                      # confidential clients (resource servers) only
"""

import base64
import hashlib
import os
import secrets
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from og_records._base import OPERATION_EXTENSION
from og_records._client import DEFAULT_BASE_URL
from og_records._exceptions import OGRecordsError, error_for
from og_records._generated.models.o_auth_introspection import OAuthIntrospection

__all__ = ["AuthorizationRequest", "OAuthAuth", "OAuthClient", "Token"]

_REFRESH_LEEWAY = 30.0  # seconds before expiry when a token counts as expired (clock skew, request latency)


@dataclass(frozen=True)
class Token:
    access_token: str
    refresh_token: str
    expires_at: float
    scope: str
    token_type: str = "Bearer"  # noqa: S105 (the token type name)

    @classmethod
    def from_response(cls, body: dict[str, Any], *, now: float | None = None) -> "Token":
        issued = time.time() if now is None else now
        return cls(
            access_token=str(body["access_token"]),
            refresh_token=str(body["refresh_token"]),
            expires_at=issued + float(body["expires_in"]),
            scope=str(body.get("scope", "")),
            token_type=str(body.get("token_type", "Bearer")),
        )

    def expired(self, leeway: float = _REFRESH_LEEWAY) -> bool:
        return time.time() >= self.expires_at - leeway


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the user, and what to keep until the callback (compare `state`, send `code_verifier`)."""

    url: str
    state: str
    code_verifier: str


def _code_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class OAuthClient:
    def __init__(
        self,
        client_id: str,
        *,
        redirect_uri: str,
        client_secret: str | None = None,
        base_url: str | None = None,
        on_token: Callable[[Token], None] | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.base_url = (base_url or os.environ.get("OG_RECORDS_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.on_token = on_token
        self._http = http_client or httpx.Client()

    def authorization_url(self, scopes: Sequence[str], *, state: str | None = None) -> AuthorizationRequest:
        verifier = secrets.token_urlsafe(64)  # 86 characters, within RFC 7636's 43-128
        chosen_state = state or secrets.token_urlsafe(24)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": self.redirect_uri,
                "scope": " ".join(scopes),
                "state": chosen_state,
                "code_challenge": _code_challenge(verifier),
                "code_challenge_method": "S256",
            }
        )
        return AuthorizationRequest(f"{self.base_url}/oauth/authorize?{query}", chosen_state, verifier)

    def exchange_code(self, code: str, *, code_verifier: str) -> Token:
        """Redeems the `code` from the callback (after you checked its `state`)."""
        return self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri,
                "code_verifier": code_verifier,
            }
        )

    def refresh(self, refresh_token: str) -> Token:
        """A new access token and a new refresh token; the old refresh token is spent."""
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def auth(self, token: Token) -> "OAuthAuth":
        """An httpx auth for `OGRecords(auth=…)` / `AsyncOGRecords(auth=…)` that refreshes when needed."""
        return OAuthAuth(self, token)

    def revoke(self, token: str, *, token_type_hint: str | None = None) -> None:
        """Revokes an access or refresh token (RFC 7009); either ends the whole grant. Unknown tokens are no error."""
        form = {"token": token} if token_type_hint is None else {"token": token, "token_type_hint": token_type_hint}
        response = self._http.send(self._post("/oauth/revoke", "revoke_oauth_token", self._with_credentials(form)))
        response.read()
        if not response.is_success:
            raise error_for(response)

    def introspect(self, token: str) -> OAuthIntrospection:
        """What the server knows of a token this client was issued (RFC 7662); needs the client secret."""
        if self.client_secret is None:
            raise OGRecordsError("Introspection is for confidential clients: pass client_secret= to OAuthClient.")
        # HTTP Basic with form-encoded id and secret (RFC 6749 §2.3.1), as the introspection endpoint requires.
        pair = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
        request = self._post("/oauth/introspect", "introspect_oauth_token", {"token": token})
        request.headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        response = self._http.send(request)
        response.read()
        if not response.is_success:
            raise error_for(response)
        return OAuthIntrospection.from_dict(response.json())

    def token_request(self, form: dict[str, str]) -> httpx.Request:
        return self._post("/oauth/token", "create_oauth_token", self._with_credentials(form))

    def _with_credentials(self, form: dict[str, str]) -> dict[str, str]:
        fields = {**form, "client_id": self.client_id}
        if self.client_secret is not None:
            fields["client_secret"] = self.client_secret
        return fields

    def _post(self, path: str, operation_id: str, form: dict[str, str]) -> httpx.Request:
        # Tagged like the resource methods' requests, so event hooks and transports can tell the operations apart.
        return httpx.Request(
            "POST",
            self.base_url + path,
            data=form,
            headers={"Accept": "application/json"},
            extensions={OPERATION_EXTENSION: operation_id},
        )

    def token_from(self, response: httpx.Response) -> Token:
        response.read()
        if not response.is_success:
            raise error_for(response)
        token = Token.from_response(response.json())
        if self.on_token is not None:
            self.on_token(token)
        return token

    def _token(self, form: dict[str, str]) -> Token:
        return self.token_from(self._http.send(self.token_request(form)))

    def close(self) -> None:
        self._http.close()


class OAuthAuth(httpx.Auth):
    """Sends the access token; refreshes it (rotating the refresh token) when it expired or the API answers 401."""

    requires_response_body = True

    def __init__(self, oauth: OAuthClient, token: Token) -> None:
        self.oauth = oauth
        self.token = token
        self._lock = threading.Lock()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        used = self.token
        if used.expired():
            used = yield from self._refresh(used)
        request.headers["Authorization"] = f"Bearer {used.access_token}"
        response = yield request
        if response.status_code == 401:
            fresh = yield from self._refresh(used)
            request.headers["Authorization"] = f"Bearer {fresh.access_token}"
            yield request

    def _refresh(self, used: Token) -> Generator[httpx.Request, httpx.Response, Token]:
        with self._lock:
            if self.token is not used:  # another request refreshed meanwhile: its token is the current one
                return self.token
        response = yield self.oauth.token_request({"grant_type": "refresh_token", "refresh_token": used.refresh_token})
        token = self.oauth.token_from(response)
        with self._lock:
            self.token = token
        return token
