"""Building JSON responses.

Handlers return these rather than bare dicts: every operation declares both application/json and
application/problem+json responses, and connexion cannot pick a media type for a bare dict then (it answers 500).
"""

import json
from typing import Any

from connexion.lifecycle import ConnexionResponse

from server.request_context import request_id_var
from server.web.consent import security_headers


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=status,
        body=json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(),
        content_type="application/json",
        # Set here as well as by the outer middleware, so response validation sees the declared header.
        headers={"X-Request-Id": request_id_var.get(), **(headers or {})},
    )


def html_response(html: str, status: int = 200, headers: dict[str, str] | None = None) -> ConnexionResponse:
    return ConnexionResponse(
        status_code=status,
        body=html.encode(),
        content_type="text/html; charset=utf-8",
        headers={
            "X-Request-Id": request_id_var.get(),
            "Cache-Control": "no-store",
            **security_headers(),  # every HTML page carries them (the OAuth pages are the only ones built here)
            **(headers or {}),
        },
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
