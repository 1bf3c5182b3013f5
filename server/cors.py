"""Cross-origin access (CORS): which routes a web page on another origin may call from the browser.

The policy (docs/reliability.md, "CORS"): the bearer-token API — `/api/v1/…`, the OAuth token and revocation
endpoints (a single-page app is a public client with PKCE), OAuth discovery and `/openapi.json` — answers any origin
(`Access-Control-Allow-Origin: *`) and never allows credentials. A bearer token is not ambient: a page on another
origin can only send a token it already holds, so `*` gives it nothing it does not have. Everything authenticated
by a cookie (the dashboard, sign-in, the OAuth consent page) and the server-to-server receivers (`/webhooks/…`,
`/oauth/introspect`) get no CORS headers at all, so browsers keep them same-origin; no route ever answers
`Access-Control-Allow-Credentials`, which would let another origin act with the user's session.
"""

import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CROSS_ORIGIN_PATHS = re.compile(
    r"^(/api/v1/.*|/oauth/token|/oauth/revoke|/\.well-known/oauth-authorization-server|/openapi\.json)$"
)
ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE"
ALLOW_HEADERS = "Authorization, Content-Type, Accept, Idempotency-Key, X-Request-Id"
# The response headers the API documents: a script on another origin may read them.
EXPOSE_HEADERS = (
    "X-Request-Id, Retry-After, Location, Idempotent-Replayed, RateLimit, RateLimit-Policy, "
    "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"
)
MAX_AGE = "600"  # seconds a browser may cache a preflight's answer


def cross_origin(path: str) -> bool:
    return CROSS_ORIGIN_PATHS.match(path) is not None


class CorsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not cross_origin(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if "origin" not in headers:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [
                        (b"access-control-allow-origin", b"*"),
                        (b"access-control-allow-methods", ALLOW_METHODS.encode()),
                        (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
                        (b"access-control-max-age", MAX_AGE.encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                response_headers["Access-Control-Allow-Origin"] = "*"
                response_headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_cors)
