"""connexion's routers try only the candidate routes of a path (server/openapi/indexed_routing.py), and choose what
Starlette's scan of every route chooses: the same route (so the same operation or page), the same path parameters,
the same 405 fallback and the same slash redirect, for every route of the app and for paths no route has."""

import itertools
import re
from typing import Any

import pytest
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.testclient import TestClient

from server.config import Settings
from server.openapi import indexed_routing
from server.openapi.indexed_routing import IndexedRouter

METHODS = ("GET", "POST", "DELETE")  # a read, a write, and one most routes lack (the 405 fallback)
ODD_PATHS = (
    "",
    "/",
    "//",
    "/api",
    "/api/",
    "/api/v1",
    "/api/v1/",
    "/api/v1//releases",
    "/api/v1/releases//",
    "/api/v1/nowhere",
    "/api/v1/releases/rel_1/tracks/extra/deeper",
    "/docs/guides/",
    "/static/a/b",
    "/l/x/y",
    "/dashboard/webhooks/x/",
    "/%2F",
    "/api/v1/releases/a%2Fb",
    "/api/v1/webhook-endpoints/",
)


def _endpoint(_request: Any) -> None:
    raise AssertionError("only matched, never called")


def _routers(app: Any, client: TestClient) -> list[Router]:
    client.get("/healthz")  # connexion assembles its middlewares (and routers) at the first request
    found: list[Router] = []
    pending = [getattr(layer, "router", None) for layer in app.middleware.middleware_stack]
    while pending:
        router = pending.pop()
        if isinstance(router, Router) and router not in found:
            found.append(router)
            pending.extend(getattr(route, "app", None) for route in router.routes)
    return found


def _starlette_choice(routes: list[BaseRoute], scope: dict[str, Any]) -> tuple[BaseRoute, dict[str, Any]] | None:
    """What `starlette.routing.Router.app` picks: the first full match, else the first partial one."""
    partial = None
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            return route, child
        if match is Match.PARTIAL and partial is None:
            partial = (route, child)
    return partial


def _indexed_choice(router: Router, scope: dict[str, Any]) -> tuple[BaseRoute, dict[str, Any]] | None:
    assert isinstance(router, IndexedRouter)
    return indexed_routing._first_match(router._index().candidates(indexed_routing.get_route_path(scope)), scope)


def _chain(router: Router, scope: dict[str, Any], choose: Any) -> list[tuple[int, dict[str, Any]]]:
    """The routes chosen from the outer router down through its mounts, each with its child scope's parameters."""
    chain = []
    while True:
        chosen = choose(router, scope)
        if chosen is None:
            return chain
        route, child = chosen
        chain.append((id(route), child.get("path_params", {})))
        if not (isinstance(route, Mount) and isinstance(route.app, Router)):
            return chain
        scope = {**scope, **child}
        router = route.app


def _redirects(router: Router, scope: dict[str, Any], candidates: bool) -> bool:
    """Whether the router would answer with Starlette's slash redirect (no route matched the path itself)."""
    path = scope["path"]
    other = path.rstrip("/") if path.endswith("/") else path + "/"
    if path == "/" or not other:
        return False
    respelled = {**scope, "path": other}
    if candidates:
        return indexed_routing._first_match(router._index().candidates(other), respelled) is not None  # type: ignore[attr-defined]
    return _starlette_choice(router.routes, respelled) is not None


def _paths(routers: list[Router]) -> list[str]:
    templates = {route.path for router in routers for route in router.routes if isinstance(route, Route)}
    literals = sorted({segment for t in templates for segment in t.split("/") if segment and "{" not in segment})
    paths = set(ODD_PATHS)
    for template in templates:
        for value in ("abc", "123", "1.5", "rel_x"):
            concrete = re.sub(r"\{[^}]+\}", value, template)
            paths.update({concrete, concrete + "/", concrete.rstrip("/"), concrete + "/more", "/api/v1" + concrete})
    # Paths made of the routes' own words in other orders: the ones an index could wrongly skip or wrongly keep.
    for a, b in itertools.product(literals, repeat=2):
        paths.update({f"/{a}/{b}", f"/api/v1/{a}/x/{b}"})
    return sorted(paths)


def _routing_is_the_same_on_both_databases(settings: Settings) -> None:
    if settings.database_url.startswith("postgresql"):
        pytest.skip("routing does not touch the database: compared once, on SQLite")


def test_every_router_of_the_app_is_indexed(app: Any, client: TestClient, settings: Settings) -> None:
    _routing_is_the_same_on_both_databases(settings)
    routers = _routers(app, client)
    # connexion's routing middleware (and the API it mounts), its swagger middleware and its app, with their mounts.
    assert len(routers) >= 5
    assert all(type(router) is IndexedRouter for router in routers)
    # Rebound: Starlette's `__call__` runs `middleware_stack`, which was the plain `Router.app` of construction.
    assert all(router.middleware_stack == router.app for router in routers)


def test_the_index_chooses_what_starlette_chooses_for_every_path_and_method(
    app: Any, client: TestClient, settings: Settings
) -> None:
    _routing_is_the_same_on_both_databases(settings)
    routers = _routers(app, client)
    mounted = [getattr(route, "app", None) for other in routers for route in other.routes]
    outer = [router for router in routers if not any(router is inner for inner in mounted)]
    compared = 0
    for router, path, method in itertools.product(outer, _paths(routers), METHODS):
        scope = {"type": "http", "method": method, "path": path, "root_path": "", "query_string": b"", "headers": []}
        assert _chain(router, scope, _indexed_choice) == _chain(
            router, scope, lambda r, s: _starlette_choice(r.routes, s)
        ), (method, path)
        assert _redirects(router, scope, candidates=True) == _redirects(router, scope, candidates=False), path
        compared += 1
    assert compared > 5_000


def test_a_route_added_after_the_first_request_is_found() -> None:
    router = Router(routes=[Route("/a/{x}", _endpoint)])
    indexed_routing.install([type("Layer", (), {"router": router})()])
    assert isinstance(router, IndexedRouter)
    assert [route.path for route in router._index().candidates("/b/1")] == []  # type: ignore[attr-defined]
    router.routes.append(Route("/b/{x}", _endpoint))
    assert [route.path for route in router._index().candidates("/b/1")] == ["/b/{x}"]  # type: ignore[attr-defined]


def test_routes_that_may_span_segments_stay_candidates_for_every_path() -> None:
    routes = [
        Route("/files/{rest:path}", _endpoint),
        Mount("/mounted", app=Router()),
        Route("/x", _endpoint),
        Route("/{slug}", _endpoint),
        Route("/{slug}/x", _endpoint),
    ]
    router = Router(routes=routes)
    indexed_routing.install([type("Layer", (), {"router": router})()])

    def candidates(path: str) -> list[str]:
        return [route.path for route in router._index().candidates(path)]  # type: ignore[attr-defined]

    assert candidates("/files/a/b/c") == ["/files/{rest:path}", "/mounted"]
    assert candidates("/x") == ["/files/{rest:path}", "/mounted", "/x", "/{slug}"]
    assert candidates("/abc") == ["/files/{rest:path}", "/mounted", "/{slug}"]  # a parameter as the first segment
    assert candidates("/abc/x") == ["/files/{rest:path}", "/mounted", "/{slug}/x"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/docs/guides/", 200),  # a page route with its own trailing-slash spelling
        ("DELETE", "/api/v1/balance", 405),  # the 405 fallback: a route for another method
        ("GET", "/api/v1/no-such-thing", 404),
    ],
)
def test_answers_through_the_indexed_routers(client: TestClient, method: str, path: str, status: int) -> None:
    response = client.request(method, path, follow_redirects=False)
    assert response.status_code == status
