"""The ASGI application: the 3.1 contract bound to handlers, with the cross-cutting layers around it."""

import copy
from typing import Any

import connexion
from connexion.middleware import MiddlewarePosition
from starlette.requests import Request
from starlette.responses import Response

from server import errors, logs, problems
from server.config import Settings
from server.db import engine as db
from server.middleware import RequestGuardMiddleware
from server.openapi import routes, specification
from server.openapi.resolver import HANDLER_PACKAGE, TagResolver
from server.openapi.validators import VALIDATOR_MAP
from server.security import SECURITY_MAP
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


def create_app(settings: Settings | None = None) -> connexion.AsyncApp:
    settings = settings or Settings.from_env()
    logs.configure(settings.log_level, as_json=settings.log_json)
    db.configure(settings)
    return build_app(specification.raw_document(), settings)


def build_app(
    document: dict[str, Any], settings: Settings, handler_package: str = HANDLER_PACKAGE
) -> connexion.AsyncApp:
    """The app for any 3.1 document (tests build small ones to prove the adapter)."""
    specification.install()
    problems.install_catalogue(document.get("x-error-codes", {}))
    routes.install(document, extra={"/openapi.json": ["GET"]})
    lifespan = webhook_worker.embedded(settings) if settings.webhooks_embedded_worker else None
    app = connexion.AsyncApp(__name__, security_map=SECURITY_MAP, lifespan=lifespan)
    app.add_api(
        copy.deepcopy(document),
        resolver=TagResolver(handler_package),
        validator_map=VALIDATOR_MAP,
        validate_responses=settings.validate_responses,
        swagger_ui_options=connexion.options.SwaggerUIOptions(swagger_ui=False, serve_spec=False),
    )
    app.add_url_rule("/openapi.json", "openapi_json", openapi_json, methods=["GET"])
    errors.register(app)
    app.add_middleware(
        RequestGuardMiddleware,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        upload_paths=upload_paths(document),
    )
    return app
