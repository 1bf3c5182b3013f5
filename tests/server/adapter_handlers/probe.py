"""Handlers for the small 3.1 document in test_openapi_adapter.py."""

from typing import Any

from connexion.lifecycle import ConnexionResponse

from server.api.responses import json_response


def echo_body(body: dict[str, Any]) -> ConnexionResponse:
    return json_response(body)


def search(count: int) -> ConnexionResponse:
    return json_response({"count": count})


def bad_response() -> ConnexionResponse:
    # Violates the declared response schema (`kind` must be the const "probe").
    return json_response({"kind": "other"})


def crash() -> ConnexionResponse:
    raise RuntimeError("boom")


def echo_optional(body: dict[str, Any] | None = None) -> ConnexionResponse:
    return json_response({"received": body})
