"""Hostile JSON bodies on every JSON-body operation (and the multipart `metadata` part) answer 4xx problem+json
with a stable code, never 500, and JSON that Python would quietly accept but no integrator means is refused."""

import json
import secrets
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.strict_json import MAX_DEPTH, StrictJSONError, loads
from tests.conftest import ROOT, Tenant

SPEC = json.loads((ROOT / "spec" / "dist" / "openapi.json").read_text())


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        resolved: dict[str, Any] = SPEC["components"]["parameters"][name]
        return resolved
    return node


def _example(parameter: dict[str, Any]) -> str:
    schema = parameter.get("schema", {})
    for source in (parameter, schema):
        if "example" in source:
            return str(source["example"])
        if source.get("examples") and isinstance(source["examples"], list):
            return str(source["examples"][0])
    return "1" if schema.get("type") == "integer" else "x"


def _json_operations() -> list[tuple[str, str, str, dict[str, str]]]:
    """Every operation with a JSON body, with valid path parameters and required headers (so that the body is
    what the server judges)."""
    found = []
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {}) if isinstance(operation, dict) else {}
            if "application/json" not in content:
                continue
            concrete, headers = path, {}
            for parameter in map(_resolve, item.get("parameters", []) + operation.get("parameters", [])):
                if parameter["in"] == "path":
                    concrete = concrete.replace("{" + parameter["name"] + "}", _example(parameter))
                elif parameter["in"] == "header" and parameter.get("required"):
                    headers[parameter["name"]] = _example(parameter)
            found.append((operation["operationId"], method.upper(), concrete, headers))
    return found


OPERATIONS = _json_operations()

HOSTILE: dict[str, bytes] = {
    "nesting_300": b'{"name": ' + b"[" * 300 + b"]" * 300 + b"}",
    "nesting_100000": b"[" * 60000,
    "nesting_inside_strings": b'{"a": "[", "b": ' + b"[" * 300 + b"]" * 300 + b"}",
    "integer_4301_digits": b'{"name": ' + b"9" * 4301 + b"}",
    "lone_surrogate": b'{"name": "\\ud800"}',
    "lone_surrogate_key": b'{"\\udfff": 1}',
    "nan": b'{"name": NaN}',
    "infinity": b'{"amount": -Infinity}',
    "overflowing_float": b'{"amount": 1e309}',
    "duplicate_key": b'{"name": "a", "name": "b"}',
}


def _problem(response: Any) -> dict[str, Any]:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    assert response.headers["content-type"] == "application/problem+json", response.text[:300]
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    return body


def test_every_json_operation_is_covered() -> None:
    # 17 API operations and the five inbound webhooks; a new JSON operation joins the tests below by itself.
    assert len(OPERATIONS) >= 22


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op[0] for op in OPERATIONS])
def test_hostile_json_is_400_malformed_json(
    client: TestClient, tenant: Tenant, operation: tuple[str, str, str, dict[str, str]]
) -> None:
    _, method, path, extra = operation
    answers = {}
    for case, content in HOSTILE.items():
        headers = {
            **tenant.headers,
            **extra,
            "content-type": "application/json",
            "idempotency-key": secrets.token_hex(8),
        }
        response = client.request(method, path, content=content, headers=headers)
        body = _problem(response)
        answers[case] = (response.status_code, body["code"])
    assert answers == {case: (400, "malformed_json") for case in HOSTILE}


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op[0] for op in OPERATIONS])
def test_json_without_content_type_is_415(
    client: TestClient, tenant: Tenant, operation: tuple[str, str, str, dict[str, str]]
) -> None:
    _, method, path, extra = operation
    headers = {**tenant.headers, **extra, "idempotency-key": secrets.token_hex(8)}
    response = client.request(method, path, content=b'{"name": "x"}', headers=headers)
    body = _problem(response)
    assert (response.status_code, body["code"]) == (415, "unsupported_media_type"), body


def test_hostile_multipart_metadata_is_400(client: TestClient, tenant: Tenant) -> None:
    answers = {}
    for case, content in HOSTILE.items():
        files = {"metadata": (None, content, "application/json"), "audio": ("a.wav", b"RIFF0000WAVE", "audio/wav")}
        response = client.post("/api/v1/tracks", files=files, headers={**tenant.headers})
        answers[case] = (response.status_code, _problem(response)["code"])
    assert answers == {case: (400, "malformed_json") for case in HOSTILE}


def test_the_parser_keeps_ordinary_json() -> None:
    document = {"a": [1, 2.5, "x", None, True, {"b": "ü\u20ac\U0001f3b5"}], "c": -0.0, "big": 10**4000}
    assert loads(json.dumps(document)) == document
    nested: Any = 1
    for _ in range(MAX_DEPTH - 1):
        nested = [nested]
    assert loads(json.dumps(nested)) == nested
    with pytest.raises(StrictJSONError):
        loads(json.dumps([nested]))
    assert loads('"\\ud83c\\udfb5"') == "\U0001f3b5"  # a surrogate pair is one character, not a lone surrogate
