"""The request machinery behind every resource method: authentication, idempotency keys, retries, typed errors,
per-request options, keyword-argument bodies and raw responses.

The generated resource classes (`_generated/api/<tag>/__init__.py`) build each request with the generated
`_get_kwargs` and parse success bodies with the generated `_parse_response`; everything between lives here.
"""

import asyncio
import functools
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, cast

import attrs
import httpx

from og_records._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    error_for,
)
from og_records._generated.client import Client as _ParserClient
from og_records._generated.types import UNSET, Unset
from og_records._retry import delay_before_retry, should_retry

if TYPE_CHECKING:
    from og_records._client import AsyncOGRecords, OGRecords, _Options

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")
IDEMPOTENCY_HEADER = "Idempotency-Key"
OPERATION_EXTENSION = "og_records.operation_id"
_PARSER = _ParserClient(base_url="", raise_on_unexpected_status=False)


def request_id_of(response: httpx.Response) -> str | None:
    value = response.headers.get("x-request-id")
    return str(value) if value is not None else None


class APIResponse(Generic[R]):
    """What a `with_raw_response` method answers: the HTTP response and the object the plain method returns.

    `client.persons.with_raw_response.create(name="Mara")` → `.status_code`, `.headers`, `.request_id`, `.parse()`.
    """

    def __init__(self, http_response: httpx.Response, parsed: R) -> None:
        self.http_response = http_response
        self._parsed = parsed

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def request_id(self) -> str | None:
        """The `X-Request-Id` the API gave this request: quote it when you contact support."""
        return request_id_of(self.http_response)

    @property
    def url(self) -> httpx.URL:
        return self.http_response.url

    def parse(self) -> R:
        """The parsed body, as the plain method returns it."""
        return self._parsed

    def json(self) -> Any:
        return self.http_response.json()

    def __repr__(self) -> str:
        return f"<APIResponse [{self.status_code}] {self.request_id or ''}>".replace(" >", ">")


# The responses of the calls made inside a `with_raw_response` wrapper (a list per wrapped call; None outside one).
_CAPTURED: ContextVar[list[httpx.Response] | None] = ContextVar("og_records_captured", default=None)


def to_raw_response_wrapper(method: Callable[P, R]) -> Callable[P, APIResponse[R]]:
    @functools.wraps(method)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> APIResponse[R]:
        captured: list[httpx.Response] = []
        token = _CAPTURED.set(captured)
        try:
            parsed = method(*args, **kwargs)
        finally:
            _CAPTURED.reset(token)
        return APIResponse(captured[0], parsed)

    return wrapped


def async_to_raw_response_wrapper(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[APIResponse[R]]]:
    @functools.wraps(method)
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> APIResponse[R]:
        captured: list[httpx.Response] = []
        token = _CAPTURED.set(captured)
        try:
            parsed = await method(*args, **kwargs)  # a list's AsyncPaginator, awaited: its first page
        finally:
            _CAPTURED.reset(token)
        return APIResponse(captured[0], parsed)

    return wrapped


def _capture(response: httpx.Response) -> None:
    captured = _CAPTURED.get()
    if captured is not None:
        captured.append(response)


B = TypeVar("B")


def only_body(body: B, fields: dict[str, Any]) -> B:
    """The `body=` a caller passed, refusing keyword arguments beside it (which one should win is anyone's guess)."""
    given = [name for name, value in fields.items() if not isinstance(value, Unset)]
    if given:
        raise TypeError(f"pass either body= or keyword arguments ({', '.join(given)}), not both")
    return body


def body_from(model: Callable[..., B], fields: dict[str, Any]) -> B:
    """The request body built from a call's keyword arguments (`persons.create(name=…)` → `PersonCreate(name=…)`)."""
    given = {name: value for name, value in fields.items() if not isinstance(value, Unset)}
    missing = [
        field.name
        for field in attrs.fields(cast(Any, model))  # the generated models are attrs classes
        if field.init and field.default is attrs.NOTHING and field.name not in given
    ]
    if missing:
        name = cast(Any, model).__name__
        raise TypeError(f"missing required keyword argument(s) for {name}: {', '.join(missing)} (or pass body=)")
    return model(**given)


def optional_body_from(model: Callable[..., B], fields: dict[str, Any]) -> B | Unset:
    """`body_from` for an operation whose body may be left out: no keyword arguments, no body."""
    if all(isinstance(value, Unset) for value in fields.values()):
        return UNSET
    return body_from(model, fields)


def build_request(
    http: httpx.Client | httpx.AsyncClient,
    options: "_Options",
    kwargs: dict[str, Any],
    *,
    operation_id: str,
    authenticated: bool,
    idempotent: bool,
    extra_headers: Mapping[str, str] | None = None,
) -> httpx.Request:
    arguments = dict(kwargs)
    headers: dict[str, str] = {**options.default_headers, **arguments.pop("headers", {}), **(extra_headers or {})}
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
    if hasattr(parsed, "_request_id"):
        object.__setattr__(parsed, "_request_id", request_id_of(response))
    return parsed


def _per_request(options: "_Options", timeout: float | httpx.Timeout | None, max_retries: int | None) -> "_Options":
    if timeout is None and max_retries is None:
        return options
    if max_retries is not None and max_retries < 0:
        raise ValueError("max_retries must be 0 or more")
    return replace(
        options,
        max_retries=options.max_retries if max_retries is None else max_retries,
        timeout=options.timeout
        if timeout is None
        else (timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)),
    )


class SyncAPIResource:
    def __init__(self, client: "OGRecords") -> None:
        self._client = client

    def _request_raw(
        self,
        kwargs: dict[str, Any],
        *,
        operation_id: str,
        authenticated: bool,
        idempotent: bool,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
    ) -> httpx.Response:
        client = self._client
        options = _per_request(client._options, timeout, max_retries)
        request = build_request(
            client._http,
            options,
            kwargs,
            operation_id=operation_id,
            authenticated=authenticated,
            idempotent=idempotent,
            extra_headers=extra_headers,
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
                    _capture(response)
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
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
    ) -> T:
        response = self._request_raw(
            kwargs,
            operation_id=operation_id,
            authenticated=authenticated,
            idempotent=idempotent,
            extra_headers=extra_headers,
            timeout=timeout,
            max_retries=max_retries,
        )
        return parse(response, parser, model)


class AsyncAPIResource:
    def __init__(self, client: "AsyncOGRecords") -> None:
        self._client = client

    async def _request_raw(
        self,
        kwargs: dict[str, Any],
        *,
        operation_id: str,
        authenticated: bool,
        idempotent: bool,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,  # noqa: ASYNC109 (httpx's per-try timeout, as in the sync twin)
        max_retries: int | None = None,
    ) -> httpx.Response:
        client = self._client
        options = _per_request(client._options, timeout, max_retries)
        request = build_request(
            client._http,
            options,
            kwargs,
            operation_id=operation_id,
            authenticated=authenticated,
            idempotent=idempotent,
            extra_headers=extra_headers,
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
                    _capture(response)
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
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,  # noqa: ASYNC109 (httpx's per-try timeout)
        max_retries: int | None = None,
    ) -> T:
        response = await self._request_raw(
            kwargs,
            operation_id=operation_id,
            authenticated=authenticated,
            idempotent=idempotent,
            extra_headers=extra_headers,
            timeout=timeout,
            max_retries=max_retries,
        )
        return parse(response, parser, model)
