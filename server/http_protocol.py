"""uvicorn's HTTP/1.1 protocols with one change: a request its parser refuses (a raw non-ASCII byte or a space in
the request target, a control character, a malformed header) gets a problem+json document with the stable code
`invalid_http_request` instead of uvicorn's plain-text "Invalid HTTP request received.".

Such a request never reaches the app: both of uvicorn's parsers (httptools, h11) refuse it while reading the
request line, before there is an ASGI scope, and answer from `send_400_response`. uvicorn takes a protocol class as
its `http` setting, so overriding that one method is enough (no fork). Both implementations are covered because
uvicorn picks httptools when it is installed (uvicorn[standard], through connexion[uvicorn]) and h11 otherwise.
"""

import importlib.util
import json
import logging

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from server.ids import new_id
from server.problems import ERROR_DOCS_BASE

log = logging.getLogger("og.access")

DETAIL = (
    "The request line or a header is not valid HTTP/1.1. Percent-encode every character of the URL outside "
    "printable ASCII (RFC 3986), spaces included."
)


def problem_bytes() -> tuple[bytes, str]:
    request_id = new_id("req")
    body = {
        "type": ERROR_DOCS_BASE + "invalid_http_request",
        "title": "Invalid HTTP request",
        "status": 400,
        "detail": DETAIL,
        "code": "invalid_http_request",
        "request_id": request_id,
    }
    return json.dumps(body).encode(), request_id


class ProblemHttpToolsProtocol(HttpToolsProtocol):
    def send_400_response(self, msg: str) -> None:
        body, request_id = problem_bytes()
        log.info("invalid HTTP request: 400 invalid_http_request", extra={"status": 400, "answered_id": request_id})
        content = [b"HTTP/1.1 400 Bad Request\r\n"]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: application/problem+json\r\n",
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                b"x-request-id: " + request_id.encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()


class ProblemH11Protocol(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        body, request_id = problem_bytes()
        log.info("invalid HTTP request: 400 invalid_http_request", extra={"status": 400, "answered_id": request_id})
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode("ascii")),
            (b"x-request-id", request_id.encode("ascii")),
            (b"connection", b"close"),
        ]
        for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body)):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.write(self.conn.send(h11.EndOfMessage()) or b"")
        self.transport.close()


def protocol() -> str:
    """The `http` setting for uvicorn: as its "auto", httptools when installed, else h11."""
    if importlib.util.find_spec("httptools") is None:
        return "server.http_protocol:ProblemH11Protocol"
    return "server.http_protocol:ProblemHttpToolsProtocol"
