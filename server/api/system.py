"""Liveness and readiness probes."""

from connexion.lifecycle import ConnexionResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from server.api.responses import json_response
from server.db.engine import session_scope
from server.problems import ApiProblem


def get_health() -> ConnexionResponse:
    return json_response({"status": "ok"})


def get_readiness() -> ConnexionResponse:
    try:
        with session_scope() as session:
            session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except SQLAlchemyError as exc:
        raise ApiProblem(
            503, "service_unavailable", "The database is not reachable.", headers={"Retry-After": "5"}
        ) from exc
    return json_response({"status": "ready", "checks": {"database": "ok"}})
