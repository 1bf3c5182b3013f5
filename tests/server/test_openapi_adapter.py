"""connexion serving OpenAPI 3.1: the 2020-12 keywords our spec uses are enforced on requests and responses.

Built from a small 3.1 document through the same adapter as the real app, so each keyword is proven in isolation.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.app import build_app
from server.config import Settings
from server.openapi.specification import OpenAPI31Specification, install

PROBLEM = {"content": {"application/problem+json": {"schema": {"type": "object"}}}, "description": "Problem"}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "probe", "version": "1"},
    "paths": {
        "/echo": {
            "post": {
                "operationId": "echoBody",
                "tags": ["Probe"],
                "security": [],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["kind", "amount"],
                                "properties": {
                                    "kind": {"const": "probe"},
                                    "amount": {"type": "number", "exclusiveMinimum": 0},
                                    "note": {"type": ["string", "null"]},
                                    "pair": {
                                        "type": "array",
                                        "prefixItems": [{"type": "string"}, {"type": "integer"}],
                                        "items": False,
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {"description": "ok", "content": {"application/json": {"schema": {}}}},
                    "422": PROBLEM,
                },
            }
        },
        "/search": {
            "get": {
                "operationId": "search",
                "tags": ["Probe"],
                "security": [],
                "parameters": [
                    {
                        "name": "count",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "integer", "exclusiveMinimum": 0, "maximum": 10},
                    }
                ],
                "responses": {
                    "200": {"description": "ok", "content": {"application/json": {"schema": {}}}},
                    "422": PROBLEM,
                },
            }
        },
        "/bad-response": {
            "get": {
                "operationId": "badResponse",
                "tags": ["Probe"],
                "security": [],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {"type": "object", "properties": {"kind": {"const": "probe"}}}
                            }
                        },
                    },
                    "500": PROBLEM,
                },
            }
        },
        "/optional": {
            "post": {
                "operationId": "echoOptional",
                "tags": ["Probe"],
                "security": [],
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {"schema": {"type": "object", "properties": {"n": {"type": "integer"}}}}
                    },
                },
                "responses": {
                    "200": {"description": "ok", "content": {"application/json": {"schema": {}}}},
                    "422": PROBLEM,
                },
            }
        },
        "/crash": {
            "get": {
                "operationId": "crash",
                "tags": ["Probe"],
                "security": [],
                "responses": {"200": {"description": "ok"}, "500": PROBLEM},
            }
        },
    },
}


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data_dir: Path = tmp_path_factory.mktemp("probe")
    settings = Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir}/x.sqlite3",
        redis_url=None,
        base_url="http://t",
        validate_responses=True,
        max_body_bytes=4096,
        max_upload_bytes=8192,
        log_level="WARNING",
        log_json=True,
        webhooks_allow_loopback=False,
        secret_key="k",
    )
    app = build_app(DOCUMENT, settings, handler_package="tests.server.adapter_handlers")
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _codes(response: Any) -> set[tuple[str, str]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return {(e["code"], e["pointer"]) for e in response.json()["errors"]}


VALID = {"kind": "probe", "amount": 1.5, "note": None, "pair": ["a", 1]}


def test_a_valid_body_passes(probe: TestClient) -> None:
    response = probe.post("/echo", json=VALID)
    assert response.status_code == 200
    assert response.json() == VALID


def test_const_is_enforced(probe: TestClient) -> None:
    assert ("const", "/kind") in _codes(probe.post("/echo", json={**VALID, "kind": "other"}))


def test_numeric_exclusive_minimum_is_enforced(probe: TestClient) -> None:
    assert ("exclusive_minimum", "/amount") in _codes(probe.post("/echo", json={**VALID, "amount": 0}))


def test_type_arrays_allow_null_and_refuse_other_types(probe: TestClient) -> None:
    assert probe.post("/echo", json={**VALID, "note": "x"}).status_code == 200
    assert ("type", "/note") in _codes(probe.post("/echo", json={**VALID, "note": 3}))


def test_prefix_items_are_enforced(probe: TestClient) -> None:
    assert ("type", "/pair/1") in _codes(probe.post("/echo", json={**VALID, "pair": ["a", "b"]}))
    assert ("items", "/pair/2") in _codes(probe.post("/echo", json={**VALID, "pair": ["a", 1, 2]}))


def test_every_failure_is_reported_at_once(probe: TestClient) -> None:
    codes = _codes(probe.post("/echo", json={"kind": "x", "extra": 1}))
    assert {("const", "/kind"), ("required", "/amount"), ("additional_property", "")} <= codes


def test_query_parameters_use_2020_12_too(probe: TestClient) -> None:
    assert probe.get("/search", params={"count": 3}).json() == {"count": 3}
    assert ("exclusive_minimum", "query:count") in _codes(probe.get("/search", params={"count": 0}))
    assert ("type", "query:count") in _codes(probe.get("/search", params={"count": "many"}))
    assert ("required", "query:count") in _codes(probe.get("/search"))


def test_responses_are_validated_against_the_spec(probe: TestClient) -> None:
    response = probe.get("/bad-response")
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"


def test_an_unexpected_exception_is_a_problem_not_a_stack_trace(probe: TestClient) -> None:
    response = probe.get("/crash")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "boom" not in response.text
    assert response.json()["request_id"] == response.headers["x-request-id"]


def test_a_30_document_is_refused() -> None:
    install()
    with pytest.raises(Exception, match=r"3\.1"):
        OpenAPI31Specification({**DOCUMENT, "openapi": "3.0.3"})


def test_an_invalid_31_document_is_refused() -> None:
    broken = {**DOCUMENT, "paths": {"/x": {"get": {"responses": "nope"}}}}
    with pytest.raises(Exception, match=r"invalid OpenAPI 3\.1 document"):
        OpenAPI31Specification(broken)


def test_an_optional_body_may_be_left_out_but_not_sent_as_null(probe: TestClient) -> None:
    assert probe.post("/optional").json() == {"received": {}}  # connexion hands a missing body over as {}
    assert probe.post("/optional", json={"n": 1}).json() == {"received": {"n": 1}}
    assert ("type", "") in _codes(
        probe.post("/optional", content=b"null", headers={"content-type": "application/json"})
    )
