"""connexion validators that speak JSON Schema 2020-12 and answer with our problem documents.

Plugged in through connexion's documented `validator_map`. Besides the dialect, they fix what fuzzing found in the
stock ones: a body that is not UTF-8, malformed JSON, malformed multipart and bad parameter types now answer 4xx
problem+json (never 500), and every failing field is reported at once with a pointer.
"""

import json
from collections.abc import AsyncGenerator, Callable
from typing import Any

from connexion.context import scope as current_scope
from connexion.datastructures import MediaTypeDict
from connexion.exceptions import NonConformingResponseBody
from connexion.lifecycle import ConnexionRequest
from connexion.validators import (
    AbstractRequestBodyValidator,
    AbstractResponseBodyValidator,
    FormDataValidator,
    MultiPartFormDataValidator,
    TextResponseBodyValidator,
)
from connexion.validators import ParameterValidator as ConnexionParameterValidator
from starlette.datastructures import Headers
from starlette.types import Receive, Scope

from server import strict_json
from server.openapi import multipart
from server.openapi.schema_validation import field_errors
from server.problems import ApiProblem, DomainError, FieldError, validation_failed


class ParameterValidator(ConnexionParameterValidator):  # type: ignore[misc]
    """Validates path, query, header and cookie parameters, collecting every failure."""

    def validate_request(self, request: ConnexionRequest) -> None:
        errors: list[FieldError] = []
        sources: dict[str, Callable[[dict[str, Any]], Any]] = {
            "query": lambda p: request.query_params.get(p["name"]),
            "path": lambda p: request.path_params.get(p["name"].replace("-", "_")),
            "header": lambda p: _coerce_header(p, request.headers.get(p["name"])),
            "cookie": lambda p: request.cookies.get(p["name"]),
        }
        for location, read in sources.items():
            for param in self.parameters.get(location, []):
                try:
                    value = read(param)
                except DomainError:
                    raise
                except Exception as exc:  # connexion's coercion raises assorted errors on garbage input
                    errors.append(FieldError("type", f"{location}:{param['name']}", str(exc)))
                    continue
                errors.extend(_parameter_errors(location, param, value))
        if errors:
            raise validation_failed(errors)


def _coerce_header(param: dict[str, Any], value: str | None) -> Any:
    """Header values arrive as strings and connexion does not coerce them (query values it does): an integer
    header such as `webhook-timestamp` is read as one when it is one."""
    if value is not None and param.get("schema", {}).get("type") == "integer":
        stripped = value.strip()
        if stripped.lstrip("-").isdigit():
            return int(stripped)
    return value


def _parameter_errors(location: str, param: dict[str, Any], value: Any) -> list[FieldError]:
    name = f"{location}:{param['name']}"
    if value is None:
        if param.get("required"):
            return [FieldError("required", name, f"The {location} parameter '{param['name']}' is required.")]
        return []
    schema = param.get("schema", {})
    if isinstance(value, str) and schema.get("type") in ("integer", "number", "boolean"):
        # connexion leaves a value it could not coerce as the raw string; say so plainly.
        return [FieldError("type", name, f"'{value}' is not a valid {schema['type']}.")]
    return field_errors(schema, value, prefix=name)


RAW_BODY_KEY = "og.raw_body"
_NO_BODY = object()  # an empty request body, as opposed to the JSON document `null`


def raw_body() -> bytes:
    """The current request's JSON body exactly as received (the validator consumed the stream)."""
    raw = current_scope.get(RAW_BODY_KEY, b"")
    return raw if isinstance(raw, bytes) else b""


class JSONRequestBodyValidator(AbstractRequestBodyValidator):  # type: ignore[misc]
    """Parses a JSON body strictly (`server.strict_json`: UTF-8, no NaN, no duplicate keys, bounded nesting and
    numbers) and validates it against the operation's 2020-12 schema."""

    def __init__(self, *, schema: dict[str, Any], encoding: str, **kwargs: Any) -> None:
        super().__init__(schema=schema, encoding=encoding, **kwargs)

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        raw = b"".join([chunk async for chunk in stream])
        # Kept for handlers that must see the exact bytes (inbound webhook signatures; see `raw_body()`).
        scope[RAW_BODY_KEY] = raw
        if not raw:
            return _NO_BODY
        if "content-type" not in Headers(scope=scope):
            # connexion would guess JSON for validation while the handler's body binding saw no JSON (a 500):
            # a body must say what it is.
            raise ApiProblem(
                415, "unsupported_media_type", "The request has a body but no Content-Type: send application/json."
            )
        document = strict_json.loads_body(raw)
        if document is None and not self._nullable:
            # A literal `null` is a body, and not an absent one: an optional body still refuses it.
            raise validation_failed([FieldError("type", "", "null is not a valid request body.")])
        return document

    def _validate(self, body: Any) -> None:
        if body is _NO_BODY:
            if not self._required:
                return
            raise validation_failed([FieldError("required", "", "A JSON request body is required.")])
        if body is None and self._nullable:
            return
        errors = field_errors(self._schema, body)
        if errors:
            raise validation_failed(errors)


def _form_errors(validator: FormDataValidator, data: Any) -> None:
    errors = field_errors(validator._schema, data)
    if errors:
        raise validation_failed(errors)


class FormValidator(FormDataValidator):  # type: ignore[misc]
    """application/x-www-form-urlencoded bodies, validated as 2020-12."""

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        try:
            return await super()._parse(stream, scope)
        except DomainError:
            raise
        except Exception as exc:
            raise ApiProblem(400, "bad_request", f"The form body could not be parsed: {exc}.") from exc

    def _validate(self, body: Any) -> None:
        _form_errors(self, body)


class MultipartValidator(MultiPartFormDataValidator):  # type: ignore[misc]
    """multipart/form-data bodies: a malformed body is a 400 `malformed_multipart`, never a 500.

    Bodies with file parts are streamed to the file store as they arrive (`server.openapi.multipart`): the stock
    validator would keep the whole body in memory to replay it. Other multipart bodies are parsed as before.
    """

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        if not multipart.streams_files(self._schema):
            wrapped: tuple[Receive, Scope] = await super().wrap_receive(receive, scope=scope)
            return wrapped

        async def stream() -> AsyncGenerator[bytes, None]:
            more_body = True
            while more_body:
                message = await receive()
                if message["type"] != "http.request":
                    raise ApiProblem(400, "malformed_multipart", "The client disconnected during the upload.")
                more_body = message.get("more_body", False)
                yield message.get("body", b"")

        parsed = await multipart.parse_streaming(stream(), scope, self._schema)
        return multipart.replace_body(scope, parsed)

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        try:
            return await super()._parse(stream, scope)
        except DomainError:
            raise
        except Exception as exc:
            raise ApiProblem(400, "malformed_multipart", f"The multipart body could not be parsed: {exc}.") from exc

    def _validate(self, body: Any) -> None:
        schema = self._schema
        properties = schema.get("properties", {})
        data = {key: value for key, value in (body or {}).items() if not _is_binary(properties.get(key, {}))}
        trimmed = dict(schema)
        trimmed["properties"] = {k: v for k, v in properties.items() if not _is_binary(v)}
        binary = [k for k, v in properties.items() if _is_binary(v)]
        trimmed["required"] = [k for k in schema.get("required", []) if k not in binary]
        errors = field_errors(trimmed, data)
        errors += [
            FieldError("required", f"/{name}", f"The file part '{name}' is required.")
            for name in schema.get("required", [])
            if name in binary and not (body or {}).get(name)
        ]
        if errors:
            raise validation_failed(errors)


def _is_binary(schema: dict[str, Any]) -> bool:
    return schema.get("format") == "binary" or "contentMediaType" in schema


class JSONResponseBodyValidator(AbstractResponseBodyValidator):  # type: ignore[misc]
    """Checks responses against the spec (switched on in tests and development with OG_VALIDATE_RESPONSES)."""

    def _parse(self, stream: Any) -> Any:
        body = b"".join(stream).decode(self._encoding)
        if not body:
            return None
        try:
            return json.loads(body)
        except json.JSONDecodeError as exc:
            raise NonConformingResponseBody(str(exc)) from exc

    def _validate(self, body: Any) -> None:
        errors = field_errors(self._schema, body)
        if errors:
            summary = "; ".join(f"{e.pointer or '/'}: {e.detail}" for e in errors[:5])
            raise NonConformingResponseBody(detail=f"Response body does not conform to the spec: {summary}")


VALIDATOR_MAP: dict[str, Any] = {
    "parameter": ParameterValidator,
    "body": MediaTypeDict(
        {
            "*/*json": JSONRequestBodyValidator,
            "application/x-www-form-urlencoded": FormValidator,
            "multipart/form-data": MultipartValidator,
        }
    ),
    "response": MediaTypeDict(
        {
            "*/*json": JSONResponseBodyValidator,
            "text/plain": TextResponseBodyValidator,
        }
    ),
}
