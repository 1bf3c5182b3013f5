"""Sign-up, sign-in and sign-out, and where `/` sends a visitor."""

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from server.problems import DomainError
from server.services import account_links, accounts, web_sessions
from server.web.dashboard import throttle
from server.web.dashboard.common import (
    checked_form,
    clear_session_cookie,
    cookie_name,
    current_viewer,
    field,
    forbidden,
    page,
    preferred_language,
    redirect,
    run,
    set_session_cookie,
)


async def root(request: Request) -> Response:
    return redirect("/dashboard" if await current_viewer(request) else "/login")


def _signup_page(request: Request, *, status_code: int = 200, **context: object) -> Response:
    values: dict[str, object] = {"name": "", "email": "", "kind": "artist", "errors": {}, "error": None}
    values.update(context)
    return page(
        request,
        "dashboard/signup.html",
        status_code=status_code,
        title="Create your account",
        min_password=web_sessions.MIN_PASSWORD_LENGTH,
        **values,
    )


async def signup(request: Request) -> Response:
    if request.method == "GET":
        if await current_viewer(request):
            return redirect("/dashboard")
        return _signup_page(request)
    form = await checked_form(request)
    if form is None:
        return forbidden(request)
    name, email, kind = field(form, "name"), field(form, "email"), field(form, "kind")
    lang = preferred_language(request)

    def create(session: Session) -> str:
        user = web_sessions.sign_up(session, name=name, email=email, password=field(form, "password"), kind=kind)
        account_links.send_verification(session, user, lang)  # confirms the address; blocks nothing meanwhile
        return web_sessions.start(session, user)

    try:
        raw = await run(create)
    except DomainError as problem:
        errors = {error.pointer.lstrip("/"): error.detail for error in problem.errors}
        if problem.code == "conflict":
            errors["email"] = "An account with this email exists already. Sign in instead."
        return _signup_page(
            request, status_code=problem.status, name=name, email=email, kind=kind, errors=errors, error=problem.detail
        )
    response = redirect("/dashboard")
    set_session_cookie(request, response, raw)
    return response


def _login_page(request: Request, *, status_code: int = 200, email: str = "", error: str | None = None) -> Response:
    return page(request, "dashboard/login.html", status_code=status_code, title="Sign in", email=email, error=error)


async def login(request: Request) -> Response:
    if request.method == "GET":
        if await current_viewer(request):
            return redirect("/dashboard")
        return _login_page(request)
    form = await checked_form(request)
    if form is None:
        return forbidden(request)
    email, password = field(form, "email"), field(form, "password")[: web_sessions.MAX_PASSWORD_LENGTH + 1]
    client_ip = request.client.host if request.client else "unknown"
    wait = await throttle.retry_after(email, client_ip)
    if wait:
        response = _login_page(
            request,
            status_code=429,
            email=email,
            error=f"Too many sign-in attempts. Try again in {wait} seconds.",
        )
        response.headers["Retry-After"] = str(wait)
        return response

    def sign_in(session: Session) -> str | None:
        user = accounts.verify_password(session, email, password)
        return web_sessions.start(session, user) if user else None

    raw = await run(sign_in)
    if raw is None:
        # One answer for an unknown email and a wrong password: the form does not tell who has an account.
        return _login_page(request, status_code=401, email=email, error="The email or password is not right.")
    response = redirect("/dashboard")
    set_session_cookie(request, response, raw)
    return response


async def logout(request: Request) -> Response:
    form = await checked_form(request)
    if form is None:
        return forbidden(request)
    raw = request.cookies.get(cookie_name(request), "")
    if raw:
        await run(lambda session: web_sessions.end(session, raw))
    response = redirect("/login")
    clear_session_cookie(request, response)
    return response


ROUTES = {
    "/": (["GET"], root),
    "/signup": (["GET", "POST"], signup),
    "/login": (["GET", "POST"], login),
    "/logout": (["POST"], logout),
}
