"""Which methods each path of the document accepts, for a truthful `Allow` header on 405 answers.

connexion's own 405 lists only the method of the route that happened to match first.
"""

import re
from typing import Any

_METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
_routes: list[tuple[re.Pattern[str], list[str]]] = []
_static: dict[str, list[str]] = {}


def template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")


def install(document: dict[str, Any], extra: dict[str, list[str]] | None = None) -> None:
    _routes.clear()
    _static.clear()
    every = {path: [m.upper() for m in _METHODS if m in item] for path, item in document.get("paths", {}).items()}
    every.update(extra or {})
    for path, methods in every.items():
        _routes.append((template_regex(path), methods))
        if "{" not in path:
            _static[path] = methods


def allowed_methods(path: str) -> list[str]:
    # OpenAPI matches a concrete path before a templated one: `/payouts/request` is not `/payouts/{id}`.
    if path in _static:
        return sorted(_static[path])
    methods: set[str] = set()
    for pattern, route_methods in _routes:
        if pattern.match(path):
            methods.update(route_methods)
    return sorted(methods)


def refused_method(path: str, method: str) -> list[str] | None:
    """The methods of a concrete path when `method` is not one of them (None: not refused here). The router would
    otherwise hand `GET /payouts/request` to the templated `/payouts/{id}`, which OpenAPI's matching rules out."""
    methods = _static.get(path)
    if methods is None or method.upper() in methods or (method.upper() == "HEAD" and "GET" in methods):
        return None
    return sorted(methods)
