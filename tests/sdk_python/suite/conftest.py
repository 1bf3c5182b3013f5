"""Fixtures of the SDK suite: the live server, its keys, and clients that record which operations they called."""

import json
import os
from collections.abc import AsyncIterator, Callable, Iterator
from typing import get_args

import httpx
import pytest
from og_records import AsyncOGRecords, OGRecords
from og_records.models import ApiKeyCreate, ApiKeyScope

CALLED: set[str] = set()


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run this suite through tests/sdk_python/test_sdk_wheel.py")
    return value


def _record(response: httpx.Response) -> None:
    operation = response.request.extensions.get("og_records.operation_id")
    # An operation counts as called when the server handled it (not a 501 `not_implemented`, not a crash).
    if isinstance(operation, str) and response.status_code < 500:
        CALLED.add(operation)


async def _arecord(response: httpx.Response) -> None:
    _record(response)


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("OG_SDK_TEST_COVERAGE_FILE")
    if target:
        with open(target, "w") as handle:
            json.dump(sorted(CALLED), handle)


@pytest.fixture(scope="session")
def base_url() -> str:
    return _env("OG_SDK_TEST_BASE_URL")


@pytest.fixture(scope="session")
def api_key() -> str:
    return _env("OG_SDK_TEST_API_KEY")


@pytest.fixture
def client(base_url: str, api_key: str) -> Iterator[OGRecords]:
    http = httpx.Client(event_hooks={"response": [_record]})
    with OGRecords(api_key=api_key, base_url=base_url, http_client=http) as sdk:
        yield sdk
    http.close()


@pytest.fixture(scope="module")
def own_key_client(base_url: str, api_key: str) -> Iterator[OGRecords]:
    """A client on an API key of its own (created through the SDK, every scope), for a module that makes many
    requests: sandbox rate limits are per key, so it cannot spend the budget the rest of the suite shares."""
    http = httpx.Client(event_hooks={"response": [_record]})
    with OGRecords(api_key=api_key, base_url=base_url, http_client=http) as owner:
        key = owner.api_keys.create(body=ApiKeyCreate(name="SDK suite: own budget", scopes=list(get_args(ApiKeyScope))))
    with OGRecords(api_key=key.secret, base_url=base_url, http_client=http) as sdk:
        yield sdk
    http.close()


@pytest.fixture
def recording_http() -> Iterator[Callable[[], httpx.Client]]:
    """Makes httpx clients (each with its own cookie jar, like a browser) whose requests count as called operations."""
    opened: list[httpx.Client] = []

    def new() -> httpx.Client:
        opened.append(httpx.Client(event_hooks={"response": [_record]}))
        return opened[-1]

    yield new
    for http in opened:
        http.close()


@pytest.fixture
async def async_client(base_url: str, api_key: str) -> AsyncIterator[AsyncOGRecords]:
    http = httpx.AsyncClient(event_hooks={"response": [_arecord]})
    async with AsyncOGRecords(api_key=api_key, base_url=base_url, http_client=http) as sdk:
        yield sdk
    await http.aclose()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
