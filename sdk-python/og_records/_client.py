"""`OGRecords` and `AsyncOGRecords`: one object holding the credential, the connection pool and every namespace."""

import os
from dataclasses import dataclass, field, replace
from typing import Literal, Self

import httpx

from og_records._generated import surface
from og_records._generated.resources import AsyncResources, SyncResources
from og_records._version import __version__
from og_records.webhooks import Webhooks

# Defaults and environment variable names are the TypeScript SDK's too (codegen/surface.yaml).
DEFAULT_BASE_URL = surface.DEFAULT_BASE_URL
DEFAULT_TIMEOUT = httpx.Timeout(surface.DEFAULT_TIMEOUT_SECONDS, connect=surface.DEFAULT_CONNECT_TIMEOUT_SECONDS)
DEFAULT_MAX_RETRIES = surface.DEFAULT_MAX_RETRIES
API_KEY_ENV = surface.ENVIRONMENT["api_key"]
BASE_URL_ENV = surface.ENVIRONMENT["base_url"]
WEBHOOK_SECRET_ENV = surface.ENVIRONMENT["webhook_secret"]
Environment = Literal["sandbox", "production"]
_KEY_PREFIXES: dict[str, Environment] = {"og_test_": "sandbox", "og_live_": "production"}
_UNSET = object()


def environment_of(api_key: str) -> Environment:
    """The environment an API key acts on, from its prefix (`og_test_` sandbox, `og_live_` production)."""
    for prefix, environment in _KEY_PREFIXES.items():
        if api_key.startswith(prefix):
            return environment
    raise ValueError("An OG Records API key starts with og_test_ (sandbox) or og_live_ (production).")


@dataclass(frozen=True)
class _Options:
    api_key: str | None
    auth: httpx.Auth | None
    base_url: str
    max_retries: int
    timeout: httpx.Timeout
    webhook_secret: str | None
    default_headers: dict[str, str] = field(default_factory=dict)


def _options(
    *,
    api_key: str | None,
    auth: httpx.Auth | None,
    base_url: str | None,
    max_retries: int,
    timeout: float | httpx.Timeout,
    webhook_secret: str | None,
) -> _Options:
    if api_key is None and auth is None:
        api_key = os.environ.get(API_KEY_ENV)
        if api_key is None:
            raise ValueError(f"Pass api_key=, or auth= (OAuth), or set {API_KEY_ENV}.")
    if api_key is not None:
        environment_of(api_key)
    if max_retries < 0:
        raise ValueError("max_retries must be 0 or more")
    return _Options(
        api_key=api_key,
        auth=auth,
        base_url=(base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/"),
        max_retries=max_retries,
        timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        webhook_secret=webhook_secret or os.environ.get(WEBHOOK_SECRET_ENV),
        default_headers={"User-Agent": f"og-records-python/{__version__}", "Accept": "application/json"},
    )


def _with(options: _Options, max_retries: object, timeout: object) -> _Options:
    changed = options
    if max_retries is not _UNSET:
        assert isinstance(max_retries, int)
        changed = replace(changed, max_retries=max_retries)
    if timeout is not _UNSET:
        assert isinstance(timeout, float | int | httpx.Timeout)
        changed = replace(changed, timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout))
    return changed


class OGRecords(SyncResources):
    """The OG Records API client.

    `OGRecords(api_key="og_test_…")` acts on sandbox data, `og_live_…` on production. Every operation of the API is a
    method of a namespace (`client.releases.create(...)`, `client.persons.list()`); errors raise
    `og_records.APIStatusError` subclasses; retryable failures are retried `max_retries` times.
    """

    webhooks: Webhooks

    def __init__(
        self,
        api_key: str | None = None,
        *,
        auth: httpx.Auth | None = None,
        base_url: str | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        webhook_secret: str | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        options = _options(
            api_key=api_key,
            auth=auth,
            base_url=base_url,
            max_retries=max_retries,
            timeout=timeout,
            webhook_secret=webhook_secret,
        )
        self._owns_http = http_client is None
        self._setup(options, http_client or httpx.Client(follow_redirects=False))

    def _setup(self, options: _Options, http: httpx.Client) -> None:
        self._options = options
        self._http = http
        self._mount_resources(self)
        self.webhooks = Webhooks(options.webhook_secret)

    @property
    def environment(self) -> Environment | None:
        """`sandbox` or `production` for an API key; None for an OAuth token (its grant decides)."""
        return environment_of(self._options.api_key) if self._options.api_key else None

    @property
    def base_url(self) -> str:
        return self._options.base_url

    @property
    def max_retries(self) -> int:
        return self._options.max_retries

    @property
    def timeout(self) -> httpx.Timeout:
        return self._options.timeout

    def with_options(
        self, *, max_retries: int | object = _UNSET, timeout: float | httpx.Timeout | object = _UNSET
    ) -> Self:
        """A copy for one call or a group of calls, sharing the connection pool:
        `client.with_options(max_retries=5).persons.create(...)`."""
        copy = object.__new__(type(self))
        copy._owns_http = False
        copy._setup(_with(self._options, max_retries, timeout), self._http)
        return copy

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class AsyncOGRecords(AsyncResources):
    """The asyncio twin of `OGRecords`: the same namespaces, every method awaitable, lists `async for`-iterable."""

    webhooks: Webhooks

    def __init__(
        self,
        api_key: str | None = None,
        *,
        auth: httpx.Auth | None = None,
        base_url: str | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        webhook_secret: str | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        options = _options(
            api_key=api_key,
            auth=auth,
            base_url=base_url,
            max_retries=max_retries,
            timeout=timeout,
            webhook_secret=webhook_secret,
        )
        self._owns_http = http_client is None
        self._setup(options, http_client or httpx.AsyncClient(follow_redirects=False))

    def _setup(self, options: _Options, http: httpx.AsyncClient) -> None:
        self._options = options
        self._http = http
        self._mount_resources(self)
        self.webhooks = Webhooks(options.webhook_secret)

    @property
    def environment(self) -> Environment | None:
        return environment_of(self._options.api_key) if self._options.api_key else None

    @property
    def base_url(self) -> str:
        return self._options.base_url

    @property
    def max_retries(self) -> int:
        return self._options.max_retries

    @property
    def timeout(self) -> httpx.Timeout:
        return self._options.timeout

    def with_options(
        self, *, max_retries: int | object = _UNSET, timeout: float | httpx.Timeout | object = _UNSET
    ) -> Self:
        copy = object.__new__(type(self))
        copy._owns_http = False
        copy._setup(_with(self._options, max_retries, timeout), self._http)
        return copy

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()
