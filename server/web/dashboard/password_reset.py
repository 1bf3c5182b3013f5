"""“Forgot password?”: ask for a reset link by email, then set a new password through it.

The request form answers the same whether or not an account has the address (no account enumeration) and is
throttled like sign-in. The link page sends no Referer (the token is in its URL) and is never cached.
"""

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from server.problems import DomainError
from server.services import account_links, web_sessions
from server.web.dashboard import throttle
from server.web.dashboard.common import (
    checked_form,
    field,
    forbidden,
    page,
    preferred_language,
    redirect,
    run,
    set_session_cookie,
)

_PRIVATE = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


async def forgot_password(request: Request) -> Response:
    if request.method == "GET":
        return page(
            request, "dashboard/forgot_password.html", title="Reset your password", email="", sent=False, error=None
        )
    form = await checked_form(request)
    if form is None:
        return forbidden(request)
    email = field(form, "email")[:254]
    client_ip = request.client.host if request.client else "unknown"
    wait = await throttle.retry_after(email, client_ip, action="reset")
    if wait:
        response = page(
            request,
            "dashboard/forgot_password.html",
            status_code=429,
            title="Reset your password",
            email=email,
            sent=False,
            error=f"Too many requests. Try again in {wait} seconds.",
        )
        response.headers["Retry-After"] = str(wait)
        return response
    lang = preferred_language(request)
    await run(lambda session: account_links.request_password_reset(session, email, lang))
    return page(request, "dashboard/forgot_password.html", title="Check your email", email=email, sent=True, error=None)


def _expired(request: Request) -> Response:
    response = page(
        request,
        "dashboard/link_message.html",
        status_code=410,
        title="Link expired",
        message="This password reset link expired or was used already. Ask for a new one.",
        next_path="/forgot-password",
        next_label="Ask for a new link",
    )
    response.headers.update(_PRIVATE)
    return response


def _form(request: Request, *, status_code: int = 200, error: str | None = None) -> Response:
    response = page(
        request,
        "dashboard/reset_password.html",
        status_code=status_code,
        title="Choose a new password",
        action=request.url.path,
        min_password=web_sessions.MIN_PASSWORD_LENGTH,
        error=error,
    )
    response.headers.update(_PRIVATE)
    return response


async def reset_password(request: Request) -> Response:
    raw = str(request.path_params["token"])
    if request.method == "GET":
        # Opening the page does not spend the link: mail apps' link previews fetch it.
        if not await run(lambda session: account_links.password_reset_open(session, raw)):
            return _expired(request)
        return _form(request)
    form = await checked_form(request)
    if form is None:
        return forbidden(request)
    password = field(form, "password")

    def reset(session: Session) -> str:
        user = account_links.reset_password(session, raw, password)
        return web_sessions.start(session, user)  # this browser signs in afresh; every other one is signed out

    try:
        new_session = await run(reset)
    except DomainError as problem:
        if problem.status == 410:
            return _expired(request)
        return _form(request, status_code=problem.status, error=problem.detail)
    response = redirect("/dashboard")
    set_session_cookie(request, response, new_session)
    return response


ROUTES = {
    "/forgot-password": (["GET", "POST"], forgot_password),
    "/reset-password/{token}": (["GET", "POST"], reset_password),
}
