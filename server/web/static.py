"""Static files of the pages (`server/web/static/`): one stylesheet, the vendored htmx, icons.

URLs carry a content hash (`/static/og.css?v=1a2b3c4d`), so a file can be cached for a year and a changed file is
fetched at once. The files are read once per process; the set is small.
"""

import hashlib
import mimetypes
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

ROOT = Path(__file__).resolve().parent / "static"
PREFIX = "/static"
ROUTES: dict[str, list[str]] = {f"{PREFIX}/{{name}}": ["GET"]}
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}


@cache
def _file(name: str) -> tuple[bytes, str] | None:
    path = (ROOT / name).resolve()
    if path.parent != ROOT or not path.is_file():
        return None
    body = path.read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:16]


def url(name: str) -> str:
    found = _file(name)
    if found is None:
        raise LookupError(f"no static file {name!r}")
    return f"{PREFIX}/{name}?v={found[1]}"


async def serve(request: Request) -> Response:
    name = str(request.path_params["name"])
    found = _file(name)
    if found is None:
        return Response("Not found", status_code=404, media_type="text/plain; charset=utf-8")
    body, digest = found
    etag = f'"{digest}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=31536000, immutable" if request.query_params.get("v") else "no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    suffix = Path(name).suffix
    media_type = _TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return Response(body, media_type=media_type, headers=headers)
