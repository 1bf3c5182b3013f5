"""The request machinery behind every resource method: authentication, idempotency keys, retries, typed errors.

The generated resource namespaces (`_generated/api/<tag>/__init__.py`) build each request with the generated
`_get_kwargs` and parse success bodies with the generated `_parse_response`; everything between lives here.
"""

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from og_records._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    error_for,
)
from og_records._generated.client import Client as _ParserClient
from og_records._retry import delay_before_retry, should_retry

if TYPE_CHECKING:
    from og_records._client import AsyncOGRecords, OGRecords, _Options

T = TypeVar("T")
IDEMPOTENCY_HEADER = "Idempotency-Key"
OPERATION_EXTENSION = "og_records.operation_id"
_PARSER = _ParserClient(base_url="", raise_on_unexpected_status=False)


def build_request(
    http: httpx.Client | httpx.AsyncClient,
    options: "_Options",
    kwargs: dict[str, Any],
    *,
    operation_id: str,
    authenticated: bool,
    idempotent: bool,
) -> httpx.Request:
    arguments = dict(kwargs)
    headers: dict[str, str] = {**options.default_headers, **arguments.pop("headers", {})}
    if idempotent and IDEMPOTENCY_HEADER not in headers:
        # One key for every try of this call: a retry after a lost response replays the first result.
        headers[IDEMPOTENCY_HEADER] = f"og-py-{uuid.uuid4()}"
    if authenticated and options.api_key is not None:
        headers["Authorization"] = f"Bearer {options.api_key}"
    return http.build_request(
        url=options.base_url + arguments.pop("url"),
        headers=headers,
        timeout=options.timeout,
        extensions={OPERATION_EXTENSION: operation_id},
        **arguments,
    )


def parse(response: httpx.Response, parser: Callable[..., object], model: type[T]) -> T:
    try:
        parsed = parser(client=_PARSER, response=response)
    except (ValueError, KeyError, TypeError) as exc:
        raise APIResponseValidationError(response, f"Could not read the {model.__name__} in the response") from exc
    if not isinstance(parsed, model):
        raise APIResponseValidationError(response, f"Expected a {model.__name__}, got {type(parsed).__name__}")
    return parsed


class SyncAPIResource:
    def __init__(self, client: "OGRecords") -> None:
        self._client = client

    def _request_raw(
        self, kwargs: dict[str, Any], *, operation_id: str, authenticated: bool, idempotent: bool
    ) -> httpx.Response:
        client = self._client
        options = client._options
        request = build_request(
            client._http, options, kwargs, operation_id=operation_id, authenticated=authenticated, idempotent=idempotent
        )
        auth = options.auth if authenticated and options.auth is not None else None
        retries_done = 0
        while True:
            try:
                response = client._http.send(request, auth=auth) if auth else client._http.send(request)
            except httpx.TimeoutException as exc:
                if retries_done >= options.max_retries:
                    raise APITimeoutError(request=request) from exc
                headers = None
            except httpx.TransportError as exc:
                if retries_done >= options.max_retries:
                    raise APIConnectionError(request=request) from exc
                headers = None
            else:
                if response.is_success or response.is_redirect:
                    return response
                if retries_done >= options.max_retries or not should_retry(response):
                    raise error_for(response)
                headers = response.headers
                response.close()
            time.sleep(delay_before_retry(retries_done, headers))
            retries_done += 1

    def _request(
        self,
        kwargs: dict[str, Any],
        parser: Callable[..., object],
        model: type[T],
        *,
        operation_id: str,
        authenticated: bool,
        idempotent: bool,
    ) -> T:
        response = self._request_raw(
            kwargs, operation_id=operation_id, authenticated=authenticated, idempotent=idempotent
        )
        return parse(response, parser, model)


class AsyncAPIResource:
    def __init__(self, client: "AsyncOGRecords") -> None:
        self._client = client

    async def _request_raw(
        self, kwargs: dict[str, Any], *, operation_id: str, authenticated: bool, idempotent: bool
    ) -> httpx.Response:
        client = self._client
        options = client._options
        request = build_request(
            client._http, options, kwargs, operation_id=operation_id, authenticated=authenticated, idempotent=idempotent
        )
        auth = options.auth if authenticated and options.auth is not None else None
        retries_done = 0
        while True:
            try:
                response = await (client._http.send(request, auth=auth) if auth else client._http.send(request))
            except httpx.TimeoutException as exc:
                if retries_done >= options.max_retries:
                    raise APITimeoutError(request=request) from exc
                headers = None
            except httpx.TransportError as exc:
                if retries_done >= options.max_retries:
                    raise APIConnectionError(request=request) from exc
                headers = None
            else:
                if response.is_success or response.is_redirect:
                    return response
                if retries_done >= options.max_retries or not should_retry(response):
                    await response.aread()
                    raise error_for(response)
                headers = response.headers
                await response.aclose()
            await asyncio.sleep(delay_before_retry(retries_done, headers))
            retries_done += 1

    async def _request(
        self,
        kwargs: dict[str, Any],
        parser: Callable[..., object],
        model: type[T],
        *,
        operation_id: str,
        authenticated: bool,
        idempotent: bool,
    ) -> T:
        response = await self._request_raw(
            kwargs, operation_id=operation_id, authenticated=authenticated, idempotent=idempotent
        )
        return parse(response, parser, model)
