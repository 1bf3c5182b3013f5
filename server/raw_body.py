"""The request body exactly as it arrived, for handlers that verify a signature over it (inbound webhooks).

connexion parses and validates the body before the handler runs and hands the handler the parsed document; the
bytes a sender signed are gone by then. This middleware copies the body as it streams past (it is read anyway, and
the size limit is enforced outside it) into a per-request buffer the handler reads with `raw_body()`.
"""

from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_body: ContextVar[bytearray | None] = ContextVar("og_raw_body", default=None)


def raw_body() -> bytes:
    buffer = _body.get()
    if buffer is None:
        raise RuntimeError("raw_body() outside a path the RawBodyMiddleware captures")
    return bytes(buffer)


class RawBodyMiddleware:
    def __init__(self, app: ASGIApp, *, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        buffer = bytearray()
        token = _body.set(buffer)

        async def capturing_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                buffer.extend(message.get("body", b""))
            return message

        try:
            await self.app(scope, capturing_receive, send)
        finally:
            _body.reset(token)
