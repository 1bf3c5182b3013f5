"""Driving the short-path middleware (server/openapi/fast_reads.py) directly, with connexion replaced by a stand-in."""

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Next:
    """Stands for connexion: records whether the short path handed the request on, and the body it then read."""

    def __init__(self) -> None:
        self.called = False
        self.body = b""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.called = True
        while True:
            message = await receive()
            self.body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        await send({"type": "http.response.start", "status": 599, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def run(
    middleware: ASGIApp, method: str, path: str, headers: dict[str, str], *, query: bytes = b"", body: bytes = b""
) -> int:
    """The status the middleware answers with (599: handed on to `Next`); the body arrives in three pieces, as a
    client may send it."""
    scope: Scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query,
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    statuses: list[int] = []
    pieces = [body[:3], body[3:7], body[7:]]
    messages: list[Message] = [
        {"type": "http.request", "body": piece, "more_body": i < len(pieces) - 1} for i, piece in enumerate(pieces)
    ]

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    asyncio.run(middleware(scope, receive, send))
    return statuses[0]
