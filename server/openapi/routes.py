"""Which methods each path of the document accepts, for a truthful `Allow` header on 405 answers.

connexion's own 405 lists only the method of the route that happened to match first.
"""

import re
from typing import Any

_METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
_routes: list[tuple[re.Pattern[str], list[str]]] = []


def template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")


def install(document: dict[str, Any], extra: dict[str, list[str]] | None = None) -> None:
    _routes.clear()
    for path, item in document.get("paths", {}).items():
        _routes.append((template_regex(path), [m.upper() for m in _METHODS if m in item]))
    for path, methods in (extra or {}).items():
        _routes.append((template_regex(path), methods))


def allowed_methods(path: str) -> list[str]:
    methods: set[str] = set()
    for pattern, route_methods in _routes:
        if pattern.match(path):
            methods.update(route_methods)
    return sorted(methods)
