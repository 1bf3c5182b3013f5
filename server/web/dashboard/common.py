"""What every dashboard page shares: the session cookie, the signed-in viewer, CSRF and Origin checks, rendering.

Handlers are Starlette handlers; database work runs in the thread pool (`run`), one unit of work per call, through
the same services as the API.
"""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server import config
from server.db.engine import session_scope
from server.mail import compose
from server.services import web_sessions
from server.services.web_sessions import Viewer
from server.web import csrf, pages

T = TypeVar("T")
Handler = Callable[[Request], Awaitable[Response]]


def secure(request: Request) -> bool:
    """Behind HTTPS (the request, or the public base URL when a proxy terminates TLS): Secure cookies."""
    return request.url.scheme == "https" or config.active().base_url.startswith("https://")


def cookie_name(request: Request) -> str:
    # `__Host-` binds the cookie to this exact host over HTTPS (no Domain, Path=/, Secure): a sibling subdomain
    # cannot plant or overwrite it. Browsers refuse the prefix without Secure, so plain HTTP uses the bare name.
    return "__Host-og_session" if secure(request) else "og_session"


def set_session_cookie(request: Request, response: Response, raw: str) -> None:
    response.set_cookie(
        cookie_name(request),
        raw,
        max_age=int(web_sessions.ABSOLUTE_TIMEOUT.total_seconds()),
        httponly=True,
        samesite="lax",  # Lax, not Strict: a link from an email or another site still arrives signed in
        secure=secure(request),
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(cookie_name(request), path="/", secure=secure(request), httponly=True, samesite="lax")


async def run(work: Callable[[Session], T]) -> T:
    """`work` in one database transaction, in the thread pool."""

    def unit() -> T:
        with session_scope() as session:
            return work(session)

    return await run_in_threadpool(unit)


async def current_viewer(request: Request) -> Viewer | None:
    raw = request.cookies.get(cookie_name(request), "")
    if not raw:
        return None
    return await run(lambda session: web_sessions.viewer(session, raw))


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303, headers={"Cache-Control": "no-store"})


def same_origin(request: Request) -> bool:
    """Unsafe requests must come from our own pages: an `Origin` header, when the browser sends one, names us."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    parsed = urlsplit(origin)
    own = {f"{request.url.scheme}://{request.headers.get('host', '')}", config.active().base_url.rstrip("/")}
    return f"{parsed.scheme}://{parsed.netloc}" in own


async def checked_form(request: Request) -> FormData | None:
    """The posted form when its CSRF token and Origin check out, else None (the caller answers 403)."""
    form = await request.form()
    token = form.get(csrf.FIELD)
    if not same_origin(request) or not csrf.valid(request, token if isinstance(token, str) else None):
        return None
    return form


def field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def forbidden(request: Request) -> Response:
    return page(
        request,
        "dashboard/message.html",
        status_code=403,
        title="Form expired",
        message="This form expired or did not come from this site. Go back, reload the page and try again.",
    )


def page(request: Request, template: str, *, status_code: int = 200, **context: Any) -> Response:
    """Render a dashboard template with a CSRF token (for its forms and htmx) and set the token's cookie."""
    token = csrf.token(request)
    response = pages.render(template, status_code=status_code, csrf_token=token, path=request.url.path, **context)
    return csrf.attach(request, response, token)


def signed_in(handler: Callable[[Request, Viewer], Awaitable[Response]]) -> Handler:
    """A page only for signed-in people: others are sent to the sign-in page."""

    async def wrapped(request: Request) -> Response:
        viewer = await current_viewer(request)
        if viewer is None:
            return redirect("/login")
        return await handler(request, viewer)

    return wrapped


def preferred_language(request: Request) -> str:
    """German when the browser prefers it, else English (the languages the mail templates speak)."""
    first = request.headers.get("accept-language", "").split(",")[0].strip().lower()
    return compose.language(first[:2])
