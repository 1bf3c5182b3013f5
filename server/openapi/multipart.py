"""Streaming multipart/form-data: file parts go straight to the file store, never whole into memory.

connexion's stock multipart validator collects every message of the body to replay it to the handler, so a
500 MB upload would sit in memory. Operations whose multipart schema has a binary property are parsed here instead,
as the body arrives, with python-multipart's streaming parser: each file part is written to a staged file of the
file store (hashed on the way), the small non-file parts are kept and validated against the schema. The result is
left in the ASGI scope for the handler (`parsed_upload()`); the handler sees an empty form.
"""

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

from connexion.context import scope as current_scope
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import Receive, Scope

from server import storage, strict_json
from server.openapi.schema_validation import field_errors
from server.problems import ApiProblem, FieldError, validation_failed
from server.storage import StagedFile

SCOPE_KEY = "og.multipart"
MAX_FIELD_BYTES = 64 * 1024  # a non-file part (the `metadata` JSON) is small
MAX_BYTES_EXTENSION = "x-og-max-bytes"  # per file part limit, declared on the binary property in the spec


@dataclass
class FilePart:
    name: str
    filename: str | None
    declared_type: str | None
    staged: StagedFile


@dataclass
class ParsedUpload:
    fields: dict[str, Any] = field(default_factory=dict)
    files: dict[str, FilePart] = field(default_factory=dict)

    def discard(self) -> None:
        """Deletes staged files nobody committed (safe to call after some were committed: they moved away)."""
        for part in self.files.values():
            part.staged.discard()


def is_binary(schema: dict[str, Any]) -> bool:
    return schema.get("format") == "binary" or "contentMediaType" in schema


def streams_files(schema: dict[str, Any]) -> bool:
    return any(is_binary(p) for p in schema.get("properties", {}).values())


def parsed_upload() -> ParsedUpload | None:
    """The streamed multipart body of the current request, or None if it was not multipart."""
    extensions = current_scope.get("extensions") or {}
    parsed = extensions.get(SCOPE_KEY)
    return parsed if isinstance(parsed, ParsedUpload) else None


class _Collector:
    """python-multipart callbacks that route each part's bytes to a staged file or a small buffer."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.properties: dict[str, Any] = schema.get("properties", {})
        self.result = ParsedUpload()
        self.errors: list[FieldError] = []
        self.ended = False
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._name: str | None = None
        self._buffer: bytearray | None = None
        self._file: StagedFile | None = None
        self._limit = 0
        self.problem: ApiProblem | None = None

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": self.header_field,
            "on_header_value": self.header_value,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
            "on_end": self.end,
        }

    def part_begin(self) -> None:
        self._headers = {}
        self._name = None
        self._buffer = None
        self._file = None

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field = b""
        self._header_value = b""

    def headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if disposition != b"form-data" or b"name" not in options:
            raise ApiProblem(400, "malformed_multipart", "A part lacks a 'Content-Disposition: form-data; name=…'.")
        name = options[b"name"].decode("utf-8", "replace")
        self._name = name
        schema = self.properties.get(name)
        if name in self.result.files or name in self.result.fields:
            self.errors.append(FieldError("duplicate_part", f"/{name}", f"The part '{name}' is sent more than once."))
            return
        if schema is None:
            self.errors.append(FieldError("additional_property", f"/{name}", f"Unknown part '{name}'."))
            return
        if is_binary(schema):
            filename = options.get(b"filename")
            content_type = self._headers.get(b"content-type")
            staged = storage.store().stage()
            self.result.files[name] = FilePart(
                name,
                filename.decode("utf-8", "replace") if filename else None,
                content_type.decode("latin-1") if content_type else None,
                staged,
            )
            self._file = staged
            self._limit = int(schema.get(MAX_BYTES_EXTENSION, 0))
        else:
            self._buffer = bytearray()

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self._file is not None:
            self._file.write(data[start:end])
            if self._limit and self._file.size > self._limit:
                raise ApiProblem(
                    413, "payload_too_large", f"The '{self._name}' file exceeds {self._limit} bytes.", part=self._name
                )
        elif self._buffer is not None:
            self._buffer += data[start:end]
            if len(self._buffer) > MAX_FIELD_BYTES:
                raise ApiProblem(413, "payload_too_large", f"The '{self._name}' part exceeds {MAX_FIELD_BYTES} bytes.")

    def part_end(self) -> None:
        if self._file is not None:
            self._file.close()
        elif self._buffer is not None and self._name is not None:
            self.result.fields[self._name] = self._decode_field(self._name, bytes(self._buffer))
        self._file = None
        self._buffer = None

    def _decode_field(self, name: str, raw: bytes) -> Any:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ApiProblem(400, "invalid_encoding", f"The '{name}' part is not valid UTF-8.") from exc
        schema = self.properties.get(name, {})
        if schema.get("type") in ("object", "array") or "$ref" in schema or "allOf" in schema:
            try:
                return strict_json.loads(text)
            except strict_json.StrictJSONError as exc:
                raise ApiProblem(400, "malformed_json", f"The '{name}' part is not acceptable JSON: {exc}.") from exc
        return text

    def end(self) -> None:
        self.ended = True


async def parse_streaming(stream: AsyncGenerator[bytes, None], scope: Scope, schema: dict[str, Any]) -> ParsedUpload:
    """Parses and validates the body; on any failure the staged files are removed and the problem raised."""
    _, options = parse_options_header(Headers(scope=scope).get("content-type", ""))
    boundary = options.get(b"boundary")
    if not boundary:
        raise ApiProblem(400, "malformed_multipart", "The multipart Content-Type lacks a boundary.")
    collector = _Collector(schema)
    parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in stream:
            if chunk:
                parser.write(chunk)
        parser.finalize()
        if not collector.ended:
            raise ApiProblem(400, "malformed_multipart", "The multipart body ends before its closing boundary.")
        _validate(collector, schema)
    except MultipartParseError as exc:
        collector.result.discard()
        raise ApiProblem(400, "malformed_multipart", f"The multipart body could not be parsed: {exc}.") from exc
    except OSError as exc:
        collector.result.discard()
        if storage.is_full(exc):
            # Disk full (issue 23 #7): the staged part is removed and the client told to come back, not a 500.
            raise ApiProblem(
                503,
                "storage_full",
                "The file store has no space left for this upload; nothing was stored. Retry later.",
                headers={"Retry-After": str(storage.FULL_RETRY_AFTER_SECONDS)},
            ) from exc
        raise
    except BaseException:
        collector.result.discard()
        raise
    return collector.result


# The text parts' schema of each operation's multipart schema (keyed by identity, holding the source so its id
# cannot be reused). Built once: a new dict per request also compiled a new validator per request, and the
# validator cache keeps each one (issue 22: the server grew by about 86 KB per upload, 400 MB in a benchmark run).
_TEXT_SCHEMAS: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}


def _text_schema(schema: dict[str, Any]) -> dict[str, Any]:
    cached = _TEXT_SCHEMAS.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    properties = schema.get("properties", {})
    text_schema = dict(schema)
    text_schema["properties"] = {k: v for k, v in properties.items() if not is_binary(v)}
    text_schema["required"] = [k for k in schema.get("required", []) if not is_binary(properties.get(k, {}))]
    text_schema["additionalProperties"] = True  # unknown parts were reported while parsing
    _TEXT_SCHEMAS[id(schema)] = (schema, text_schema)
    return text_schema


def _validate(collector: _Collector, schema: dict[str, Any]) -> None:
    properties = schema.get("properties", {})
    errors = list(collector.errors) + field_errors(_text_schema(schema), collector.result.fields)
    for name in schema.get("required", []):
        if is_binary(properties.get(name, {})) and name not in collector.result.files:
            errors.append(FieldError("required", f"/{name}", f"The file part '{name}' is required."))
    for name, part in collector.result.files.items():
        if part.staged.size == 0:
            errors.append(FieldError("empty_file", f"/{name}", f"The file part '{name}' is empty."))
    if errors:
        raise validation_failed(errors)


def replace_body(scope: Scope, parsed: ParsedUpload) -> tuple[Receive, Scope]:
    """The scope and receive channel the handler sees: the parse result in the scope, an empty form body."""
    _, options = parse_options_header(Headers(scope=scope).get("content-type", ""))
    body = b"--" + options[b"boundary"] + b"--\r\n"
    new_scope = dict(scope)
    new_scope["headers"] = list(scope["headers"])
    MutableHeaders(scope=new_scope)["content-length"] = str(len(body))
    new_scope["extensions"] = {**(scope.get("extensions") or {}), SCOPE_KEY: parsed}
    sent = False

    async def receive() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive, new_scope
