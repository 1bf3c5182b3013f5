"""connexion security handlers for the spec's two schemes, `apiKey` (HTTP bearer) and `oauth2`.

Both read `Authorization: Bearer …`. The key prefix tells them apart: `og_test_`/`og_live_` secrets are API keys,
anything else is an OAuth access token. Each handler ignores the other kind's tokens (connexion then tries the next
scheme), checks the operation's declared scopes itself and raises our own problems, so a missing scope is a 403
`insufficient_scope` naming the scopes and never a bare 401.
"""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from connexion.lifecycle import ConnexionRequest
from connexion.security import NO_VALUE
from starlette.concurrency import run_in_threadpool

from server import clock
from server.db.engine import engine, reads_inline, session_scope
from server.principal import Principal
from server.problems import ApiProblem, DomainError, from_domain
from server.scopes import missing
from server.services import api_keys, oauth

API_KEY_PREFIXES = tuple(api_keys.PREFIXES.values())


def _bearer_token(request: ConnexionRequest) -> str | None:
    header: str | None = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiProblem(
            401,
            "authentication_required",
            "Send the credential as 'Authorization: Bearer <API key or access token>'.",
            headers={"WWW-Authenticate": 'Bearer realm="og-records"'},
        )
    return token.strip()


def _authenticate_api_key(token: str) -> Principal:
    # A Core transaction, not an ORM session: committed at the end (the `last_used_at` touch), rolled back on errors.
    with engine().begin() as connection:
        return api_keys.authenticate(connection, token)


def _touch_api_key(key_id: str) -> None:
    with engine().begin() as connection:
        api_keys.touch(connection, key_id)


async def _authenticate_api_key_on_loop(token: str) -> Principal:
    """The lookup on the event loop, no thread hop: on SQLite through the loop thread's own connection
    (`reads_inline`), on PostgreSQL as one SELECT on a connection the loop keeps (no pool checkout; if that connection
    fails, the lookup runs the ordinary way in the thread pool). Only the occasional `last_used_at` write, which may
    wait for a lock, goes to a thread, in its own transaction."""
    verified = (
        api_keys.verify_on_loop(engine(), token)
        if reads_inline()
        else await api_keys.verify_on_loop_pg(engine(), token)
    )
    if verified is None:
        return await run_in_threadpool(_authenticate_api_key, token)
    principal, stale = verified
    if stale:
        await run_in_threadpool(_touch_api_key, principal.credential_id)
    return principal


def _authenticate_access_token(token: str) -> Principal:
    with session_scope() as session:
        return oauth.authenticate_access_token(session, token)


# Request-scope memo: token -> Principal or the DomainError it raised (the request log reads the caller from it: a
# refused known key, `api_keys.RefusedKeyError`, names its owner).
RESOLVED_CREDENTIALS = "og.resolved_credentials"


async def resolve_credential(scope: MutableMapping[str, Any], token: str) -> Principal:
    """The principal behind a bearer token, looked up once per request.

    The rate-limit middleware resolves the token first (it needs the credential and plan before anything runs);
    the security handlers then reuse the outcome from the request scope instead of querying again.
    """
    memo: dict[str, Principal | DomainError] = scope.setdefault(RESOLVED_CREDENTIALS, {})
    outcome = memo.get(token)
    if outcome is None:
        is_api_key = token.startswith(API_KEY_PREFIXES)
        try:
            if is_api_key and (reads_inline() or engine().dialect.name == "postgresql"):
                outcome = await _authenticate_api_key_on_loop(token)
            else:
                authenticate = _authenticate_api_key if is_api_key else _authenticate_access_token
                outcome = await run_in_threadpool(authenticate, token)
        except DomainError as refusal:
            outcome = refusal
        memo[token] = outcome
    if isinstance(outcome, DomainError):
        raise from_domain(outcome)  # a service's refusal, as the security layer needs it (a ProblemException)
    # From here on the request reads the sandbox account's test clock (0: real time, always so in production).
    clock.use_account_offset(outcome.clock_offset_seconds)
    return outcome


def _check_scopes(principal: Principal, required: list[str]) -> None:
    lacking = missing(required, principal.scopes)
    if lacking:
        raise ApiProblem(
            403,
            "insufficient_scope",
            f"This operation needs the scope {', '.join(lacking)}.",
            missing_scopes=lacking,
        )


class _BearerHandler:
    accepts_api_keys: bool

    def get_fn(
        self, security_scheme: dict[str, Any], required_scopes: list[str]
    ) -> Callable[[ConnexionRequest], Awaitable[Any]]:
        wants_key = self.accepts_api_keys

        async def verify(request: ConnexionRequest) -> Any:
            token = _bearer_token(request)
            if token is None or token.startswith(API_KEY_PREFIXES) != wants_key:
                return NO_VALUE
            principal = await resolve_credential(request.scope, token)
            _check_scopes(principal, required_scopes or [])
            return {"sub": principal.account_id, "principal": principal}

        return verify


class ApiKeyHandler(_BearerHandler):
    accepts_api_keys = True


class AccessTokenHandler(_BearerHandler):
    accepts_api_keys = False


SECURITY_MAP = {"bearer": ApiKeyHandler, "oauth2": AccessTokenHandler}
