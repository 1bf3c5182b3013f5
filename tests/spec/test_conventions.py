"""Our spec conventions (spec/CONVENTIONS.md), checked on the bundled document the server and SDKs use."""

import re
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest

from server.openapi.specification import raw_document

DOCUMENT = raw_document()
METHODS = ("get", "put", "post", "patch", "delete")
PUBLIC_TAGS = {"OAuth", "InboundWebhooks", "System"}
PUBLIC_OPERATIONS = {"getPublicSmartLink", "followSmartLink"}
# RFC 6749 prescribes its own error shape for the OAuth endpoints (see spec/.redocly.lint-ignore.yaml).
OAUTH_ERROR_RESPONSES = {"OAuthInvalidRequest", "OAuthInvalidClient", "OAuthErrorPage"}


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in DOCUMENT["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


OPERATIONS = list(operations())
IDS = [f"{method.upper()} {path}" for path, method, _ in OPERATIONS]


def resolve(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        parts = node["$ref"].removeprefix("#/").split("/")
        node = DOCUMENT
        for part in parts:
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def ref_name(node: dict[str, Any]) -> str:
    return str(node.get("$ref", "")).rsplit("/", 1)[-1]


def test_the_document_is_openapi_31_with_the_product_pages_operations() -> None:
    assert DOCUMENT["openapi"].startswith("3.1.")
    required = {
        ("post", "/api/v1/releases"),
        ("get", "/api/v1/releases/{id}"),
        ("post", "/api/v1/releases/{id}/submit"),
        ("post", "/api/v1/tracks"),
        ("get", "/api/v1/tracks/{id}/qc-status"),
        ("post", "/api/v1/splits"),
        ("get", "/api/v1/releases/{releaseId}/splits"),
        ("post", "/api/v1/persons"),
        ("get", "/api/v1/earnings"),
        ("get", "/api/v1/payouts"),
        ("post", "/api/v1/payouts/request"),
        ("post", "/api/v1/smartlinks"),
        ("get", "/api/v1/smartlinks/{slug}"),
        ("get", "/api/v1/smartlinks/{id}/stats"),
        ("post", "/webhooks/stripe"),
        ("post", "/webhooks/wise"),
        ("post", "/webhooks/dsp-sync"),
        ("post", "/webhooks/mailgun"),
        ("post", "/webhooks/whapi"),
    }
    present = {(method, path) for path, method, _ in OPERATIONS}
    assert required <= present
    # Every wizard step of PATCH /api/v1/releases/{id}/{step} has its own typed operation.
    steps = {path for path, method, _ in OPERATIONS if method == "patch" and path.startswith("/api/v1/releases/{id}/")}
    assert steps == {f"/api/v1/releases/{{id}}/{step}" for step in ("details", "tracks", "artwork", "distribution")}


def test_operation_ids_are_unique_camel_case_verb_noun() -> None:
    ids = [operation["operationId"] for _, _, operation in OPERATIONS]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)+", operation_id), operation_id


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=IDS)
def test_operation_has_one_tag_summary_and_description(path: str, method: str, operation: dict[str, Any]) -> None:
    assert len(operation.get("tags", [])) == 1
    assert operation["tags"][0] in {tag["name"] for tag in DOCUMENT["tags"]}
    assert operation.get("summary")
    assert len(operation.get("description", "")) >= 20


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=IDS)
def test_security_is_declared_with_scopes(path: str, method: str, operation: dict[str, Any]) -> None:
    assert "security" in operation, "every operation declares its security explicitly"
    public = operation["tags"][0] in PUBLIC_TAGS or operation["operationId"] in PUBLIC_OPERATIONS
    if public:
        assert operation["security"] == []
        return
    schemes = {name: scopes for requirement in operation["security"] for name, scopes in requirement.items()}
    assert set(schemes) == {"apiKey", "oauth2"}
    assert schemes["apiKey"] == schemes["oauth2"]
    assert len(schemes["apiKey"]) == 1
    known = DOCUMENT["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"]["scopes"]
    assert schemes["apiKey"][0] in known
    assert {"401", "403"} <= set(operation["responses"])


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=IDS)
def test_errors_are_shared_problem_responses(path: str, method: str, operation: dict[str, Any]) -> None:
    responses = operation["responses"]
    assert "500" in responses
    if operation["tags"][0] != "OAuth":
        assert "429" in responses
    for status, response in responses.items():
        if not status.startswith(("4", "5")):
            continue
        assert "$ref" in response, f"{status} must reference a shared response"
        if ref_name(response) in OAUTH_ERROR_RESPONSES:
            continue
        assert list(resolve(response)["content"]) == ["application/problem+json"], status


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=IDS)
def test_inputs_can_fail_validation_visibly(path: str, method: str, operation: dict[str, Any]) -> None:
    if operation["tags"][0] == "OAuth":
        return  # RFC 6749 errors instead (400 invalid_request)
    has_input = bool(operation.get("parameters") or DOCUMENT["paths"][path].get("parameters"))
    if "requestBody" in operation:
        assert {"400", "415", "422"} <= set(operation["responses"])
    elif has_input:
        assert "422" in operation["responses"]


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=IDS)
def test_mutating_posts_take_an_idempotency_key(path: str, method: str, operation: dict[str, Any]) -> None:
    if method != "post" or operation["tags"][0] in PUBLIC_TAGS:
        return
    names = {resolve(p)["name"] for p in operation.get("parameters", [])}
    assert "Idempotency-Key" in names


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=IDS)
def test_success_responses_declare_request_id_and_rate_limit_headers(
    path: str, method: str, operation: dict[str, Any]
) -> None:
    for status, response in operation["responses"].items():
        if status.startswith(("2", "3")) and operation["tags"][0] != "OAuth":
            headers = resolve(response).get("headers", {})
            assert {"X-Request-Id", "X-RateLimit-Limit", "X-RateLimit-Remaining", "RateLimit"} <= set(headers), status


def _parameters() -> Iterator[tuple[str, dict[str, Any]]]:
    for path, method, operation in OPERATIONS:
        for parameter in [*DOCUMENT["paths"][path].get("parameters", []), *operation.get("parameters", [])]:
            yield f"{method.upper()} {path}", resolve(parameter)


@pytest.mark.parametrize(("where", "parameter"), list(_parameters()))
def test_parameters_have_exactly_one_type(where: str, parameter: dict[str, Any]) -> None:
    # connexion's parameter parsing cannot coerce type arrays (it answers 500): keep them out of parameters.
    schema = resolve(parameter.get("schema", {}))
    assert isinstance(schema.get("type"), str), f"{parameter['name']} needs one `type`"
    assert "nullable" not in schema


def _schemas(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if "type" in node or "properties" in node:
            yield path, node
        for key, value in node.items():
            yield from _schemas(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _schemas(value, f"{path}/{index}")


def test_money_is_never_a_number() -> None:
    offenders = [
        path
        for path, schema in _schemas(DOCUMENT["components"]["schemas"])
        for name, prop in schema.get("properties", {}).items()
        if isinstance(prop, dict)
        and prop.get("type") in ("number", ["number", "null"])
        and re.search(r"amount|gross|net|fee|balance|price|total|royalt", name)
    ]
    assert offenders == []


def test_no_unused_components() -> None:
    text = str(DOCUMENT["paths"]) + str(DOCUMENT["webhooks"]) + str(DOCUMENT["components"])
    unused = [
        f"{kind}/{name}"
        for kind, items in DOCUMENT["components"].items()
        if kind != "securitySchemes"
        for name in items
        if f"#/components/{kind}/{name}'" not in text
    ]
    assert unused == []


def _examples() -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(where, schema, example) for every named example of a media type."""
    for path, method, operation in OPERATIONS:
        media_types = dict(operation.get("requestBody", {}).get("content", {}))
        for status, response in operation["responses"].items():
            for media, content in resolve(response).get("content", {}).items():
                media_types[f"{status} {media}"] = content
        for media, content in media_types.items():
            for name, example in content.get("examples", {}).items():
                yield f"{method.upper()} {path} {media} {name}", content.get("schema", {}), resolve(example)["value"]


def _inline(node: Any) -> Any:
    if isinstance(node, dict):
        if "$ref" in node and node["$ref"].startswith("#/"):
            return _inline(resolve(node))
        return {k: _inline(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v) for v in node]
    return node


EXAMPLES = list(_examples())


@pytest.mark.parametrize(("where", "schema", "example"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_examples_validate_against_their_schemas(where: str, schema: dict[str, Any], example: Any) -> None:
    validator = jsonschema_rs.Draft202012Validator(_inline(schema), validate_formats=True)
    errors = [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(example)]
    assert errors == []


def test_problem_examples_use_catalogued_codes() -> None:
    catalogue = DOCUMENT["x-error-codes"]
    for name, response in DOCUMENT["components"]["responses"].items():
        for content in response.get("content", {}).values():
            for example in content.get("examples", {}).values():
                value = resolve(example)["value"]
                code = value.get("code") if isinstance(value, dict) else None  # HTML pages carry none
                if code is not None:
                    assert code in catalogue, f"{name}: {code}"
                    assert catalogue[code]["status"] == resolve(example)["value"]["status"]


def test_every_outbound_event_uses_the_envelope() -> None:
    for event_type, item in DOCUMENT["webhooks"].items():
        body = item["post"]["requestBody"]["content"]["application/json"]["schema"]
        names = {ref_name(part) for part in body.get("allOf", [])}
        assert "EventEnvelope" in names, event_type
        type_schema = next(p for p in body["allOf"] if "properties" in p)["properties"]["type"]
        assert type_schema.get("const") == event_type
