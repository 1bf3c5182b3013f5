"""The OAuth 2.0 authorization server: Authlib is the protocol engine, this module its storage and our rules.

- Authorization code + PKCE (S256 only, required of every client, checked at /authorize already).
- Codes are single-use and live 10 minutes; a replayed code is refused and the tokens issued from it are revoked.
- Access tokens (`ogat_…`) live one hour; refresh tokens (`ogrt_…`) 90 days and rotate on every use. Presenting a
  rotated refresh token again revokes the whole token family (RFC 9700 §4.14.2), except within REUSE_GRACE of its
  rotation while its successor is still unused: then the client evidently lost the response, the successor is
  revoked and a new pair issued.
- Only SHA-256 hashes of codes and tokens are stored (they carry ≥256 random bits).

Authlib's grant API is synchronous; callers run it in a worker thread with one database session per request.
"""

import hashlib
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    AuthorizationServer,
    ClientMixin,
    OAuth2Payload,
    OAuth2Request,
    TokenMixin,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from sqlmodel import Session, col, select, update

from server import clock
from server.db.models.accounts import Account, User
from server.db.models.oauth import OAuthAuthorizationCode, OAuthClient, OAuthToken
from server.db.types import utcnow
from server.domain import account_clock
from server.domain.errors import DomainError
from server.ids import new_id
from server.principal import Principal
from server.scopes import SCOPES, effective
from server.services import oauth_clients

ACCESS_TOKEN_TTL = timedelta(hours=1)
REFRESH_TOKEN_TTL = timedelta(days=90)
CODE_TTL = timedelta(minutes=10)
REUSE_GRACE = timedelta(seconds=30)
ACCESS_PREFIX = "ogat_"
REFRESH_PREFIX = "ogrt_"
_ALPHABET = string.ascii_letters + string.digits


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _random(prefix: str, length: int) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


# --- Authlib's views of our rows -------------------------------------------------------------------------------


@dataclass
class EndUser:
    """The resource owner: a user of some account (not necessarily the account that registered the client)."""

    user: User

    def get_user_id(self) -> str:
        return self.user.id


class ClientView(ClientMixin):  # type: ignore[misc]
    def __init__(self, row: OAuthClient) -> None:
        self.row = row
        self.client_id = row.id

    def get_client_id(self) -> str:
        return self.row.id

    def get_default_redirect_uri(self) -> str | None:
        # RFC 9700: the redirect_uri is required when a client has several; we require it always.
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        allowed = set(self.row.allowed_scopes)
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return any(oauth_clients.redirect_uri_matches(uri, redirect_uri) for uri in self.row.redirect_uris)

    def check_client_secret(self, client_secret: str) -> bool:
        return oauth_clients.check_secret(self.row, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.row.is_public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


class CodeView(AuthorizationCodeMixin):  # type: ignore[misc]
    def __init__(self, row: OAuthAuthorizationCode) -> None:
        self.row = row

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    # Read by Authlib's PKCE extension (CodeChallenge) at the token exchange.
    @property
    def code_challenge(self) -> str:
        return self.row.code_challenge

    @property
    def code_challenge_method(self) -> str:
        return self.row.code_challenge_method


class TokenView(TokenMixin):  # type: ignore[misc]
    def __init__(self, row: OAuthToken, presented: str) -> None:
        self.row = row
        self.presented = presented  # "access_token" or "refresh_token": which secret matched

    def check_client(self, client: ClientView) -> bool:
        return bool(self.row.client_id == client.get_client_id())

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return int(ACCESS_TOKEN_TTL.total_seconds())

    def is_expired(self) -> bool:
        expires = self.row.access_expires_at if self.presented == "access_token" else self.row.refresh_expires_at
        return expires is None or utcnow() >= expires

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None or (
            self.presented == "refresh_token" and self.row.rotated_at is not None
        )

    def get_user(self) -> str:
        return self.row.user_id

    def get_client(self) -> str:
        return self.row.client_id


# --- requests and the server ------------------------------------------------------------------------------------


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    @property
    def data(self) -> dict[str, str]:
        data: dict[str, str] = {}
        for key, value in self._pairs:
            data.setdefault(key, value)
        return data

    @property
    def datalist(self) -> dict[str, list[str]]:
        values: dict[str, list[str]] = {}
        for key, value in self._pairs:
            values.setdefault(key, []).append(value)
        return values


class HttpRequest(OAuth2Request):  # type: ignore[misc]
    """An OAuth request built from the HTTP request: query and form pairs, headers, and the public URL.

    The URL is built on OG_BASE_URL, not on what the server saw, so a TLS-terminating proxy in front does not make
    Authlib believe the request came over plain HTTP.
    """

    def __init__(
        self,
        method: str,
        uri: str,
        headers: Mapping[str, str],
        query: list[tuple[str, str]],
        form: list[tuple[str, str]],
    ) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self._query = query
        self._form = form
        self.payload = _Payload(query if method == "GET" else form)

    @property
    def args(self) -> dict[str, str]:
        return dict(self._query)

    @property
    def form(self) -> dict[str, str]:
        return dict(self._form)


@dataclass(frozen=True)
class Outcome:
    status: int
    body: Any
    headers: list[tuple[str, str]]


class Server(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, session: Session) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.session = session
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=lambda **_: _random(ACCESS_PREFIX, 43),
                refresh_token_generator=lambda **_: _random(REFRESH_PREFIX, 48),
                expires_generator=lambda client, grant_type: int(ACCESS_TOKEN_TTL.total_seconds()),
            ),
        )
        self.register_grant(CodeGrant, [CodeChallenge(required=True)])
        self.register_grant(RotatingRefreshGrant)
        self.register_endpoint(Revocation)
        self.register_endpoint(Introspection)

    def query_client(self, client_id: str) -> ClientView | None:
        row = self.session.get(OAuthClient, client_id) if isinstance(client_id, str) else None
        if row is None or row.revoked_at is not None:
            return None
        # A sandbox client's codes and tokens live on its account's test clock: issued and expiring in sandbox
        # time, so advancing the clock past a token's lifetime expires it (a way to test refreshing).
        account_clock.enter(self.session, row.account_id, row.environment)
        return ClientView(row)

    def save_token(self, token: dict[str, Any], request: HttpRequest) -> None:
        now = utcnow()
        client: ClientView = request.client
        user: EndUser = request.user
        if request.payload.grant_type == "refresh_token":
            parent: OAuthToken = request.refresh_token.row
            family_id, parent_id, environment = parent.family_id, parent.id, parent.environment
        else:
            code: OAuthAuthorizationCode = request.authorization_code.row
            family_id, parent_id, environment = code.token_family_id or new_id("fam"), None, code.environment
        row = OAuthToken(
            account_id=user.user.account_id,
            environment=environment,
            access_token_hash=_digest(token["access_token"]),
            refresh_token_hash=_digest(token["refresh_token"]) if "refresh_token" in token else None,
            family_id=family_id,
            parent_id=parent_id,
            client_id=client.get_client_id(),
            user_id=user.user.id,
            scope=token.get("scope", ""),
            access_expires_at=now + ACCESS_TOKEN_TTL,
            refresh_expires_at=now + REFRESH_TOKEN_TTL if "refresh_token" in token else None,
        )
        self.session.add(row)
        self.session.flush()

    def handle_response(self, status: int, body: Any, headers: Any) -> Outcome:
        return Outcome(status, body, list(headers or []))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def create_oauth2_request(self, request: HttpRequest) -> HttpRequest:
        return request

    def create_json_request(self, request: HttpRequest) -> HttpRequest:
        return request

    def query_token(self, token: str, hint: str | None) -> TokenView | None:
        digest = _digest(token)
        kinds = ["refresh_token", "access_token"] if hint == "refresh_token" else ["access_token", "refresh_token"]
        for kind in kinds:
            column = OAuthToken.access_token_hash if kind == "access_token" else OAuthToken.refresh_token_hash
            row = self.session.exec(select(OAuthToken).where(col(column) == digest)).first()
            if row is not None:
                return TokenView(row, kind)
        return None

    def revoke_family(self, family_id: str) -> None:
        self.session.exec(
            update(OAuthToken)
            .where(col(OAuthToken.family_id) == family_id, col(OAuthToken.revoked_at).is_(None))
            .values(revoked_at=utcnow())
        )


class CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    server: Server

    def save_authorization_code(self, code: str, request: HttpRequest) -> None:
        client: ClientView = request.client
        user: EndUser = request.user
        self.server.session.add(
            OAuthAuthorizationCode(
                code_hash=_digest(code),
                account_id=user.user.account_id,
                environment=client.row.environment,
                client_id=client.get_client_id(),
                user_id=user.user.id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.payload.scope or "",
                code_challenge=request.payload.data.get("code_challenge", ""),
                code_challenge_method=request.payload.data.get("code_challenge_method", "S256"),
                expires_at=utcnow() + CODE_TTL,
                token_family_id=new_id("fam"),
            )
        )
        self.server.session.flush()

    def query_authorization_code(self, code: str, client: ClientView) -> CodeView | None:
        row = self.server.session.get(OAuthAuthorizationCode, _digest(code))
        if row is None or row.client_id != client.get_client_id():
            return None
        if row.used_at is not None:
            # A replayed code: refuse it and revoke what it issued (RFC 6749 §4.1.2).
            if row.token_family_id:
                self.server.revoke_family(row.token_family_id)
            return None
        if utcnow() >= row.expires_at:
            return None
        return CodeView(row)

    def delete_authorization_code(self, authorization_code: CodeView) -> None:
        # Kept, marked used, so that a replay can be recognised and answered by revoking the tokens.
        authorization_code.row.used_at = utcnow()
        self.server.session.add(authorization_code.row)

    def authenticate_user(self, authorization_code: CodeView) -> EndUser | None:
        user = self.server.session.get(User, authorization_code.row.user_id)
        return None if user is None else EndUser(user)


class RotatingRefreshGrant(RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True
    server: Server

    def authenticate_refresh_token(self, refresh_token: str) -> TokenView | None:
        session = self.server.session
        row = session.exec(
            select(OAuthToken).where(col(OAuthToken.refresh_token_hash) == _digest(refresh_token))
        ).first()
        if row is None or row.revoked_at is not None:
            return None
        now = utcnow()
        if row.refresh_expires_at is None or now >= row.refresh_expires_at:
            return None
        if row.rotated_at is not None:
            successor = session.exec(select(OAuthToken).where(col(OAuthToken.parent_id) == row.id)).first()
            lost_response = (
                now - row.rotated_at <= REUSE_GRACE
                and successor is not None
                and successor.rotated_at is None
                and successor.revoked_at is None
            )
            if not lost_response:
                self.server.revoke_family(row.family_id)  # reuse of a rotated token: the family is compromised
                return None
            assert successor is not None
            successor.revoked_at = now
            session.add(successor)
        return TokenView(row, "refresh_token")

    def authenticate_user(self, refresh_token: TokenView) -> EndUser | None:
        user = self.server.session.get(User, refresh_token.row.user_id)
        return None if user is None else EndUser(user)

    def revoke_old_credential(self, refresh_token: TokenView) -> None:
        refresh_token.row.rotated_at = utcnow()
        self.server.session.add(refresh_token.row)


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    server: Server

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenView | None:
        return self.server.query_token(token_string, token_type_hint)

    def revoke_token(self, token: TokenView, request: HttpRequest) -> None:
        # Revoking either token of a grant ends the grant (RFC 7009 §2.1 allows and recommends it).
        self.server.revoke_family(token.row.family_id)


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    server: Server

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenView | None:
        return self.server.query_token(token_string, token_type_hint)

    def check_permission(self, token: TokenView, client: ClientView, request: HttpRequest) -> bool:
        return token.check_client(client)  # a client introspects its own tokens only

    def introspect_token(self, token: TokenView) -> dict[str, Any]:
        row = token.row
        expires = row.access_expires_at if token.presented == "access_token" else row.refresh_expires_at
        return {
            "active": True,
            "scope": row.scope,
            "client_id": row.client_id,
            "sub": row.account_id,  # the account the token acts on
            "token_type": "Bearer" if token.presented == "access_token" else "refresh_token",
            "exp": int(expires.timestamp()) if expires else None,
            "iat": int(row.created_at.timestamp()),
            "environment": row.environment,
        }


# --- what the rest of the platform needs ------------------------------------------------------------------------


def authenticate_access_token(session: Session, token: str, *, now: datetime | None = None) -> Principal:
    """The principal an OAuth access token stands for, or 401 `invalid_token`."""
    now = now or clock.real_now()
    invalid = DomainError(
        "invalid_token",
        "The access token is not valid.",
        headers={"WWW-Authenticate": 'Bearer realm="og-records", error="invalid_token"'},
    )
    if not token.startswith(ACCESS_PREFIX):
        raise invalid
    row = session.exec(select(OAuthToken).where(col(OAuthToken.access_token_hash) == _digest(token))).first()
    if row is None or row.revoked_at is not None:
        raise invalid
    account = session.get(Account, row.account_id)
    offset = account_clock.offset_seconds(row.environment, account.sandbox_clock_offset_seconds if account else 0)
    if now + timedelta(seconds=offset) >= row.access_expires_at:  # a sandbox token expires on the test clock
        raise invalid
    client = session.get(OAuthClient, row.client_id)
    if client is None or client.revoked_at is not None:
        raise invalid
    if row.environment == "production" and (account is None or not account.production_access):
        raise DomainError("production_access_not_enabled", "This account has no production access yet.")
    return Principal(
        account_id=row.account_id,
        environment=row.environment,
        scopes=effective(row.scope.split()),
        credential_id=row.family_id,  # the grant: rate limits and idempotency keys belong to it
        kind="oauth",
        clock_offset_seconds=offset,
    )


def metadata(base_url: str) -> dict[str, Any]:
    """RFC 8414 authorization server metadata."""
    return {
        "issuer": base_url,
        "authorization_endpoint": f"{base_url}/oauth/authorize",
        "token_endpoint": f"{base_url}/oauth/token",
        "revocation_endpoint": f"{base_url}/oauth/revoke",
        "introspection_endpoint": f"{base_url}/oauth/introspect",
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "service_documentation": f"{base_url}/docs",
    }


def error_redirect(redirect_uri: str, error: str, description: str, state: str | None) -> str:
    params = {"error": error, "error_description": description}
    if state is not None:
        params["state"] = state
    separator = "&" if "?" in redirect_uri else "?"
    return redirect_uri + separator + urlencode(params)
