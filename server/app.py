"""The ASGI application: the 3.1 contract bound to handlers, with the cross-cutting layers around it."""

import copy
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import connexion
from connexion.middleware import MiddlewarePosition
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from server import config, errors, logs, problems, sandbox_worker, storage
from server import state as app_state
from server.config import Settings
from server.cors import CorsMiddleware
from server.db import engine as db
from server.db import loop_reads_pg
from server.docs_site import routes as docs_routes
from server.idempotency import IdempotencyMiddleware
from server.middleware import RequestDeadlineMiddleware, RequestGuardMiddleware
from server.openapi import indexed_routing, routes, specification
from server.openapi.fast_reads import FastReadMiddleware
from server.openapi.resolver import HANDLER_PACKAGE, TagResolver
from server.openapi.validators import VALIDATOR_MAP
from server.qc import worker as qc_worker
from server.ratelimit.limiter import RateLimiter, limiter_from_settings
from server.ratelimit.middleware import DecisionHeaders, GuardRefusalHeaders, RateLimitMiddleware
from server.security import SECURITY_MAP
from server.services import request_log
from server.state import AppState
from server.web import routes as web_routes
from server.webhooks import worker as webhook_worker


def upload_paths(document: dict[str, Any]) -> list[str]:
    """Paths with a multipart body: they get the upload size limit instead of the JSON one."""
    paths = []
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method in {"post", "put", "patch"}:
                content = operation.get("requestBody", {}).get("content", {})
                if "multipart/form-data" in content:
                    paths.append(path)
    return paths


async def openapi_json(_request: Request) -> Response:
    return Response(specification.document_bytes(), media_type="application/json")


class App(connexion.AsyncApp):  # type: ignore[misc]
    """connexion's app with its own state (server/state.py): current for each request and for the lifespan (so for
    the work it starts), whatever other apps the process holds."""

    state: AppState

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # connexion assembles its middlewares and their routers at the first request; ours then try only the routes
        # a path can match (server/openapi/indexed_routing.py).
        assemble = self.middleware._build_middleware_stack

        def assemble_indexed() -> tuple[Any, list[Any]]:
            outer, stack = assemble()
            indexed_routing.install(stack)
            return outer, stack

        self.middleware._build_middleware_stack = assemble_indexed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = app_state.set_current(self.state)
        try:
            await super().__call__(scope, receive, send)
        finally:
            app_state.reset_current(token)


def create_app(settings: Settings | None = None) -> App:
    settings = settings or Settings.from_env()
    logs.configure(settings.log_level, as_json=settings.log_json)
    db.configure(settings)
    storage.configure(settings)
    return build_app(specification.raw_document(), settings)


def background_work(settings: Settings) -> Any:
    """The app's lifespan: the work that runs beside the requests while the app does. The in-process QC worker
    (unless OG_QC_IN_PROCESS=0), the sandbox's simulated sub-distributor (unless OG_SANDBOX_SIMULATOR_IN_PROCESS=0),
    the embedded webhook delivery worker (unless OG_WEBHOOKS_EMBEDDED_WORKER=0) and the request log's writer (started
    by the first logged request, flushed on shutdown)."""
    deliveries = webhook_worker.embedded(settings) if settings.webhooks_embedded_worker else None

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        # Everything built so far (the parsed spec, connexion's operations, SQLAlchemy's mappers: ≈160,000 objects)
        # lives as long as the process. Freezing it keeps the collector's full passes, which walked all of it for
        # 50 to 200 ms with every request waiting, down to the objects requests create (issue 10: tail latency).
        if settings.freeze_gc_at_start:
            gc.collect()
            gc.freeze()
        if settings.qc_in_process:
            qc_worker.start_in_process()
        if settings.sandbox_simulator_in_process:
            sandbox_worker.start_in_process()
        try:
            if deliveries is None:
                yield
            else:
                async with deliveries(app):
                    yield
        finally:
            sandbox_worker.stop_in_process()
            qc_worker.stop_in_process()
            await run_in_threadpool(request_log.stop)  # write the request log entries still buffered
            loop_reads_pg.close_all()  # the event loop's own connections for the API-key lookup

    return lifespan


def build_app(
    document: dict[str, Any],
    settings: Settings,
    handler_package: str = HANDLER_PACKAGE,
    rate_limiter: RateLimiter | None = None,
) -> App:
    """The app for any 3.1 document (tests build small ones to prove the adapter).

    The app holds its own state; it also becomes the process default (what code outside any app reads), as the
    one app of a server process always was."""
    catalogue = document.get("x-error-codes", {})
    config.activate(settings)
    specification.install()
    problems.install_catalogue(catalogue)
    route_table = routes.install(document, extra={"/openapi.json": ["GET"], **docs_routes.ROUTES, **web_routes.ROUTES})
    app = App(__name__, security_map=SECURITY_MAP, lifespan=background_work(settings))
    app.state = AppState(
        settings=settings,
        engine=db.engine_of(settings),
        store=storage.for_settings(settings),
        catalogue=copy.deepcopy(catalogue),
        statuses=problems.statuses(catalogue),
        routes=route_table,
    )
    app.add_api(
        copy.deepcopy(document),
        resolver=TagResolver(handler_package),
        validator_map=VALIDATOR_MAP,
        validate_responses=settings.validate_responses,
        swagger_ui_options=connexion.options.SwaggerUIOptions(swagger_ui=False, serve_spec=False),
    )
    app.add_url_rule("/openapi.json", "openapi_json", openapi_json, methods=["GET"])
    docs_routes.add_routes(app)
    web_routes.add_routes(app)
    errors.register(app)
    limiter = rate_limiter or limiter_from_settings(settings)
    # Middlewares at one position nest in the order added. CORS outermost: every answer of a cross-origin route,
    # the guard's and the rate limiter's refusals included, is readable by the calling page (server/cors.py).
    app.add_middleware(CorsMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION)
    # Then this one, outside the guard.
    app.add_middleware(
        GuardRefusalHeaders, position=MiddlewarePosition.BEFORE_EXCEPTION, limiter=limiter, document=document
    )
    app.add_middleware(
        RequestGuardMiddleware,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        upload_paths=upload_paths(document),
    )
    # Inside the guard (its 503 gets the request id and the access log), outside everything that may wait.
    app.add_middleware(
        RequestDeadlineMiddleware,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        seconds=settings.request_timeout,
        upload_paths=upload_paths(document),
    )
    # Added after the guard, so it sits inside it (request ids, access log) and outside exception handling.
    app.add_middleware(
        RateLimitMiddleware,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        limiter=limiter,
        document=document,
    )
    if settings.fast_reads:
        # Inside exception handling (a handler's problem renders as on the long path), before connexion's routing.
        app.add_middleware(
            FastReadMiddleware,
            position=MiddlewarePosition.BEFORE_SWAGGER,
            document=document,
            handler_package=handler_package,
            validate_responses=settings.validate_responses,
            fast_writes=settings.fast_writes,
        )
    # Public pages (the fans' smart-link page, artwork, static files) beside connexion's API pipeline, like the
    # short path above; inside exception handling, after the guard and the rate limit.
    app.add_middleware(web_routes.PublicPageShortcut, position=MiddlewarePosition.BEFORE_SWAGGER)
    app.add_middleware(DecisionHeaders, position=MiddlewarePosition.BEFORE_CONTEXT)
    # After security (a key belongs to the credential), before request validation (a replay runs nothing again).
    app.add_middleware(IdempotencyMiddleware, position=MiddlewarePosition.BEFORE_VALIDATION)
    return app
