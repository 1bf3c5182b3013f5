"""Per-request values that logs and error bodies need, without threading them through every call."""

import re
from contextvars import ContextVar

from server.ids import new_id

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

# A client-supplied id is echoed only if it is short and plain, so it cannot inject into logs or headers.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def choose_request_id(client_value: str | None) -> str:
    if client_value and _SANE_REQUEST_ID.match(client_value):
        return client_value
    return new_id("req")
