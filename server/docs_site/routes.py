"""Serve the built docs site: the API reference at /docs, the guides at /docs/guides/<slug>.

The files live inside the package (`site/`), so an installed wheel serves the same site as a checkout.
"""

import re
from functools import cache
from pathlib import Path

import connexion
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

SITE = Path(__file__).resolve().parent / "site"
_SLUG = re.compile(r"^[a-z0-9-]+$")
# The pages are self-contained: nothing may load from another origin (the HTML carries the same policy).
# The reference renderer needs inline scripts and eval; frame-ancestors and X-Frame-Options forbid framing, which a
# policy in the HTML cannot say.
_HEADERS = {
    "Content-Security-Policy": "default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-cache",
}

# Route → methods, for `server.openapi.routes.install(extra=…)` (truthful `Allow` headers on 405).
ROUTES: dict[str, list[str]] = {
    "/docs": ["GET"],
    "/docs/": ["GET"],
    "/docs/guides": ["GET"],
    "/docs/guides/": ["GET"],
    "/docs/guides/{slug}": ["GET"],
}


@cache
def _page(relative: str) -> bytes:
    return (SITE / relative).read_bytes()


def _html(relative: str) -> Response:
    try:
        body = _page(relative)
    except FileNotFoundError:
        raise HTTPException(404) from None
    return Response(body, media_type="text/html; charset=utf-8", headers=_HEADERS)


async def reference(_request: Request) -> Response:
    return _html("index.html")


async def guides_index(_request: Request) -> Response:
    return _html("guides/index.html")


async def guide(request: Request) -> Response:
    slug = str(request.path_params["slug"])
    if not _SLUG.match(slug) or slug == "index":
        raise HTTPException(404)
    return _html(f"guides/{slug}.html")


def add_routes(app: connexion.AsyncApp) -> None:
    """Mount the site on a connexion app (its `add_url_rule`)."""
    handlers = {
        "/docs": reference,
        "/docs/": reference,
        "/docs/guides": guides_index,
        "/docs/guides/": guides_index,
        "/docs/guides/{slug}": guide,
    }
    for path, handler in handlers.items():
        app.add_url_rule(path, f"docs:{path}", handler, methods=ROUTES[path])
