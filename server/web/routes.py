"""Every page route, mounted beside the API by `server.app` (one entry per page module; each module keeps its own
`ROUTES` with the methods, which `server.openapi.routes` uses for truthful `Allow` headers on 405)."""

from collections.abc import Awaitable, Callable

import connexion
from starlette.requests import Request
from starlette.responses import Response

from server.web import artwork, smartlink_page, static

Handler = Callable[[Request], Awaitable[Response]]

# path → (methods, handler)
PAGES: dict[str, tuple[list[str], Handler]] = {
    **{path: (methods, static.serve) for path, methods in static.ROUTES.items()},
    **{path: (methods, smartlink_page.show) for path, methods in smartlink_page.ROUTES.items()},
    **{path: (methods, artwork.serve) for path, methods in artwork.ROUTES.items()},
}

ROUTES: dict[str, list[str]] = {path: methods for path, (methods, _handler) in PAGES.items()}


def add_routes(app: connexion.AsyncApp) -> None:
    for path, (methods, handler) in PAGES.items():
        app.add_url_rule(path, f"web:{path}", handler, methods=methods)
