"""OAuth 2.0 authorization server state: clients, authorization codes (PKCE, S256) and rotating tokens.

Only hashes of codes and tokens are stored (SHA-256: they carry ≥256 random bits, so a fast hash is safe).
Tokens form families: each refresh rotates to a child; presenting an already rotated refresh token revokes the
whole family (RFC 9700), after a short grace for a client that lost the response.
"""

from datetime import datetime

from sqlalchemy import JSON, Text
from sqlmodel import Field

from server.db.models.base import TenantOwned
from server.db.types import UTCDateTime


class OAuthClient(TenantOwned, table=True):
    """A registered application; owned by the account of the developer who registered it."""

    __tablename__ = "oauth_clients"

    id: str = Field(primary_key=True, max_length=40)  # cli_…; this is the public OAuth client_id
    name: str = Field(max_length=100)
    # NULL for public clients (SPAs, native apps), which authenticate with PKCE alone.
    client_secret_hash: str | None = Field(default=None, max_length=64, unique=True)
    is_public: bool = Field(default=False)
    # exact match (loopback port excepted)
    redirect_uris: list[str] = Field(default_factory=list, sa_type=JSON)
    allowed_scopes: list[str] = Field(default_factory=list, sa_type=JSON)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OAuthAuthorizationCode(TenantOwned, table=True):
    """A single-use code; the tenant columns are the account and environment the user consented to."""

    __tablename__ = "oauth_authorization_codes"

    code_hash: str = Field(primary_key=True, max_length=64)
    client_id: str = Field(foreign_key="oauth_clients.id", ondelete="CASCADE", max_length=40, index=True)
    user_id: str = Field(foreign_key="users.id", ondelete="CASCADE", max_length=40, index=True)
    redirect_uri: str = Field(max_length=2048)  # must equal the one sent at the token exchange
    scope: str = Field(sa_type=Text)  # space-separated, as in the protocol
    code_challenge: str = Field(max_length=128)
    code_challenge_method: str = Field(default="S256", max_length=8)  # S256 only; plain is refused
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The token family issued for this code: a second use of the code revokes it (RFC 6749 §4.1.2).
    token_family_id: str | None = Field(default=None, max_length=40)


class OAuthToken(TenantOwned, table=True):
    """One access token with its refresh token; rotation creates a child row in the same family."""

    __tablename__ = "oauth_tokens"

    id: int | None = Field(default=None, primary_key=True)
    access_token_hash: str = Field(max_length=64, unique=True)
    refresh_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    family_id: str = Field(max_length=40, index=True)  # revoking a family is one UPDATE on this column
    parent_id: int | None = Field(default=None, foreign_key="oauth_tokens.id")  # the token this one rotated
    client_id: str = Field(foreign_key="oauth_clients.id", ondelete="CASCADE", max_length=40, index=True)
    user_id: str = Field(foreign_key="users.id", ondelete="CASCADE", max_length=40, index=True)
    scope: str = Field(sa_type=Text)  # space-separated
    access_expires_at: datetime = Field(sa_type=UTCDateTime)
    refresh_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rotated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # refresh token used; child issued
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
