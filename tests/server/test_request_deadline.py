"""The per-request deadline (server.middleware.RequestDeadlineMiddleware): a safety net above the database's own
timeouts. A request that has not begun its response in time gets 503 request_timeout with Retry-After; a response
under way and uploads are never cut."""

import asyncio

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from server.middleware import RequestDeadlineMiddleware

pytestmark = pytest.mark.anyio


async def _never_answers(scope: Scope, receive: Receive, send: Send) -> None:
    await asyncio.Event().wait()


async def _slow_download(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    for part in (b"a", b"b", b"c"):
        await asyncio.sleep(0.2)  # each pause longer than the deadline below
        await send({"type": "http.response.body", "body": part, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


def _client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")  # type: ignore[arg-type]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_a_request_without_an_answer_gets_503_request_timeout() -> None:
    app = RequestDeadlineMiddleware(_never_answers, seconds=0.05)
    async with _client(app) as client:
        response = await client.get("/api/v1/persons")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["code"] == "request_timeout"
    assert response.json()["instance"] == "/api/v1/persons"


async def test_a_response_under_way_is_not_cut() -> None:
    app = RequestDeadlineMiddleware(_slow_download, seconds=0.05)
    async with _client(app) as client:
        response = await client.get("/download")
    assert response.status_code == 200
    assert response.text == "abc"


async def test_uploads_are_not_cut() -> None:
    async def slow_upload(scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.sleep(0.2)
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = RequestDeadlineMiddleware(slow_upload, seconds=0.05, upload_paths=["/api/v1/tracks/{track_id}/audio"])
    async with _client(app) as client:
        response = await client.post("/api/v1/tracks/trk_1/audio", content=b"x")
    assert response.status_code == 201


def test_request_timeout_is_in_the_error_catalogue() -> None:
    from server.openapi import specification

    assert specification.raw_document()["x-error-codes"]["request_timeout"]["status"] == 503
