"""API keys: creation, authentication, rotation with a grace period, revocation."""

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, or_, select

from server.db.models.accounts import Account
from server.db.models.api_keys import ApiKey
from server.db.types import utcnow
from server.ids import new_id
from server.principal import Principal
from server.problems import ApiProblem
from server.scopes import SCOPES, effective

PREFIXES = {"sandbox": "og_test_", "production": "og_live_"}
ROTATION_GRACE = timedelta(days=7)  # the product page's promise: a rotated key keeps working for 7 days
_ALPHABET = string.ascii_letters + string.digits
_SECRET_LENGTH = 40  # ≈238 random bits
# Writing last_used_at on every request would turn reads into writes; once a minute is precise enough.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_secret(environment: str) -> str:
    return PREFIXES[environment] + "".join(secrets.choice(_ALPHABET) for _ in range(_SECRET_LENGTH))


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str  # shown once, never stored


def create_key(
    session: Session,
    *,
    account: Account,
    environment: str,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
) -> IssuedKey:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ApiProblem(422, "validation_failed", f"Unknown scopes: {', '.join(unknown)}.")
    if environment == "production" and not account.production_access:
        raise ApiProblem(
            403,
            "production_access_not_enabled",
            "This account has no production access yet. Production is in early access; ask us to enable it.",
        )
    secret = _new_secret(environment)
    key = ApiKey(
        id=new_id("key"),
        account_id=account.id,
        environment=environment,
        name=name,
        scopes=sorted(set(scopes)),
        secret_hash=hash_secret(secret),
        prefix=PREFIXES[environment],
        last4=secret[-4:],
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    return IssuedKey(key, secret)


def authenticate(session: Session, secret: str, *, now: datetime | None = None) -> Principal:
    """The principal an API key secret stands for, or the precise 401/403 why not."""
    now = now or utcnow()
    if not secret.startswith(tuple(PREFIXES.values())):
        raise ApiProblem(401, "invalid_api_key", "The API key is not valid.")
    digest = hash_secret(secret)
    key = session.exec(
        select(ApiKey).where(or_(col(ApiKey.secret_hash) == digest, col(ApiKey.previous_secret_hash) == digest))
    ).first()
    if key is None:
        raise ApiProblem(401, "invalid_api_key", "The API key is not valid.")
    if key.revoked_at is not None:
        raise ApiProblem(401, "api_key_revoked", "The API key was revoked.")
    if hmac.compare_digest(key.secret_hash, digest):
        if key.expires_at is not None and now >= key.expires_at:
            raise ApiProblem(401, "api_key_expired", "The API key has expired.")
    elif key.previous_expires_at is None or now >= key.previous_expires_at:
        raise ApiProblem(401, "api_key_expired", "This API key was rotated and its grace period has ended.")
    account = session.get(Account, key.account_id)
    if account is None:  # pragma: no cover - foreign keys prevent it
        raise ApiProblem(401, "invalid_api_key", "The API key is not valid.")
    if key.environment == "production" and not account.production_access:
        raise ApiProblem(
            403,
            "production_access_not_enabled",
            "This account has no production access yet. Production is in early access; ask us to enable it.",
        )
    if key.last_used_at is None or now - key.last_used_at >= _LAST_USED_RESOLUTION:
        key.last_used_at = now
        session.add(key)
    return Principal(
        account_id=key.account_id,
        environment=key.environment,
        scopes=effective(key.scopes),
        credential_id=key.id,
        kind="api_key",
        plan=account.plan,
    )
