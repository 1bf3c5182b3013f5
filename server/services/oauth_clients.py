"""OAuth client registration and redirect-URI matching."""

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlmodel import Session

from server.db.models.accounts import Account
from server.db.models.oauth import OAuthClient
from server.ids import new_id
from server.problems import ApiProblem
from server.scopes import SCOPES


@dataclass(frozen=True)
class RegisteredClient:
    client: OAuthClient
    secret: str | None  # confidential clients only; shown once


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def register(
    session: Session,
    *,
    account: Account,
    environment: str,
    name: str,
    redirect_uris: list[str],
    public: bool,
    scopes: list[str] | None = None,
) -> RegisteredClient:
    if environment == "production" and not account.production_access:
        raise ApiProblem(403, "production_access_not_enabled", "This account has no production access yet.")
    if not redirect_uris:
        raise ApiProblem(422, "validation_failed", "Register at least one redirect URI.")
    for uri in redirect_uris:
        _check_redirect_uri(uri)
    allowed = list(SCOPES) if scopes is None else scopes
    unknown = sorted(set(allowed) - set(SCOPES))
    if unknown:
        raise ApiProblem(422, "validation_failed", f"Unknown scopes: {', '.join(unknown)}.")
    secret = None if public else "ogcs_" + secrets.token_urlsafe(32)
    client = OAuthClient(
        id=new_id("cli"),
        account_id=account.id,
        environment=environment,
        name=name,
        client_secret_hash=None if secret is None else hash_secret(secret),
        is_public=public,
        redirect_uris=list(redirect_uris),
        allowed_scopes=sorted(set(allowed)),
    )
    session.add(client)
    session.flush()
    return RegisteredClient(client, secret)


def _check_redirect_uri(uri: str) -> None:
    parts = urlsplit(uri)
    if parts.fragment:
        raise ApiProblem(422, "validation_failed", f"A redirect URI must not have a fragment: {uri}")
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and _is_loopback(parts.hostname):
        return  # native apps (RFC 8252 §7.3)
    if parts.scheme and parts.scheme not in ("http", "https", "javascript", "data", "file"):
        return  # private-use URI schemes of native apps (RFC 8252 §7.1), e.g. com.example.app:/callback
    raise ApiProblem(422, "validation_failed", f"Redirect URIs must be https, loopback http or an app scheme: {uri}")


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redirect_uri_matches(registered: str, requested: str) -> bool:
    """Exact string match, except that a loopback IP redirect matches on any port (RFC 8252 §7.3)."""
    if hmac.compare_digest(registered, requested):
        return True
    want, got = urlsplit(registered), urlsplit(requested)
    if want.scheme != "http" or got.scheme != "http":
        return False
    if not (_is_loopback(want.hostname) and want.hostname != "localhost"):
        return False
    return (want.hostname, want.path, want.query) == (got.hostname, got.path, got.query) and got.port is not None


def check_secret(client: OAuthClient, secret: str) -> bool:
    if client.client_secret_hash is None:
        return False
    return hmac.compare_digest(client.client_secret_hash, hash_secret(secret))
