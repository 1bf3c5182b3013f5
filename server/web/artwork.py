"""Cover derivatives at content-addressed URLs (`/artwork/<sha256>.jpg|webp`), for smart-link pages and previews.

The name is the SHA-256 of the bytes, so a URL can never show other bytes: cached for a year, `immutable`. Only
derivatives are served here (`server.services.artwork`), never an uploaded master.
"""

import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from server.db.engine import session_scope
from server.domain import artwork as artwork_names
from server.services import artwork
from server.storage import store

ROUTES: dict[str, list[str]] = {"/artwork/{name}": ["GET"]}
_NAME = re.compile(r"^(?P<sha256>[0-9a-f]{64})\.(?P<ext>jpg|webp)$")
_FORMAT_OF = {"jpg": "jpeg", "webp": "webp"}
IMMUTABLE = "public, max-age=31536000, immutable"


def _bytes(sha256: str, image_format: str) -> bytes | None:
    with session_scope() as session:
        row = artwork.by_name(session, sha256, image_format)
        key = None if row is None else row.storage_key
    if key is None or not store().exists(key):
        return None
    with store().open(key) as handle:
        return handle.read()  # at most a few hundred KB: a 1200 px derivative


async def serve(request: Request) -> Response:
    match = _NAME.match(str(request.path_params["name"]))
    if match is None:
        return Response("Not found", status_code=404, media_type="text/plain; charset=utf-8")
    sha256, image_format = match["sha256"], _FORMAT_OF[match["ext"]]
    headers = {"ETag": f'"{sha256}"', "Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff"}
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    body = await run_in_threadpool(_bytes, sha256, image_format)
    if body is None:
        return Response("Not found", status_code=404, media_type="text/plain; charset=utf-8")
    return Response(body, media_type=artwork_names.media_type(image_format), headers=headers)
