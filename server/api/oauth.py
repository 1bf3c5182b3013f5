"""The OAuth 2.0 endpoints: authorization (sign-in and consent page), token, revocation, introspection, metadata.

These answer in the shapes RFC 6749 prescribes (redirects with `error`, JSON `{error, error_description}`), not
problem+json, because OAuth client libraries parse them. Authlib runs in a worker thread with one database session.
"""

import hmac
import re
import secrets
from typing import Any

import connexion
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from authlib.oauth2 import OAuth2Error
from connexion.lifecycle import ConnexionResponse
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from server.api.responses import json_response, redirect_response
from server.config import active
from server.db.engine import session_scope
from server.db.models.accounts import Account, User
from server.db.types import utcnow
from server.openapi.specification import raw_document
from server.request_context import request_id_var
from server.scopes import SCOPES
from server.services import accounts, oauth
from server.services.oauth import ClientView, EndUser, HttpRequest, Outcome, Server
from server.web.consent import consent_page, error_page, security_headers

CSRF_COOKIE = "og_oauth_csrf"
_AUTHORIZATION_FIELDS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # base64url of a SHA-256 digest, unpadded
_hasher = PasswordHasher()


def html_response(html: str, status: int = 200, headers: dict[str, str] | None = None) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=status,
        body=html.encode(),
        content_type="text/html; charset=utf-8",
        headers={
            "X-Request-Id": request_id_var.get(),
            "Cache-Control": "no-store",
            **security_headers(),  # every HTML page carries them (the OAuth pages are the only ones handlers build)
            **(headers or {}),
        },
    )


def _request(method: str, pairs: list[tuple[str, str]]) -> HttpRequest:
    incoming = connexion.request
    uri = active().base_url + incoming.url.path
    query = list(incoming.query_params.multi_items())
    return HttpRequest(method, uri, incoming.headers, query=query, form=pairs if method == "POST" else [])


def _scope_labels() -> dict[str, str]:
    flows = raw_document()["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"]
    return dict(flows["scopes"])


def _to_response(outcome: Outcome) -> ConnexionResponse:
    headers = dict(outcome.headers)
    location = headers.pop("Location", None)
    if outcome.status == 302 and location:
        return redirect_response(location)
    return json_response(outcome.body, outcome.status, headers)


class RefusedAuthorizationError(Exception):
    """An authorization request that cannot continue: show `page`, or send the browser to `redirect`."""

    def __init__(self, *, page: str | None = None, redirect: str | None = None) -> None:
        super().__init__(page or redirect)
        self.page = page
        self.redirect = redirect


def _check_authorization_request(session: Session, params: dict[str, str]) -> ClientView:
    """Our rules on top of Authlib's: PKCE with S256 required of every client, known scopes only."""
    server = Server(session)
    client = server.query_client(params.get("client_id", ""))
    if client is None:
        raise RefusedAuthorizationError(page="The application is not registered (unknown client_id).")
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri or not client.check_redirect_uri(redirect_uri):
        raise RefusedAuthorizationError(page="The redirect URI is not registered for this application.")
    state = params.get("state")

    def refuse(error: str, description: str) -> RefusedAuthorizationError:
        return RefusedAuthorizationError(redirect=oauth.error_redirect(redirect_uri, error, description, state))

    if params.get("response_type") != "code":
        raise refuse("unsupported_response_type", "Only response_type=code is supported.")
    if not _CHALLENGE.match(params.get("code_challenge", "")):
        raise refuse("invalid_request", "PKCE is required: send a code_challenge (base64url SHA-256, 43 chars).")
    if params.get("code_challenge_method") != "S256":
        raise refuse("invalid_request", "code_challenge_method must be S256.")
    requested = params.get("scope", "").split()
    if not requested:
        raise refuse("invalid_scope", "Ask for at least one scope.")
    not_allowed = [s for s in requested if s not in SCOPES or s not in client.row.allowed_scopes]
    if not_allowed:
        raise refuse("invalid_scope", f"Scopes not available to this application: {' '.join(not_allowed)}.")
    return client


def _consent(
    client: ClientView, params: dict[str, str], *, error: str | None = None, email: str = ""
) -> ConnexionResponse:
    csrf = secrets.token_urlsafe(32)
    labels = _scope_labels()
    secure = "; Secure" if active().base_url.startswith("https://") else ""
    html = consent_page(
        client_name=client.row.name,
        environment=client.row.environment,
        scopes=[(s, labels.get(s, s)) for s in params["scope"].split()],
        hidden={k: params[k] for k in _AUTHORIZATION_FIELDS if k in params},
        csrf_token=csrf,
        error=error,
        email=email,
    )
    cookie = f"{CSRF_COOKIE}={csrf}; Path=/oauth; HttpOnly; SameSite=Strict; Max-Age=1800{secure}"
    return html_response(
        html,
        headers={
            "Set-Cookie": cookie,
            **security_headers(params.get("redirect_uri")),
        },
    )


def _authorize_page(request: HttpRequest) -> ConnexionResponse:
    params = request.args
    with session_scope() as session:
        try:
            client = _check_authorization_request(session, params)
            Server(session).get_consent_grant(request=request, end_user=None)
        except RefusedAuthorizationError as refusal:
            return (
                redirect_response(refusal.redirect)
                if refusal.redirect
                else html_response(error_page(str(refusal.page)), 400)
            )
        except OAuth2Error as error:
            return redirect_response(
                oauth.error_redirect(
                    params["redirect_uri"], error.error, error.description or error.error, params.get("state")
                )
            )
        return _consent(client, params)


async def authorize_oauth(**_params: Any) -> ConnexionResponse:
    return await run_in_threadpool(_authorize_page, _request("GET", []))


def _verify_password(session: Session, email: str, password: str) -> User | None:
    user = session.exec(select(User).where(col(User.email) == email.strip().lower())).first()
    try:
        # An unknown email is verified against a dummy hash: the answer takes as long either way.
        _hasher.verify(user.password_hash if user else accounts.dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def _submit_consent(request: HttpRequest, cookie: str | None) -> ConnexionResponse:
    form = request.form
    params = {k: form[k] for k in _AUTHORIZATION_FIELDS if k in form}
    if not cookie or not hmac.compare_digest(cookie, form.get("csrf_token", "")):
        return html_response(error_page("The form expired or was not sent by this page. Start again."), 400)
    with session_scope() as session:
        try:
            client = _check_authorization_request(session, params)
        except RefusedAuthorizationError as refusal:
            return (
                redirect_response(refusal.redirect)
                if refusal.redirect
                else html_response(error_page(str(refusal.page)), 400)
            )
        redirect_uri, state = params["redirect_uri"], params.get("state")
        if form.get("decision") != "approve":
            return redirect_response(
                oauth.error_redirect(redirect_uri, "access_denied", "The user denied access.", state)
            )
        user = _verify_password(session, form.get("email", ""), form.get("password", ""))
        if user is None:
            return _consent(client, params, error="Email or password is wrong.", email=form.get("email", ""))
        account = session.get(Account, user.account_id)
        if client.row.environment == "production" and (account is None or not account.production_access):
            return redirect_response(
                oauth.error_redirect(redirect_uri, "access_denied", "Your account has no production access yet.", state)
            )
        server = Server(session)
        authorization = HttpRequest(
            "POST", request.uri, request.headers, query=list(params.items()), form=list(params.items())
        )
        authorization.payload = oauth._Payload(list(params.items()))
        try:
            grant = server.get_consent_grant(request=authorization, end_user=EndUser(user))
        except OAuth2Error as error:
            return redirect_response(
                oauth.error_redirect(redirect_uri, error.error, error.description or error.error, state)
            )
        outcome: Outcome = server.create_authorization_response(
            request=authorization, grant_user=EndUser(user), grant=grant
        )
        user.last_login_at = utcnow()
        session.add(user)
        return _to_response(outcome)


def _form_pairs(body: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The form fields connexion parsed (the body stream is consumed by then), as string pairs."""
    pairs: list[tuple[str, str]] = []
    for key, value in (body or {}).items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str | int | float | bool):
                pairs.append((key, str(item)))
    return pairs


async def submit_oauth_consent(body: dict[str, Any] | None = None, **_params: Any) -> ConnexionResponse:
    cookie = connexion.request.cookies.get(CSRF_COOKIE)
    return await run_in_threadpool(_submit_consent, _request("POST", _form_pairs(body)), cookie)


def _token(request: HttpRequest) -> ConnexionResponse:
    with session_scope() as session:
        return _to_response(Server(session).create_token_response(request))


def _endpoint(name: str, request: HttpRequest) -> ConnexionResponse:
    with session_scope() as session:
        return _to_response(Server(session).create_endpoint_response(name, request))


async def create_oauth_token(body: dict[str, Any] | None = None, **_params: Any) -> ConnexionResponse:
    return await run_in_threadpool(_token, _request("POST", _form_pairs(body)))


async def revoke_oauth_token(body: dict[str, Any] | None = None, **_params: Any) -> ConnexionResponse:
    return await run_in_threadpool(_endpoint, "revocation", _request("POST", _form_pairs(body)))


async def introspect_oauth_token(body: dict[str, Any] | None = None, **_params: Any) -> ConnexionResponse:
    return await run_in_threadpool(_endpoint, "introspection", _request("POST", _form_pairs(body)))


def get_oauth_metadata() -> ConnexionResponse:
    return json_response(oauth.metadata(active().base_url))
