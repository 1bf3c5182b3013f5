"""The short path for plain JSON writes (`POST /api/v1/webhook-endpoints` and its kind), beside connexion.

Why: for a write, connexion's pipeline (two route lookups, six routed middlewares, the request built twice, the
signature inspected and the parameters decorated, the response wrapped) cost about a third of the request's CPU —
`POST /api/v1/webhook-endpoints` spent ≈ 1.5 ms against its bare twin's ≈ 0.9 (issue 22). The short path for reads
(`server.openapi.fast_reads`, docs/adr/0003) left writes out because of their bodies; this module takes the writes
whose whole input is their path and a JSON body, and serves their happy path.

What keeps the two paths one contract is the reads' rule: serve only what is certain, hand everything else to
connexion untouched. A write is served here only if the caller's bearer credential is valid and has the scopes
(the rate limiter already resolved it), there is no query string and no `Idempotency-Key` (replays, and the stored
answer, are the idempotency middleware's), and the body is `application/json` that the strict parser accepts
(`server.strict_json`, as connexion's body validator here parses it) and that passes the operation's schema with
the same validator (`field_errors`). Anything else — a malformed, duplicate-keyed, empty or `null` body, a schema
error, another media type — goes to connexion with the body replayed as it came,
so every 400, 401, 403, 409, 415 and 422 is still worded in one place. The handler runs in the thread pool, as
connexion runs it (a write may wait for SQLite's writer), and gets the body exactly as connexion would pass it: the
parsed document. tests/server/test_fast_writes.py compares both paths response for response.
"""

import re
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers
from starlette.types import Message, Receive

from server import strict_json
from server.openapi.schema_validation import field_errors
from server.problems import ApiProblem

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# `application/json`, with at most a UTF-8 charset: what connexion's JSON validator takes without a second thought.
_JSON_MEDIA_TYPE = re.compile(r'application/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?', re.IGNORECASE)
# The only header parameter a short-path write may declare: when it is sent, connexion's side answers.
IDEMPOTENCY_KEY = "idempotency-key"


@dataclass(frozen=True)
class WriteShape:
    """What the short path needs to know of a write beyond a read's route: its method and its body's schema."""

    method: str
    body_schema: dict[str, Any] | None  # None: the operation takes no body


def write_shape(
    resolved: dict[str, Any], method: str, item: dict[str, Any], operation: dict[str, Any]
) -> tuple[WriteShape, set[str]] | None:
    """The write's shape and its handler's parameter names, if the short path may serve it; None otherwise.

    Served: bearer security (a public write, an inbound webhook or OAuth, reads the request itself), parameters in
    the path only (besides `Idempotency-Key`), and no body or a body of `application/json` only (a multipart upload
    is streamed by connexion's side)."""
    parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
    if any(
        p.get("in") != "path" and not (p.get("in") == "header" and p.get("name", "").lower() == IDEMPOTENCY_KEY)
        for p in parameters
    ):
        return None
    if not operation.get("security", resolved.get("security", [])):
        return None
    names = {p["name"] for p in parameters if p.get("in") == "path"}
    request_body = operation.get("requestBody")
    if request_body is None:
        return WriteShape(method.upper(), None), names
    content = request_body.get("content", {})
    if set(content) != {"application/json"} or "schema" not in content["application/json"]:
        return None
    return WriteShape(method.upper(), content["application/json"]["schema"]), names | {"body"}


class HandOffError(Exception):
    """The request is not for the short path after all: connexion answers it, with the body replayed."""


async def read_json_body(
    shape: WriteShape, scope_headers: Headers, receive: Receive, received: list[Message]
) -> tuple[bytes, Any] | None:
    """The body as received and its document if the short path may serve it (None: the operation takes no body),
    else HandOffError. Every message read is kept in `received` (in order), so connexion can be given the request
    exactly as it came.

    A body larger than the guard allows raises the guard's ApiProblem from `receive`, as it would inside connexion."""
    if shape.body_schema is None:
        return None  # connexion does not read a body the operation does not declare, and neither does this path
    if not _JSON_MEDIA_TYPE.fullmatch(scope_headers.get("content-type", "")):
        raise HandOffError
    chunks: list[bytes] = []
    while True:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request":
            raise HandOffError  # a disconnect: connexion's side sees it as it would have
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    raw = b"".join(chunks)
    if not raw:
        raise HandOffError
    try:
        document = strict_json.loads_body(raw)
    except ApiProblem as refused:
        raise HandOffError from refused
    if document is None or field_errors(shape.body_schema, document):
        raise HandOffError
    return raw, document


def replaying(received: list[Message], receive: Receive) -> Receive:
    """`receive` that first gives back what the short path already read."""
    pending = list(received)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
