"""Bad input at the framework level answers 4xx problem+json with a request id, never 500."""

import pytest
from starlette.testclient import TestClient

from tests.conftest import Tenant


def _assert_problem(response: object, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["code"] == code
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]  # type: ignore[attr-defined]
    assert str(body["type"]).endswith(code)
    return body


def test_unknown_path_is_404(client: TestClient) -> None:
    _assert_problem(client.get("/api/v1/nothing-here"), 404, "not_found")


def test_wrong_method_is_405_with_the_right_allow_header(client: TestClient, tenant: Tenant) -> None:
    response = client.delete("/api/v1/persons", headers=tenant.headers)
    _assert_problem(response, 405, "method_not_allowed")
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_a_concrete_path_is_not_taken_for_a_templated_one(client: TestClient, tenant: Tenant) -> None:
    # `/payouts/request` (POST only) is not `/payouts/{id}` with id "request" (OpenAPI matches concrete paths first).
    response = client.get("/api/v1/payouts/request", headers=tenant.headers)
    _assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"


def test_malformed_json_is_400(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/api/v1/persons",
        content=b'{"name": ',
        headers={**tenant.headers, "content-type": "application/json"},
    )
    _assert_problem(response, 400, "malformed_json")


def test_body_that_is_not_utf8_is_400(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/api/v1/persons",
        content=b'{"name": "\xff"}',
        headers={**tenant.headers, "content-type": "application/json"},
    )
    _assert_problem(response, 400, "invalid_encoding")


def test_wrong_content_type_is_415(client: TestClient, tenant: Tenant) -> None:
    response = client.post("/api/v1/persons", content=b"name=x", headers={**tenant.headers, "content-type": "text/csv"})
    _assert_problem(response, 415, "unsupported_media_type")


def test_missing_body_is_422(client: TestClient, tenant: Tenant) -> None:
    response = client.post("/api/v1/persons", headers={**tenant.headers, "content-type": "application/json"})
    _assert_problem(response, 422, "validation_failed")


def test_body_over_the_limit_is_413_before_it_is_read(client: TestClient, tenant: Tenant) -> None:
    big = b'{"name": "' + b"x" * (70 * 1024) + b'", "email": "a@example.com"}'
    response = client.post(
        "/api/v1/persons", content=big, headers={**tenant.headers, "content-type": "application/json"}
    )
    _assert_problem(response, 413, "payload_too_large")


def test_an_oversized_chunked_body_is_413(client: TestClient, tenant: Tenant) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b"x" * 8192

    response = client.post(
        "/api/v1/persons", content=chunks(), headers={**tenant.headers, "content-type": "application/json"}
    )
    _assert_problem(response, 413, "payload_too_large")


def test_a_chunked_json_body_is_read(client: TestClient, tenant: Tenant) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"name": "Chunked",'
        yield b' "email": "chunked@example.com"}'

    response = client.post(
        "/api/v1/persons", content=chunks(), headers={**tenant.headers, "content-type": "application/json"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Chunked"


def test_garbage_content_length_is_400(client: TestClient) -> None:
    from starlette.types import Message

    received: list[Message] = []

    async def call() -> None:
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/api/v1/persons",
            "raw_path": b"/api/v1/persons",
            "query_string": b"",
            "headers": [(b"content-length", b"12abc"), (b"content-type", b"application/json")],
            "http_version": "1.1",
            "scheme": "http",
            "server": ("t", 80),
            "client": ("c", 1),
            "root_path": "",
        }

        async def receive() -> Message:
            return {"type": "http.request", "body": b"{}", "more_body": False}

        async def send(message: Message) -> None:
            received.append(message)

        await client.app(scope, receive, send)  # type: ignore[arg-type]

    import anyio

    anyio.run(call)
    assert received[0]["status"] == 400


@pytest.mark.parametrize("value", ["abc-123-def-456", "req_custom_id_0001"])
def test_a_sane_client_request_id_is_echoed(client: TestClient, value: str) -> None:
    assert client.get("/healthz", headers={"X-Request-Id": value}).headers["x-request-id"] == value


def test_an_unsafe_client_request_id_is_replaced(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-Id": "bad id with spaces and\ttabs"})
    assert response.headers["x-request-id"].startswith("req_")


def test_readiness_reports_the_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"


def test_the_31_document_is_served(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.1.")


def test_truncated_multipart_is_a_4xx_problem(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/api/v1/tracks",
        content=b'--xyz\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{"title": "x"}\r\n--xy',
        headers={**tenant.headers, "content-type": "multipart/form-data; boundary=xyz"},
    )
    # Upload bodies are parsed as a stream (server.openapi.multipart): one cut off before its closing boundary is
    # malformed, never read as an empty form.
    body = _assert_problem(response, 400, "malformed_multipart")
    assert "closing boundary" in str(body["detail"])


def test_multipart_without_a_boundary_is_400(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/api/v1/tracks", content=b"garbage", headers={**tenant.headers, "content-type": "multipart/form-data"}
    )
    _assert_problem(response, 400, "malformed_multipart")


def test_log_lines_are_json_and_carry_the_request_id(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    import json
    import logging

    from server.logs import JsonFormatter

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    logger = logging.getLogger("og.access")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    try:
        # The formatter reads the request id while the request is being handled; format inside the emit.
        formatted: list[dict[str, object]] = []
        handler.emit = lambda record: formatted.append(json.loads(JsonFormatter().format(record)))  # type: ignore[method-assign]
        response = client.get("/healthz")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
    access = [line for line in formatted if line["logger"] == "og.access"]
    assert access
    assert access[-1]["request_id"] == response.headers["x-request-id"]
    assert access[-1]["status"] == 200
    assert access[-1]["path"] == "/healthz"
