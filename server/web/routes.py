"""Every page route, mounted beside the API by `server.app` (one entry per page module; each module keeps its own
`ROUTES` with the methods, which `server.openapi.routes` uses for truthful `Allow` headers on 405)."""

from collections.abc import Awaitable, Callable

import connexion
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from server.web import artwork, dashboard, invitations, smartlink_page, static

Handler = Callable[[Request], Awaitable[Response]]

# path → (methods, handler)
PAGES: dict[str, tuple[list[str], Handler]] = {
    **{path: (methods, static.serve) for path, methods in static.ROUTES.items()},
    **invitations.ROUTES,
    **dashboard.ROUTES,
    **{path: (methods, smartlink_page.show) for path, methods in smartlink_page.ROUTES.items()},
    **{path: (methods, artwork.serve) for path, methods in artwork.ROUTES.items()},
}

ROUTES: dict[str, list[str]] = {path: methods for path, (methods, _handler) in PAGES.items()}


def add_routes(app: connexion.AsyncApp) -> None:
    for path, (methods, handler) in PAGES.items():
        app.add_url_rule(path, f"web:{path}", handler, methods=methods)


# Public GET pages with nothing to authenticate or validate: served by `PublicPageShortcut` beside connexion.
PUBLIC_GETS = (*smartlink_page.ROUTES, *artwork.ROUTES, *static.ROUTES)


class PublicPageShortcut:
    """Serves the fans' smart-link pages, their artwork and the static files straight from their handlers.

    Why: connexion passes every request through its routing, security, validation and context middlewares, and
    each of them first looks for an API operation; for these pages that is pure overhead (≈0.12 ms of CPU per
    request, a tenth of the fans' page; `python -m benchmarks.load --scenarios smartlink_page`). Nothing is skipped
    that these routes use: the request guard (request id, access log, body limits) and the per-IP rate limit sit
    outside, as for every request, and connexion's exception middleware still renders anything a handler raises.
    Other pages (forms, signed-in pages) keep going through the whole stack.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.routes = [Route(path, PAGES[path][1], methods=PAGES[path][0]) for path in PUBLIC_GETS]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            for route in self.routes:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await self.app(scope, receive, send)
