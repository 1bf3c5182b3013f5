"""API keys: creation, authentication, rotation with a grace period, revocation."""

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, bindparam
from sqlalchemy import select as sa_select
from sqlalchemy import update as sa_update
from sqlmodel import Session, col, or_

from server.db import loop_reads, loop_reads_pg
from server.db.models.accounts import Account
from server.db.models.api_keys import ApiKey
from server.db.types import utcnow
from server.domain import account_clock
from server.domain.api_keys import EXPIRING_WITHIN, status_of
from server.domain.errors import DomainError, FieldError, invalid_state, not_found
from server.ids import has_prefix, new_id
from server.pagination import Page, paginate
from server.principal import Principal
from server.representations.api_keys import represent
from server.scopes import SCOPES, effective, missing
from server.services import events

PREFIXES = {"sandbox": "og_test_", "production": "og_live_"}
_PREFIX_TUPLE = tuple(PREFIXES.values())
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
        raise DomainError("validation_failed", f"Unknown scopes: {', '.join(unknown)}.")
    if environment == "production" and not account.production_access:
        raise DomainError(
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


_KEYS = cast(Table, ApiKey.__table__)  # type: ignore[attr-defined]
_ACCOUNTS = cast(Table, Account.__table__)  # type: ignore[attr-defined]
# Built once: constructing the statement per request cost more than running it.
_LOOKUP = (
    sa_select(
        _KEYS.c.id,
        _KEYS.c.account_id,
        _KEYS.c.environment,
        _KEYS.c.scopes,
        _KEYS.c.secret_hash,
        _KEYS.c.revoked_at,
        _KEYS.c.expires_at,
        _KEYS.c.previous_expires_at,
        _KEYS.c.last_used_at,
        _ACCOUNTS.c.production_access,
        _ACCOUNTS.c.plan,
        _ACCOUNTS.c.sandbox_clock_offset_seconds,
    )
    .join_from(_KEYS, _ACCOUNTS, _KEYS.c.account_id == _ACCOUNTS.c.id)
    .where(or_(_KEYS.c.secret_hash == bindparam("digest"), _KEYS.c.previous_secret_hash == bindparam("digest")))
)
_TOUCH = sa_update(_KEYS).where(_KEYS.c.id == bindparam("key_id")).values(last_used_at=bindparam("now"))


class RefusedKeyError(DomainError):
    """A known key that is refused (revoked, expired, production not open): its owner is known, so the account's
    request log can show the attempt (`server.services.request_log`). The security layer (`server.security`) turns it
    into the problem connexion ranks 401 against 403 with, at the edge like every domain error."""

    def __init__(self, row: Any, code: str, detail: str) -> None:  # a row of _LOOKUP
        super().__init__(code, detail)
        # Built only when refusing: the accepted path stays as lean as it was.
        self.owner = Principal(
            account_id=row.account_id,
            environment=row.environment,
            scopes=frozenset(),
            credential_id=row.id,
            kind="api_key",
            plan=row.plan,
        )


def authenticate(connection: Connection, secret: str, *, now: datetime | None = None) -> Principal:
    """The principal an API key secret stands for, or the precise 401/403 why not.

    This runs on every request, so it is one indexed query for the key and its account's gate and plan on a Core
    connection (no ORM session or objects: the session's bookkeeping cost about as much as the query), plus a write
    only when `last_used_at` is more than a minute old. Nothing is cached: a revocation is effective on the very
    next request.
    """
    now = now or utcnow()
    principal, stale = verify(connection, secret, now=now)
    if stale:
        touch(connection, principal.credential_id, now=now)
    return principal


def touch(connection: Connection, key_id: str, *, now: datetime | None = None) -> None:
    """Record that the key was used (at most once a minute, see `verify`)."""
    connection.execute(_TOUCH, {"key_id": key_id, "now": now or utcnow()})


def verify(connection: Connection, secret: str, *, now: datetime | None = None) -> tuple[Principal, bool]:
    """`authenticate` without the write: the principal, and whether `last_used_at` is due to be touched."""
    digest = _digest(secret)
    return _verified(connection.execute(_LOOKUP, {"digest": digest}).first(), digest, now or utcnow())


def verify_on_loop(engine: Engine, secret: str) -> tuple[Principal, bool]:
    """`verify` for the event loop on SQLite (`server.db.engine.reads_inline`): the same query and rules, the row read
    through the thread's own connection (`server.db.loop_reads`: ≈ 17 µs of CPU instead of ≈ 75 through the pool)."""
    digest = _digest(secret)
    return _verified(loop_reads.first(engine, _LOOKUP, {"digest": digest}), digest, utcnow())


async def verify_on_loop_pg(engine: Engine, secret: str) -> tuple[Principal, bool] | None:
    """`verify` for the event loop on PostgreSQL: the same query and rules, the row read through one of the loop's own
    connections (`server.db.loop_reads_pg`: one round trip, no thread hop, no pool checkout). None when that
    connection failed: the caller then verifies the ordinary way (`authenticate`), which reports what is wrong."""
    digest = _digest(secret)
    row = await loop_reads_pg.first(engine, _LOOKUP, {"digest": digest})
    if row is loop_reads_pg.FAILED:
        return None
    return _verified(row, digest, utcnow())


def _digest(secret: str) -> str:
    if not secret.startswith(_PREFIX_TUPLE):
        raise DomainError("invalid_api_key", "The API key is not valid.")
    return hash_secret(secret)


def _verified(row: Any, digest: str, now: datetime) -> tuple[Principal, bool]:
    if row is None:
        raise DomainError("invalid_api_key", "The API key is not valid.")
    offset = account_clock.offset_seconds(row.environment, row.sandbox_clock_offset_seconds)
    used_at = now  # `last_used_at` is bookkeeping in real time
    now += timedelta(seconds=offset)  # a sandbox key's rotation grace runs on the account's test clock
    if row.revoked_at is not None:
        raise RefusedKeyError(row, "api_key_revoked", "The API key was revoked.")
    if hmac.compare_digest(row.secret_hash, digest):
        if row.expires_at is not None and now >= row.expires_at:
            raise RefusedKeyError(row, "api_key_expired", "The API key has expired.")
    elif row.previous_expires_at is None or now >= row.previous_expires_at:
        # The previous secret of a rotated key: accepted only during its grace period.
        raise RefusedKeyError(row, "api_key_expired", "This API key was rotated and its grace period has ended.")
    if row.environment == "production" and not row.production_access:
        raise RefusedKeyError(
            row,
            "production_access_not_enabled",
            "This account has no production access yet. Production is in early access; ask us to enable it.",
        )
    principal = Principal(
        account_id=row.account_id,
        environment=row.environment,
        scopes=effective(row.scopes),
        credential_id=row.id,
        kind="api_key",
        plan=row.plan,
        clock_offset_seconds=offset,
    )
    return principal, row.last_used_at is None or used_at - row.last_used_at >= _LAST_USED_RESOLUTION


def create_for(
    session: Session, principal: Principal, *, name: str, scopes: list[str], expires_at: datetime | None
) -> IssuedKey:
    """A key created through the API: in the caller's environment, with no scope the caller does not hold."""
    lacking = missing(scopes, principal.scopes)
    if lacking:
        raise DomainError(
            "insufficient_scope",
            f"A credential can only grant scopes it holds; this one lacks {', '.join(lacking)}.",
            missing_scopes=lacking,
        )
    if expires_at is not None and expires_at <= utcnow():
        raise DomainError(
            "validation_failed",
            "expires_at must be in the future.",
            errors=[FieldError("in_past", "/expires_at", "expires_at must be in the future.")],
        )
    account = session.get(Account, principal.account_id)
    if account is None:  # pragma: no cover - the principal was authenticated against this account
        raise not_found("account", principal.account_id)
    return create_key(
        session, account=account, environment=principal.environment, name=name, scopes=scopes, expires_at=expires_at
    )


def get(session: Session, principal: Principal, key_id: str) -> ApiKey:
    key = session.get(ApiKey, key_id) if has_prefix(key_id, "key") else None
    if key is None or (key.account_id, key.environment) != (principal.account_id, principal.environment):
        raise not_found("API key", key_id)
    return key


def list_page(
    session: Session, principal: Principal, *, limit: int, cursor: str | None, status: str | None
) -> Page[ApiKey]:
    now = utcnow()
    where = [col(ApiKey.account_id) == principal.account_id, col(ApiKey.environment) == principal.environment]
    expires = col(ApiKey.expires_at)
    not_revoked = col(ApiKey.revoked_at).is_(None)
    if status == "revoked":
        where.append(col(ApiKey.revoked_at).is_not(None))
    elif status == "expired":
        where += [not_revoked, expires <= now]
    elif status == "expiring":
        where += [not_revoked, expires > now, expires < now + EXPIRING_WITHIN]
    elif status == "active":
        where += [not_revoked, or_(expires.is_(None), expires >= now + EXPIRING_WITHIN)]
    return paginate(
        session,
        ApiKey,
        where=where,
        list_name="api_keys",
        filters={"status": status, "env": principal.environment},
        limit=limit,
        cursor=cursor,
    )


def rotate(session: Session, principal: Principal, key_id: str, *, expires_in: int) -> IssuedKey:
    """A new secret now; the previous one keeps working for `expires_in` seconds (at most two secrets work)."""
    key = get(session, principal, key_id)
    state = status_of(key)
    if state in ("revoked", "expired"):
        raise invalid_state("API key", state, f"A {state} API key cannot be rotated; create a new key.")
    now = utcnow()
    secret = _new_secret(key.environment)
    key.previous_secret_hash = key.secret_hash if expires_in > 0 else None
    key.previous_expires_at = now + timedelta(seconds=expires_in) if expires_in > 0 else None
    key.secret_hash = hash_secret(secret)
    key.last4 = secret[-4:]
    key.updated_at = now
    session.add(key)
    session.flush()
    return IssuedKey(key, secret)


def revoke(session: Session, principal: Principal, key_id: str) -> ApiKey:
    """Both secrets stop working at once. Revoking a revoked key changes nothing."""
    key = get(session, principal, key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        key.updated_at = key.revoked_at
        session.add(key)
        session.flush()
    return key


# --- operations of the API: each makes its change and emits its event in the caller's transaction ----------------
# (The dashboard's key pages call `create_for`/`rotate`/`revoke` and emit nothing, as before.)


def create_and_announce(
    session: Session, principal: Principal, *, name: str, scopes: list[str], expires_at: datetime | None
) -> IssuedKey:
    issued = create_for(session, principal, name=name, scopes=scopes, expires_at=expires_at)
    events.emit(session, principal, "api_key.created", represent(issued.key))
    return issued


def rotate_and_announce(session: Session, principal: Principal, key_id: str, *, expires_in: int) -> IssuedKey:
    issued = rotate(session, principal, key_id, expires_in=expires_in)
    events.emit(session, principal, "api_key.rotated", represent(issued.key))
    return issued


def revoke_and_announce(session: Session, principal: Principal, key_id: str) -> ApiKey:
    """`api_key.revoked` the first time only: revoking a revoked key changes nothing and announces nothing."""
    already = get(session, principal, key_id).revoked_at is not None
    key = revoke(session, principal, key_id)
    if not already:
        events.emit(session, principal, "api_key.revoked", represent(key))
    return key
