"""Every error family carries status, problem code, detail, field errors and the request id."""

import os

import httpx
import pytest
from og_records import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    OGRecords,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from og_records.models import PersonCreate


def test_a_wrong_key_is_an_authentication_error(base_url: str) -> None:
    with (
        OGRecords(api_key="og_test_" + "x" * 32, base_url=base_url) as client,
        pytest.raises(AuthenticationError) as caught,
    ):
        client.persons.list()
    assert caught.value.status == 401
    assert caught.value.code
    assert caught.value.request_id


def test_a_missing_scope_is_a_permission_error(base_url: str) -> None:
    key = os.environ["OG_SDK_TEST_READONLY_KEY"]
    with OGRecords(api_key=key, base_url=base_url) as client, pytest.raises(PermissionDeniedError) as caught:
        client.persons.create(body=PersonCreate(name="No Scope", email="noscope@example.com"))
    assert caught.value.status == 403


def test_an_invalid_body_lists_every_failing_field(client: OGRecords) -> None:
    with pytest.raises((UnprocessableEntityError, BadRequestError)) as caught:
        client.persons.create(body=PersonCreate(name="", email="not-an-email"))
    error = caught.value
    assert error.status in {400, 422}
    assert error.errors, "field errors are carried"
    assert all(field.pointer and field.code for field in error.errors)
    assert error.request_id
    assert error.request_id in str(error)


def _client(handler: httpx.MockTransport, **options: object) -> OGRecords:
    return OGRecords(
        api_key="og_test_abc", base_url="https://api.test", http_client=httpx.Client(transport=handler), **options
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "family"),
    [
        (400, BadRequestError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (503, InternalServerError),
    ],
)
def test_each_status_maps_to_its_family(status: int, family: type[Exception]) -> None:
    problem = {
        "type": "about:blank",
        "title": "t",
        "status": status,
        "code": "some_code",
        "detail": "what went wrong",
        "request_id": "req_123",
        "errors": [{"code": "too_short", "pointer": "/name", "detail": "too short"}],
    }
    transport = httpx.MockTransport(lambda request: httpx.Response(status, json=problem))
    with _client(transport, max_retries=0) as client, pytest.raises(family) as caught:
        client.persons.get("per_x")
    error = caught.value
    assert (error.status, error.code, error.detail, error.request_id) == (
        status,
        "some_code",
        "what went wrong",
        "req_123",
    )  # type: ignore[attr-defined]
    assert error.errors[0].pointer == "/name"  # type: ignore[attr-defined]


def test_no_answer_is_a_connection_error_and_a_slow_one_a_timeout() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    def stall(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with _client(httpx.MockTransport(refuse), max_retries=0) as client, pytest.raises(APIConnectionError) as refused:
        client.system.health()
    assert not isinstance(refused.value, APITimeoutError)
    with _client(httpx.MockTransport(stall), max_retries=0) as client, pytest.raises(APITimeoutError):
        client.system.health()
