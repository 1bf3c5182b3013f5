"""A request uvicorn's HTTP parser refuses (a raw non-ASCII byte or a space in the URL, a control character) gets a
problem+json 400 `invalid_http_request`, like every other refusal, instead of uvicorn's plain text (issue 23 #6).
Both of uvicorn's parsers, through a real socket: such requests cannot be sent with an HTTP client library."""

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from server.http_protocol import ProblemH11Protocol, ProblemHttpToolsProtocol, protocol
from server.problems import ERROR_DOCS_BASE
from tests.conftest import free_port


async def _app(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]


@pytest.fixture(params=[ProblemHttpToolsProtocol, ProblemH11Protocol], ids=["httptools", "h11"])
def port(request: pytest.FixtureRequest) -> Iterator[int]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(_app, host="127.0.0.1", port=port, http=request.param, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield port
    server.should_exit = True
    thread.join(10)


def raw_request(port: int, target: bytes) -> tuple[str, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, value in (line.split(":", 1) for line in lines)}
    return status, headers, body


@pytest.mark.parametrize(
    "target", [b"/api/v1/persons?q=caf\xc3\xa9", b"/api/v1/caf\xc3\xa9", b"/api/v1/persons?q=a b", b"/x?q=\x7f"]
)
def test_an_unparseable_request_gets_a_problem_document(port: int, target: bytes) -> None:
    status, headers, body = raw_request(port, target)
    assert status.startswith("HTTP/1.1 400")
    assert headers["content-type"] == "application/problem+json"
    assert int(headers["content-length"]) == len(body)
    problem = json.loads(body)
    assert problem["code"] == "invalid_http_request"
    assert problem["type"] == ERROR_DOCS_BASE + "invalid_http_request"
    assert problem["status"] == 400
    assert problem["request_id"] == headers["x-request-id"]


def test_a_percent_encoded_target_still_reaches_the_app(port: int) -> None:
    status, _, body = raw_request(port, b"/api/v1/persons?q=caf%C3%A9")
    assert status.startswith("HTTP/1.1 200")
    assert body == b"ok"


def test_the_server_uses_the_problem_protocol_of_the_installed_parser() -> None:
    assert protocol() == "server.http_protocol:ProblemHttpToolsProtocol"  # httptools comes with uvicorn[standard]


def test_invalid_http_request_is_in_the_error_catalogue() -> None:
    from server.openapi import specification

    assert specification.raw_document()["x-error-codes"]["invalid_http_request"]["status"] == 400
