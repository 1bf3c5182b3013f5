"""Building JSON responses.

Handlers return these rather than bare dicts: every operation declares both application/json and
application/problem+json responses, and connexion cannot pick a media type for a bare dict then (it answers 500).
"""

import json
from typing import Any

from connexion.lifecycle import ConnexionResponse

from server.request_context import request_id_var


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=status,
        body=json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(),
        content_type="application/json",
        # Set here as well as by the outer middleware, so response validation sees the declared header.
        headers={"X-Request-Id": request_id_var.get(), **(headers or {})},
    )


def redirect_response(location: str, headers: dict[str, str] | None = None) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=302,
        body=b"",
        headers={
            "X-Request-Id": request_id_var.get(),
            "Location": location,
            "Cache-Control": "no-store",
            **(headers or {}),
        },
    )


def no_content() -> ConnexionResponse:
    """`204 No Content` (a deletion): no body, no content type."""
    return ConnexionResponse(status_code=204, body=b"", headers={"X-Request-Id": request_id_var.get()})
