"""Liveness and readiness probes."""

import asyncio

from connexion.lifecycle import ConnexionResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from server.api.responses import json_response
from server.db.engine import session_scope
from server.errors import DATABASE_RETRY_AFTER
from server.problems import ApiProblem

# /readyz answers within this many seconds whatever the database does (issue 23 #2: a black-holed database made
# it hang forever, so orchestrators never took the instance out of rotation).
READINESS_TIMEOUT_SECONDS = 2.0


def get_health() -> ConnexionResponse:
    return json_response({"status": "ok"})


def _ping_database() -> None:
    with session_scope() as session:
        session.exec(text("SELECT 1"))  # type: ignore[call-overload]


async def get_readiness() -> ConnexionResponse:
    try:
        # The check's thread may stay blocked up to the connect timeout; the answer does not wait for it.
        await asyncio.wait_for(run_in_threadpool(_ping_database), timeout=READINESS_TIMEOUT_SECONDS)
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        raise ApiProblem(
            503,
            "database_unavailable",
            "The database is not reachable or did not answer in time.",
            headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
        ) from exc
    return json_response({"status": "ready", "checks": {"database": "ok"}})
