"""Which methods each path of the document accepts, for a truthful `Allow` header on 405 answers.

connexion's own 405 lists only the method of the route that happened to match first. Each app holds the table of
its own document (server/state.py); `install` sets the process default, read outside any app.
"""

import re
from collections.abc import Iterable
from typing import Any, TypeVar

from server import state as app_state
from server.state import RouteTable

_METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
_default: list[RouteTable] = [RouteTable()]


T = TypeVar("T")


def by_slashes(entries: Iterable[tuple[str, T]]) -> dict[int, list[T]]:
    """Entries grouped by their path template's number of slashes, in their order. A template's parameter matches
    within one segment, so a path can only match templates with as many slashes as it has: a request tries the few
    of its group, not all of them (scanning all sixty templates cost up to 12 µs, on every request)."""
    grouped: dict[int, list[T]] = {}
    for template, entry in entries:
        grouped.setdefault(template.count("/"), []).append(entry)
    return grouped


def template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")


def table(document: dict[str, Any], extra: dict[str, list[str]] | None = None) -> RouteTable:
    every = {path: [m.upper() for m in _METHODS if m in item] for path, item in document.get("paths", {}).items()}
    every.update(extra or {})
    return RouteTable(
        templated=tuple((template_regex(path), tuple(methods)) for path, methods in every.items()),
        static={path: tuple(methods) for path, methods in every.items() if "{" not in path},
    )


def install(document: dict[str, Any], extra: dict[str, list[str]] | None = None) -> RouteTable:
    _default[:] = [table(document, extra)]
    return _default[0]


def _current() -> RouteTable:
    current = app_state.current()
    return _default[0] if current is None else current.routes


def allowed_methods(path: str) -> list[str]:
    routes = _current()
    # OpenAPI matches a concrete path before a templated one: `/payouts/request` is not `/payouts/{id}`.
    if path in routes.static:
        return sorted(routes.static[path])
    methods: set[str] = set()
    for pattern, route_methods in routes.templated:
        if pattern.match(path):
            methods.update(route_methods)
    return sorted(methods)


def refused_method(path: str, method: str) -> list[str] | None:
    """The methods of a concrete path when `method` is not one of them (None: not refused here). The router would
    otherwise hand `GET /payouts/request` to the templated `/payouts/{id}`, which OpenAPI's matching rules out."""
    methods = _current().static.get(path)
    if methods is None or method.upper() in methods or (method.upper() == "HEAD" and "GET" in methods):
        return None
    return sorted(methods)
