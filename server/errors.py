"""Every error becomes a problem+json document with a stable code.

Handlers raise `ApiProblem`, services `DomainError` (mapped here by its code's catalogued status). The framework
raises its own exceptions (routing 404/405, security 401/403, unsupported media types, response validation); they
are translated here, in one place, so clients see one vocabulary of codes whatever layer refused the request.
"""

import json
import logging
from typing import Any

from connexion.exceptions import (
    BadRequestProblem,
    Forbidden,
    NonConformingResponse,
    OAuthProblem,
    OAuthScopeProblem,
    ProblemException,
    UnsupportedMediaTypeProblem,
)
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from server.db import engine as db
from server.openapi import routes
from server.problems import ApiProblem, DomainError, FieldError, from_domain, validation_failed
from server.request_context import request_id_var

log = logging.getLogger("og.errors")


def translate(exc: Exception, path: str = "") -> ApiProblem:
    """The ApiProblem a framework exception stands for."""
    if isinstance(exc, ApiProblem):
        return exc
    if isinstance(exc, DomainError):  # a service's refusal: its status comes from the error catalogue
        return from_domain(exc)
    if isinstance(exc, OAuthScopeProblem):
        return ApiProblem(403, "insufficient_scope", "The credential lacks a scope this operation needs.")
    if isinstance(exc, OAuthProblem):
        return ApiProblem(
            401,
            "authentication_required",
            "Send an API key or OAuth access token as 'Authorization: Bearer …'.",
            headers={"WWW-Authenticate": 'Bearer realm="og-records"'},
        )
    if isinstance(exc, Forbidden):
        return ApiProblem(403, "insufficient_scope", str(exc.detail))
    if isinstance(exc, UnsupportedMediaTypeProblem):
        return ApiProblem(415, "unsupported_media_type", str(exc.detail))
    if isinstance(exc, NonConformingResponse):
        log.error("response does not conform to the spec: %s", exc.detail)
        return ApiProblem(500, "internal_error", "The server produced an invalid response.")
    if isinstance(exc, BadRequestProblem):
        if exc.detail == "RequestBody is required":
            return validation_failed([FieldError("required", "", "A request body is required.")])
        return ApiProblem(400, "bad_request", str(exc.detail))
    if isinstance(exc, ProblemException):
        return ApiProblem(exc.status, _code_for_status(exc.status), str(exc.detail or exc.title))
    if isinstance(exc, HTTPException):
        return _http_problem(exc, path)
    if database_unavailable(exc):
        log.warning("database unavailable: %s", db.describe(exc))
        return ApiProblem(
            503,
            "database_unavailable",
            "The database is not reachable or did not answer in time. Retry after Retry-After seconds.",
            headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
        )
    log.error("unhandled error", exc_info=exc)
    return ApiProblem(500, "internal_error", "An unexpected error occurred. Quote the request id to support.")


# Seconds a client should wait after a 503 database_unavailable: about one connect timeout.
DATABASE_RETRY_AFTER = 5


# Kept under its old name for callers of this module.
database_unavailable = db.unavailable


def _http_problem(exc: HTTPException, path: str) -> ApiProblem:
    if exc.status_code == 404:
        return ApiProblem(404, "not_found", "No such route. See /docs for the API reference.")
    if exc.status_code == 405:
        allowed = routes.allowed_methods(path)
        return ApiProblem(
            405,
            "method_not_allowed",
            f"This route accepts {', '.join(allowed) or 'no methods'}.",
            headers={"Allow": ", ".join(allowed)},
        )
    return ApiProblem(exc.status_code, _code_for_status(exc.status_code), str(exc.detail))


def _code_for_status(status: int) -> str:
    return {
        400: "bad_request",
        401: "authentication_required",
        403: "insufficient_scope",
        404: "not_found",
        405: "method_not_allowed",
        406: "not_acceptable",
        409: "conflict",
        413: "payload_too_large",
        415: "unsupported_media_type",
        422: "validation_failed",
        429: "rate_limited",
        501: "not_implemented",
        503: "service_unavailable",
    }.get(status, "internal_error" if status >= 500 else "bad_request")


def problem_response(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    problem = translate(exc, request.url.path)
    if problem.status >= 500 and problem.code != "database_unavailable":  # that one was logged by translate
        log.error("%r", problem)
    body = problem.body(request_id=request_id_var.get(), instance=request.url.path)
    return ConnexionResponse(
        status_code=problem.status,
        body=json.dumps(body),
        content_type="application/problem+json",
        headers=dict(problem.headers or {}),
    )


def register(app: Any) -> None:
    for exc_class in (ProblemException, HTTPException, Exception):
        app.add_error_handler(exc_class, problem_response)
