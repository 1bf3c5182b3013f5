"""The authorization matrix, generated from the spec for every operation.

- no credential → 401; a credential without the declared scope → 403 naming it (for every secured operation,
  implemented or not: security runs before the handler);
- another account's resource, or the other environment's, → 404 (for every implemented operation that takes a
  resource id: the resources are created through the spec's own create operations and request examples).
"""

import re
import secrets
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.openapi.resolver import unimplemented_operations
from server.openapi.specification import raw_document
from server.scopes import SCOPES
from tests.conftest import TenantFactory
from tests.dates import as_of_today
from tests.server.payouts_helpers import fund

DOCUMENT = raw_document()
UNIMPLEMENTED = set(unimplemented_operations(DOCUMENT))


def _resolve(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = DOCUMENT
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, item in DOCUMENT["paths"].items():
        for method in ("get", "put", "post", "patch", "delete"):
            if method in item:
                operation = dict(item[method])
                operation["parameters"] = [
                    _resolve(p) for p in [*item.get("parameters", []), *operation.get("parameters", [])]
                ]
                found.append((path, method, operation))
    return found


OPERATIONS = _operations()
SECURED = [(p, m, o) for p, m, o in OPERATIONS if o.get("security")]


def _required_scope(operation: dict[str, Any]) -> str:
    return str(operation["security"][0]["apiKey"][0])


def _path_prefix(parameter: dict[str, Any]) -> str | None:
    match = re.match(r"^\^([a-z]+)_", _resolve(parameter.get("schema", {})).get("pattern", ""))
    return match.group(1) if match else None


def _fill(path: str, operation: dict[str, Any], ids: dict[str, str]) -> str:
    for parameter in operation["parameters"]:
        if parameter["in"] == "path":
            prefix = _path_prefix(parameter) or "x"
            value = ids.get(prefix, f"{prefix}_00000000000000000000000000")
            path = path.replace("{" + parameter["name"] + "}", value)
    return path


def _example_body(operation: dict[str, Any]) -> Any:
    content = _resolve(operation.get("requestBody", {})).get("content", {})
    media = content.get("application/json")
    if media is None:
        return None
    for example in media.get("examples", {}).values():
        # The examples' dates are fixed for the docs; rules compare them with today (tests/dates.py).
        return as_of_today(_resolve(example)["value"])
    return {}


def _call(
    client: TestClient,
    method: str,
    url: str,
    operation: dict[str, Any],
    headers: dict[str, str],
    *,
    ids: dict[str, str] | None = None,
) -> Any:
    body = _with_ids(_example_body(operation), ids or {})
    multipart = _resolve(operation.get("requestBody", {})).get("content", {}).get("multipart/form-data")
    if body is None and multipart is not None:
        return client.request(method.upper(), url, files=_sample_files(multipart["schema"]), headers=headers)
    if body is None:
        return client.request(method.upper(), url, headers=headers)
    return client.request(method.upper(), url, json=body, headers=headers)


IDS = [f"{m.upper()} {p}" for p, m, _ in SECURED]


@pytest.mark.parametrize(("path", "method", "operation"), SECURED, ids=IDS)
def test_no_credential_is_401(client: TestClient, path: str, method: str, operation: dict[str, Any]) -> None:
    response = _call(client, method, _fill(path, operation, {}), operation, {})
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "authentication_required"


@pytest.mark.parametrize(("path", "method", "operation"), SECURED, ids=IDS)
def test_missing_scope_is_403(
    client: TestClient, make_tenant: TenantFactory, path: str, method: str, operation: dict[str, Any]
) -> None:
    needed = _required_scope(operation)
    resource = needed.split(":")[0]
    lacking = {needed, f"{resource}:write"}
    tenant = make_tenant(scopes=[s for s in SCOPES if s not in lacking])
    response = _call(client, method, _fill(path, operation, {}), operation, tenant.headers)
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "insufficient_scope"
    assert response.json()["missing_scopes"] == [needed]


def _creatable() -> list[tuple[str, dict[str, Any]]]:
    """Implemented create operations with a JSON example, by the id prefix of what they create."""
    creators = []
    for path, method, operation in SECURED:
        if (
            (
                method == "post"
                # createX, and operations that bring a resource into being under another verb (requestPayout):
                # their 201 links to the resource's get operation.
                and (operation["operationId"].startswith("create") or "links" in operation["responses"].get("201", {}))
                and operation["operationId"] not in UNIMPLEMENTED
            )
            and _example_body(operation) is not None
            and "{" not in path
        ):
            creators.append((path, operation))
    return creators


def _sample_files(schema: dict[str, Any]) -> dict[str, tuple[str, bytes, str]]:
    """A small real file for every binary part of a multipart body (a PNG for artwork, a WAV for audio)."""
    import io

    import numpy as np
    import soundfile
    from PIL import Image

    files = {}
    for name, part in _resolve(schema).get("properties", {}).items():
        if _resolve(part).get("format") != "binary":
            continue
        buffer = io.BytesIO()
        if "audio" in name:
            soundfile.write(buffer, np.zeros((4410, 2), dtype="int16"), 44100, format="WAV", subtype="PCM_16")
            files[name] = ("a.wav", buffer.getvalue(), "audio/wav")
        else:
            Image.new("RGB", (8, 8)).save(buffer, format="PNG")
            files[name] = ("a.png", buffer.getvalue(), "image/png")
    return files


_ID = re.compile(r"^([a-z]+)_[0-9a-z]{26}$")


def _with_ids(value: Any, ids: dict[str, str]) -> Any:
    """An example body with every example id replaced by a real one of the same kind, where we have one."""
    if isinstance(value, dict):
        return {k: _with_ids(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_ids(v, ids) for v in value]
    if isinstance(value, str) and (match := _ID.match(value)):
        return ids.get(match.group(1), value)
    return value


def _fresh(body: Any) -> Any:
    """An example body made valid again for another tenant: a smart link's slug is unique across the platform
    (every tenant here creates from the same example)."""
    if not isinstance(body, dict):
        return body
    body = dict(body)
    if "slug" in body:
        body["slug"] = f"{body['slug']}-{secrets.token_hex(4)}"
    return body


def _create_everything(client: TestClient, headers: dict[str, str]) -> dict[str, str]:
    """One resource of every kind an implemented create operation makes, dependencies first (a track's example
    names a release: the release is created first and its id put into the track's body)."""
    ids: dict[str, str] = {}
    pending = _creatable()
    while pending:
        failed = []
        for create_path, create in pending:
            body = _fresh(_with_ids(_example_body(create), ids))
            # A fresh Idempotency-Key on every create: some require one (requestPayout), all accept one.
            keyed = {**headers, "Idempotency-Key": secrets.token_hex(16)}
            response = client.post(create_path, json=body, headers=keyed)
            if response.status_code == 201:
                created_id = response.json()["id"]
                ids[created_id.split("_")[0]] = created_id
            else:
                failed.append((create_path, create, response.text))
        assert len(failed) < len(pending), f"cannot create from the spec's examples: {failed}"
        pending = [(p, c) for p, c, _ in failed]
    # Resources that only come into being as a side effect (events) are found through their list operations.
    for list_path, method, operation in SECURED:
        if method == "get" and "{" not in list_path and operation["operationId"] not in UNIMPLEMENTED:
            listed = client.get(list_path, headers=headers)
            data = listed.json().get("data") if listed.status_code == 200 else None
            if isinstance(data, list) and data and isinstance(data[0], dict) and "id" in data[0]:
                ids.setdefault(str(data[0]["id"]).split("_")[0], str(data[0]["id"]))
    return ids


BY_ID = [
    (p, m, o)
    for p, m, o in SECURED
    if o["operationId"] not in UNIMPLEMENTED and any(param["in"] == "path" for param in o["parameters"])
]


@pytest.mark.parametrize(("path", "method", "operation"), BY_ID, ids=[f"{m.upper()} {p}" for p, m, _ in BY_ID])
def test_other_tenants_resources_are_404(
    client: TestClient, make_tenant: TenantFactory, path: str, method: str, operation: dict[str, Any]
) -> None:
    owner = make_tenant(production_access=True)
    fund(owner.account_id, owner.environment, "1000")  # a payout needs a balance to come from
    ids = _create_everything(client, owner.headers)
    url = _fill(path, operation, ids)
    assert "_00000000000000000000000000" not in url, f"no implemented create operation makes the resource of {path}"
    stranger = make_tenant()
    other_environment = make_tenant(environment="production", account_id=owner.account_id)
    for intruder in (stranger, other_environment):
        response = _call(client, method, url, operation, intruder.headers, ids=ids)
        if "Sandbox" in operation["tags"] and intruder is other_environment:
            # Sandbox tools refuse production credentials before looking anything up (which leaks nothing either).
            assert response.status_code == 403, response.text
            assert response.json()["code"] == "sandbox_only"
            continue
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "not_found"
    # …while the owner does reach it (the 404 is about tenancy, not a broken request; the owner may still meet a
    # state or business rule, e.g. submitting an incomplete release).
    owner_response = _call(client, method, url, operation, owner.headers, ids=ids)
    assert owner_response.status_code != 404, owner_response.text
