"""A short path for plain reads (`GET /api/v1/releases/{id}` and its kind), beside connexion.

Why: connexion runs every request through six routed middlewares (each looks the operation up again), builds a
request object, inspects the handler's signature and wraps the response, and the profile of an authenticated
single-release read showed that machinery costing more than the read itself (issue 10, docs/benchmark-results.md). For
the operations whose whole input is their path — a `GET` with only path parameters — none of it is needed on the
happy path: the route is a regular expression, the parameters are checked against the same schemas, the caller
was already authenticated by the rate-limit middleware (the outcome is memoised in the request scope) and the
scopes are a set difference. On SQLite the handler runs on the event loop (`server.db.engine.reads_inline` says
why); on PostgreSQL in the thread pool, as connexion runs it.

What keeps the two paths one contract: this middleware serves only what it is sure of and hands everything else to
connexion untouched — a query string, a path parameter its schema refuses, a missing, malformed or failing
credential, a missing scope, a path a static route or another template could also claim. Those answers (and their
problem documents) therefore still come from connexion. It sits inside connexion's exception middleware, so a
problem the handler raises (a 404 for an unknown id) is rendered by the same handlers as on the long path. With
response validation on (tests, development) it checks the body against the spec as connexion would.
tests/server/test_fast_reads.py compares both paths response for response.

With `fast_writes` the same middleware also serves plain JSON writes: the rules for them, and what they hand on, are
in `server.openapi.fast_writes` (docs/adr/0006).
"""

import inspect
import json
import keyword
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from connexion.context import _context, _receive, _scope
from connexion.exceptions import NonConformingResponseBody
from connexion.json_schema import resolve_refs
from connexion.lifecycle import ConnexionResponse
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import worker_threads
from server.db.engine import reads_inline
from server.openapi.fast_writes import (
    IDEMPOTENCY_KEY,
    WRITE_METHODS,
    HandOffError,
    WriteShape,
    read_json_body,
    replaying,
    write_shape,
)
from server.openapi.resolver import find_handler
from server.openapi.routes import by_slashes
from server.openapi.schema_validation import field_errors
from server.openapi.validators import RAW_BODY_KEY
from server.problems import DomainError
from server.scopes import missing
from server.security import API_KEY_PREFIXES, resolve_credential

_PARAMETER = re.compile(r"\{([^}/]+)\}")
_READ_ONLY = "og_read_only"
F = TypeVar("F", bound=Callable[..., Any])


def read_only(handler: F) -> F:
    """Marks a handler that only reads the database: on SQLite the short path may run it on the event loop
    (`server.db.engine.reads_inline`). A handler that writes (a smart-link hit, say) stays in the thread pool, where
    waiting for SQLite's writer lock blocks one thread and not every request."""
    setattr(handler, _READ_ONLY, True)
    return handler


@dataclass(frozen=True)
class FastRoute:
    operation_id: str
    pattern: re.Pattern[str]
    parameter_schemas: dict[str, dict[str, Any]]
    handler: Callable[..., Any]
    # Scopes by credential kind ("api_key", "oauth"); None: the operation is public (declared `security: []`).
    scopes: dict[str, list[str]] | None
    response_schemas: dict[int, dict[str, Any]]
    read_only: bool
    # Query parameters (name → schema): scalars only, none required (`_query_schemas` says which operations).
    query_schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    template: str = ""  # the path template, e.g. `/api/v1/releases/{id}`
    # A write's method and body schema (server/openapi/fast_writes.py); None for a read.
    write: WriteShape | None = None

    @property
    def method(self) -> str:
        return "GET" if self.write is None else self.write.method

    def query_arguments(self, query_string: bytes) -> dict[str, Any] | None:
        """The query parameters, typed as connexion passes them (declared defaults included), or None when
        anything is unusual — an undeclared, repeated or empty parameter, a value its schema refuses or that is
        not plainly its type — so that connexion answers it."""
        if not query_string:
            pairs: list[tuple[str, str]] = []
        elif not self.query_schemas:
            return None
        else:
            # As Starlette reads a query string (latin-1 bytes, then percent-decoded as UTF-8).
            pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
        given: dict[str, Any] = {}
        for name, raw in pairs:
            schema = self.query_schemas.get(name)
            if schema is None or name in given or raw == "":
                return None
            value = _typed(schema, raw)
            if value is None or field_errors(schema, value):
                return None
            given[name] = value
        defaults = {
            name: schema["default"]
            for name, schema in self.query_schemas.items()
            if name not in given and "default" in schema
        }
        return {**defaults, **given}

    def arguments(self, path: str) -> dict[str, str] | None:
        """The path parameters if the path is this route's and every parameter passes its schema."""
        match = self.pattern.fullmatch(path)
        if match is None:
            return None
        arguments = match.groupdict()
        for name, value in arguments.items():
            if field_errors(self.parameter_schemas[name], value):
                return None
        return arguments


_INTEGER = re.compile(r"-?[0-9]{1,18}")


def _typed(schema: dict[str, Any], raw: str) -> Any:
    """A query value as its schema's type, only in the plain spelling (anything else is left to connexion)."""
    kind = schema.get("type")
    if kind == "string":
        return raw
    if kind == "integer":
        return int(raw) if _INTEGER.fullmatch(raw) else None
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw)
    return None


def _query_schemas(parameters: list[dict[str, Any]]) -> dict[str, dict[str, Any]] | None:
    """The query parameters' schemas if the short path can read them all: optional scalars (string, integer,
    boolean; no arrays, objects or serialisation styles) named like Python parameters. None otherwise."""
    schemas: dict[str, dict[str, Any]] = {}
    for parameter in parameters:
        if parameter.get("in") != "query":
            continue
        name, schema = parameter["name"], parameter.get("schema", {})
        if parameter.get("required") or "style" in parameter or "explode" in parameter or "content" in parameter:
            return None
        if schema.get("type") not in {"string", "integer", "boolean"} or keyword.iskeyword(name):
            return None
        schemas[name] = schema
    return schemas


def _segments(template: str) -> list[str | None]:
    """A path template as segments; None stands for a parameter."""
    return [None if _PARAMETER.fullmatch(part) else part for part in template.split("/")]


def _overlap(a: str, b: str) -> bool:
    """Whether some concrete path could match both templates."""
    first, second = _segments(a), _segments(b)
    return len(first) == len(second) and all(
        x is None or y is None or x == y for x, y in zip(first, second, strict=True)
    )


def _pattern(template: str) -> re.Pattern[str]:
    """`/api/v1/releases/{id}` → `/api/v1/releases/(?P<id>[^/]+)` (a parameter is one segment, as in Starlette)."""
    parts, end = [], 0
    for match in _PARAMETER.finditer(template):
        parts += [re.escape(template[end : match.start()]), f"(?P<{match.group(1)}>[^/]+)"]
        end = match.end()
    return re.compile("".join([*parts, re.escape(template[end:])]))


def _scopes_by_kind(document: dict[str, Any], security: list[dict[str, list[str]]]) -> dict[str, list[str]] | None:
    schemes = document.get("components", {}).get("securitySchemes", {})
    by_kind: dict[str, list[str]] = {}
    for requirement in security:
        if len(requirement) != 1:
            return None  # several schemes at once or an anonymous alternative: leave it to connexion
        ((name, scopes),) = requirement.items()
        kind = {"http": "api_key", "oauth2": "oauth"}.get(schemes.get(name, {}).get("type", ""))
        if kind is None:
            return None
        by_kind[kind] = scopes
    return by_kind


def _handler_takes_exactly(handler: Callable[..., Any], names: set[str]) -> bool:
    parameters = inspect.signature(handler).parameters.values()
    # Called with keyword arguments only, as connexion calls it.
    return {p.name for p in parameters} == names and all(
        p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in parameters
    )


def fast_routes(document: dict[str, Any], handler_package: str, *, writes: bool = False) -> list[FastRoute]:
    """The operations this path may serve: GETs whose parameters are in the path or optional scalars in the query
    (or none at all, if the operation needs a credential), whose security is bearer scopes or explicitly none,
    whose handler takes exactly those parameters by name, and whose template no other path could also claim.
    With `writes`, also the plain JSON writes `fast_writes.write_shape` accepts, under the same rules."""
    resolved = resolve_refs(document)
    templates = list(resolved.get("paths", {}))
    routes = []
    if writes:
        routes += _write_routes(resolved, templates, handler_package)
    for template, item in resolved.get("paths", {}).items():
        operation = item.get("get")
        if operation is None or "requestBody" in operation:
            continue
        parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
        if any(p.get("in") not in {"path", "query"} for p in parameters):
            continue
        query = _query_schemas(parameters)
        security = operation.get("security", resolved.get("security", []))
        # A public GET without parameters (health checks, the OAuth metadata) answers for the server, not for a
        # caller, and reads the request itself: connexion's.
        if query is None or ("{" not in template and not query and not security):
            continue
        if any(_overlap(template, other) for other in templates if other != template):
            continue
        scopes = _scopes_by_kind(resolved, security) if security else None
        if security and not scopes:
            continue
        handler = find_handler(operation["tags"][0], operation["operationId"], handler_package)
        names = {p["name"] for p in parameters}
        if handler is None or not all(n.isidentifier() for n in names) or not _handler_takes_exactly(handler, names):
            continue
        routes.append(
            _route(
                template,
                parameters,
                operation,
                handler,
                scopes,
                read_only=getattr(handler, _READ_ONLY, False),
                query_schemas=query,
            )
        )
    return routes


def _write_routes(resolved: dict[str, Any], templates: list[str], handler_package: str) -> list[FastRoute]:
    routes = []
    for template, item in resolved.get("paths", {}).items():
        for method in WRITE_METHODS:
            operation = item.get(method.lower())
            accepted = operation and write_shape(resolved, method, item, operation)
            if not accepted or any(_overlap(template, other) for other in templates if other != template):
                continue
            shape, names = accepted
            scopes = _scopes_by_kind(resolved, operation.get("security", resolved.get("security", [])))
            handler = find_handler(operation["tags"][0], operation["operationId"], handler_package)
            if not scopes or handler is None or not all(n.isidentifier() for n in names):
                continue
            if not _handler_takes_exactly(handler, names):
                continue
            parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
            # A write runs in the thread pool, as connexion runs it: never read-only.
            routes.append(_route(template, parameters, operation, handler, scopes, read_only=False, write=shape))
    return routes


def _route(
    template: str,
    parameters: list[dict[str, Any]],
    operation: dict[str, Any],
    handler: Callable[..., Any],
    scopes: dict[str, list[str]] | None,
    **details: Any,
) -> FastRoute:
    return FastRoute(
        operation_id=operation["operationId"],
        pattern=_pattern(template),
        parameter_schemas={p["name"]: p.get("schema", {}) for p in parameters if p.get("in") == "path"},
        handler=handler,
        scopes=scopes,
        response_schemas=_response_schemas(operation),
        template=template,
        **details,
    )


def _response_schemas(operation: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {
        int(status): schema
        for status, response in operation.get("responses", {}).items()
        if status.isdigit()
        for media, content in response.get("content", {}).items()
        if media.endswith("json") and (schema := content.get("schema")) is not None
    }


class FastReadMiddleware:
    """Serves the happy path of the operations `fast_routes` found; everything else goes on to connexion."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        document: dict[str, Any],
        handler_package: str,
        validate_responses: bool,
        fast_writes: bool = False,
    ) -> None:
        self.app = app
        self.routes = fast_routes(document, handler_package, writes=fast_writes)
        self.validate_responses = validate_responses
        # A request tries only the routes of its method its path could match; the templates do not overlap
        # (`fast_routes`), so their order does not matter.
        self.by_method = {
            method: by_slashes((route.template, route) for route in self.routes if route.method == method)
            for method in {route.method for route in self.routes}
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        candidates = self.by_method.get(scope["method"]) if scope["type"] == "http" else None
        if candidates is None:
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        for route in candidates.get(path.count("/"), ()):
            arguments = route.arguments(path)
            if arguments is not None:
                break
        else:
            await self.app(scope, receive, send)
            return
        query = route.query_arguments(scope.get("query_string", b""))
        if query is None:
            await self.app(scope, receive, send)
            return
        arguments = {**arguments, **query}
        headers = Headers(scope=scope)
        if route.write is not None and IDEMPOTENCY_KEY in headers:
            await self.app(scope, receive, send)  # a retry may be a replay: the idempotency middleware's
            return
        context = await self._context(scope, route, headers)
        if context is None:
            await self.app(scope, receive, send)
            return
        if route.write is not None:
            received: list[Message] = []
            try:
                body = await read_json_body(route.write, headers, receive, received)
            except HandOffError:
                await self.app(scope, replaying(received, receive), send)
                return
            if body is not None:
                scope[RAW_BODY_KEY], arguments["body"] = body  # the bytes for `raw_body()`, as the validator keeps
            receive = replaying(received, receive)
        _context.set(context)
        _scope.set(scope)
        _receive.set(receive)
        if route.read_only and reads_inline():
            result: ConnexionResponse = route.handler(**arguments)
        else:
            result = await worker_threads.run(route.handler, **arguments)
        if self.validate_responses:
            _validate(route, result)
        response = Response(
            content=result.body, status_code=result.status_code, media_type=result.content_type, headers=result.headers
        )
        await response(scope, receive, send)

    async def _context(self, scope: Scope, route: FastRoute, headers: Headers) -> dict[str, Any] | None:
        """connexion's request context for an authorised caller, or None to leave the request to connexion."""
        if route.scopes is None:
            return {}
        scheme, _, token = (headers.get("authorization") or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        required = route.scopes.get("api_key" if token.startswith(API_KEY_PREFIXES) else "oauth")
        if required is None:
            return None
        try:
            principal = await resolve_credential(scope, token)
        except DomainError:
            return None
        if missing(required, principal.scopes):
            return None
        return {"user": principal.account_id, "token_info": {"sub": principal.account_id, "principal": principal}}


def _validate(route: FastRoute, result: ConnexionResponse) -> None:
    schema = route.response_schemas.get(result.status_code)
    if schema is None:
        return
    errors = field_errors(schema, json.loads(result.body))
    if errors:
        summary = "; ".join(f"{e.pointer or '/'}: {e.detail}" for e in errors[:5])
        raise NonConformingResponseBody(detail=f"Response body does not conform to the spec: {summary}")
