"""CSRF protection for every form a page posts: a double-submit token.

The token lives in an HttpOnly, SameSite=Strict cookie and is repeated in each form (`csrf_token` field) or, for
htmx requests, in the `X-CSRF-Token` header (the base template sets it on `<body hx-headers>`). A cross-site
request can make the browser send the cookie (not with SameSite=Strict in current browsers, but older ones do) but
cannot read it, so it cannot repeat it. Compared in constant time.
"""

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

COOKIE = "og_csrf"
FIELD = "csrf_token"
HEADER = "x-csrf-token"


def token(request: Request) -> str:
    """The request's CSRF token: the cookie's, or a new one (then `attach` must set it on the response)."""
    existing = request.cookies.get(COOKIE, "")
    return existing if len(existing) >= 32 else secrets.token_urlsafe(32)


def attach(request: Request, response: Response, value: str) -> Response:
    """Set the cookie when the request did not already carry this token."""
    if request.cookies.get(COOKIE) != value:
        response.set_cookie(
            COOKIE,
            value,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
    return response


def valid(request: Request, submitted: str | None) -> bool:
    """True when the submitted token (form field or header) matches the cookie."""
    cookie = request.cookies.get(COOKIE, "")
    candidate = submitted or request.headers.get(HEADER, "")
    return len(cookie) >= 32 and hmac.compare_digest(cookie.encode(), candidate.encode())
